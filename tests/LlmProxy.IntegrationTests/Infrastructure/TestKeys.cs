using LlmProxy.Auth;

namespace LlmProxy.IntegrationTests.Infrastructure;

/// <summary>Virtual keys used by the tests, and the provider secret the tests must never see leak.</summary>
public static class TestKeys
{
    public const string Alpha = "sk-test-alpha-0123456789";
    public const string Beta = "sk-test-beta-0123456789";
    public const string ProviderSecret = "sk-provider-secret-9f8e7d6c5b4a";
    public const string ProviderSecretVariable = "LLMPROXY_TEST_PROVIDER_KEY";

    public static readonly string AlphaHash = KeyTable.HashForConfig(Alpha);
    public static readonly string BetaHash = KeyTable.HashForConfig(Beta);

    static TestKeys() => Environment.SetEnvironmentVariable(ProviderSecretVariable, ProviderSecret);

    /// <summary>Makes sure the provider secret's variable is set before a config references it.</summary>
    public static string ProviderKeyReference => "env:" + ProviderSecretVariable;
}

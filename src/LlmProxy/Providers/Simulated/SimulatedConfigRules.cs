using LlmProxy.Configuration;

namespace LlmProxy.Providers.Simulated;

/// <summary>The config rules of a <c>simulated</c> provider.</summary>
internal static class SimulatedConfigRules
{
    /// <summary>Largest allowed simulated delay, in milliseconds (one minute).</summary>
    public const int MaxDelayMs = 60_000;

    /// <summary>Adds the errors of a simulated provider's settings.</summary>
    public static void Validate(string path, ProviderConfig provider, List<string> errors)
    {
        if (provider.BaseUrl is not null)
        {
            errors.Add($"{path}.base_url: a simulated provider has no base_url (it runs inside the gateway)");
        }

        if (provider.ApiKey is not null)
        {
            errors.Add($"{path}.api_key: a simulated provider takes no credential");
        }

        var simulation = provider.Simulation ?? new SimulationSettings();
        if (simulation.TtftMs is < 0 or > MaxDelayMs)
        {
            errors.Add($"{path}.simulation.ttft_ms: must be between 0 and {MaxDelayMs}");
        }

        if (simulation.InterTokenMs is < 0 or > MaxDelayMs)
        {
            errors.Add($"{path}.simulation.inter_token_ms: must be between 0 and {MaxDelayMs}");
        }

        if (simulation.ErrorRate is < 0 or > 1 || double.IsNaN(simulation.ErrorRate))
        {
            errors.Add($"{path}.simulation.error_rate: must be between 0 and 1");
        }

        if (simulation.ErrorStatus is < 400 or > 599)
        {
            errors.Add($"{path}.simulation.error_status: must be an HTTP error status (400-599)");
        }

        if (simulation.RetryAfterSeconds is < 0 or > (int)ConfigValidator.MaxTimeoutSeconds)
        {
            errors.Add($"{path}.simulation.retry_after_seconds: must be between 0 and {(int)ConfigValidator.MaxTimeoutSeconds}");
        }

        if (simulation.DefaultMaxTokens is < 1 or > 100_000)
        {
            errors.Add($"{path}.simulation.default_max_tokens: must be between 1 and 100000");
        }

        if (simulation.EmbeddingDimensions is < 1 or > SimulatorEndpoints.MaxEmbeddingDimensions)
        {
            errors.Add($"{path}.simulation.embedding_dimensions: must be between 1 and {SimulatorEndpoints.MaxEmbeddingDimensions}");
        }
    }
}

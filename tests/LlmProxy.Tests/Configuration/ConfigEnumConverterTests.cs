using System.Text.Json;
using LlmProxy.Configuration;

namespace LlmProxy.Tests.Configuration;

/// <summary>
/// The config enums keep the config's strings: each value reads and writes as its <c>[JsonStringEnumMemberName]</c>, and
/// the names used for metric labels and logs are those same strings.
/// </summary>
public sealed class ConfigEnumConverterTests
{
    public static TheoryData<object, string> Names => new()
    {
        { AuthMode.Keys, "keys" },
        { AuthMode.None, "none" },
        { RedisFailurePolicy.FailOpen, "fail-open" },
        { RedisFailurePolicy.FailClosed, "fail-closed" },
        { StructuredOutputPolicy.Annotate, "annotate" },
        { StructuredOutputPolicy.Reject, "reject" },
        { StructuredOutputPolicy.Retry, "retry" },
        { StructuredOutputStreamMode.PassThrough, "pass-through" },
        { StructuredOutputStreamMode.Buffer, "buffer" },
        { StructuredOutputRetryTarget.Next, "next" },
        { StructuredOutputRetryTarget.Same, "same" },
        { BalancingStrategy.Weighted, "weighted" },
        { BalancingStrategy.RoundRobin, "round_robin" },
        { BalancingStrategy.LeastInFlight, "least_in_flight" },
        { BalancingStrategy.Latency, "latency" },
    };

    [Theory]
    [MemberData(nameof(Names))]
    public void Serialize_ConfigEnumValue_WritesTheConfigString(object value, string name)
    {
        Assert.Equal($"\"{name}\"", JsonSerializer.Serialize(value, value.GetType()));
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Deserialize_ConfigString_ReadsTheValue(object value, string name)
    {
        Assert.Equal(value, JsonSerializer.Deserialize($"\"{name}\"", value.GetType()));
    }

    [Fact]
    public void Names_EveryConfigEnumValue_IsListed()
    {
        Type[] enums = [typeof(AuthMode), typeof(RedisFailurePolicy), typeof(StructuredOutputPolicy), typeof(StructuredOutputStreamMode), typeof(StructuredOutputRetryTarget), typeof(BalancingStrategy)];

        var listed = Names.Select(static row => row[0]).ToHashSet();

        Assert.All(enums.SelectMany(static t => Enum.GetValues(t).Cast<object>()), value => Assert.Contains(value, listed));
    }

    [Fact]
    public void Deserialize_OtherCaseOrNumber_FailsWithTheChoices()
    {
        var upper = Assert.ThrowsAny<JsonException>(() => JsonSerializer.Deserialize<StructuredOutputPolicy>("\"Retry\""));
        var number = Assert.ThrowsAny<JsonException>(() => JsonSerializer.Deserialize<StructuredOutputPolicy>("2"));

        Assert.Equal("must be 'annotate', 'reject' or 'retry', not 'Retry'", upper.Message);
        Assert.Equal("must be 'annotate', 'reject' or 'retry'", number.Message);
    }

    [Fact]
    public void Name_EveryStructuredOutputPolicy_IsItsConfigString()
    {
        Assert.All(Enum.GetValues<StructuredOutputPolicy>(), p => Assert.Equal(JsonSerializer.Serialize(p), $"\"{p.Name()}\""));
    }

    [Fact]
    public void Name_EveryRedisFailurePolicy_IsItsConfigString()
    {
        Assert.All(Enum.GetValues<RedisFailurePolicy>(), p => Assert.Equal(JsonSerializer.Serialize(p), $"\"{p.Name()}\""));
    }

    [Theory]
    [InlineData("annotate", true, StructuredOutputPolicy.Annotate)]
    [InlineData("reject", true, StructuredOutputPolicy.Reject)]
    [InlineData("retry", true, StructuredOutputPolicy.Retry)]
    [InlineData("Retry", false, StructuredOutputPolicy.Annotate)]
    [InlineData("", false, StructuredOutputPolicy.Annotate)]
    [InlineData(null, false, StructuredOutputPolicy.Annotate)]
    public void TryParse_HeaderValue_AcceptsOnlyTheConfigStrings(string? value, bool known, StructuredOutputPolicy expected)
    {
        Assert.Equal(known, StructuredOutputPolicies.TryParse(value, out var policy));
        Assert.Equal(expected, policy);
    }
}

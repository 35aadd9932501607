namespace LlmProxy.Telemetry;

/// <summary>Receives every finished request's <see cref="UsageRecord"/>. Called on the request's thread: keep it cheap.</summary>
public interface IUsageSink
{
    /// <summary>Records one request.</summary>
    void Record(UsageRecord record);
}

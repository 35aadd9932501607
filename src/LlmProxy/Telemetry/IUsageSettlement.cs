namespace LlmProxy.Telemetry;

/// <summary>
/// Something a stage reserved for a request that must be settled against the request's usage record when the
/// request ends (rate-limit reservations). Called exactly once, with null when no record could be built.
/// </summary>
public interface IUsageSettlement
{
    /// <summary>Settles against the finished request's record.</summary>
    void Settle(UsageRecord? record);
}

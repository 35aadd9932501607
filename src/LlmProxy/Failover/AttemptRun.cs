using LlmProxy.Configuration;
using LlmProxy.Hosting;
using LlmProxy.Routing;
using Microsoft.Extensions.Primitives;
using Yarp.ReverseProxy.Model;

namespace LlmProxy.Failover;

/// <summary>The attempt loop's bookkeeping for one client request (kept apart from the request state: only the loop reads it).</summary>
internal sealed class AttemptRun
{
    public AttemptRun(LlmRequestFeature feature, FailoverPlan plan, IReadOnlyList<DestinationState> destinations, KeyValuePair<string, StringValues>[] headers,
        CancellationToken clientAborted)
    {
        Feature = feature;
        Primary = feature.Model!;
        Plan = plan;
        ModelDestinations = destinations;
        Destinations = destinations;
        Headers = headers;
        ClientAborted = clientAborted;
        ClientBody = feature.Body;
        ClientRequest = feature.Request;
    }

    /// <summary>The request's state.</summary>
    public LlmRequestFeature Feature { get; }

    /// <summary>The model the client asked for: its deadline and fallbacks hold for the whole request.</summary>
    public ModelRoute Primary { get; }

    /// <summary>The budget of the model being tried.</summary>
    public FailoverPlan Plan { get; private set; }

    /// <summary>The destinations of the model being tried, as YARP had them (health applied).</summary>
    public IReadOnlyList<DestinationState> ModelDestinations { get; private set; }

    /// <summary>The destinations the next attempt may use.</summary>
    public IReadOnlyList<DestinationState> Destinations { get; set; }

    /// <summary>The response headers the stages before set (request id, rate-limit headers), put back for every attempt.</summary>
    public KeyValuePair<string, StringValues>[] Headers { get; }

    /// <summary>The client's own cancellation.</summary>
    public CancellationToken ClientAborted { get; }

    /// <summary>The client's body, as read.</summary>
    public ArraySegment<byte> ClientBody { get; }

    /// <summary>What was read from the client's body.</summary>
    public LlmRequestInfo ClientRequest { get; }

    /// <summary>Destinations of the current model that failed in this request (made on the first failure).</summary>
    public List<string> Tried => _tried ??= new(2);

    private List<string>? _tried;

    /// <summary>True when <paramref name="destinationId"/> failed in this request on the current model.</summary>
    public bool WasTried(string destinationId) => _tried is not null && _tried.Contains(destinationId);

    /// <summary>Attempts on the current model so far.</summary>
    public int OnModel { get; set; } = 1;

    /// <summary>True when the last attempt ended on the loop's own timer.</summary>
    public bool TimedOut { get; set; }

    /// <summary>The next of <see cref="FailoverPlan.Fallbacks"/> to try.</summary>
    public int FallbackIndex;

    /// <summary>The next of <see cref="FailoverPlan.ContextWindowFallbacks"/> to try.</summary>
    public int ContextFallbackIndex;

    /// <summary>Moves on to a fallback model and its destinations.</summary>
    public void StartModel(ModelRoute model, IReadOnlyList<DestinationState> destinations)
    {
        Plan = model.Failover;
        ModelDestinations = destinations;
        _tried?.Clear();
        OnModel = 0;
    }
}

using Yarp.ReverseProxy.Forwarder;

namespace LlmProxy.Failover;

/// <summary>What an attempt's outcome means for the next one.</summary>
internal static class AttemptClassifier
{
    /// <summary>
    /// Classifies the attempt just made. <paramref name="timedOut"/> is true when the attempt loop's own timer (first
    /// byte or deadline) ended it; <paramref name="invalidAnswer"/> when the answer broke its schema and may be asked again.
    /// </summary>
    public static AttemptOutcome Classify(bool clientGone, bool started, bool cut, bool timedOut, bool invalidAnswer, ForwarderError forwarderError, UpstreamFailure? failure)
    {
        if (clientGone)
        {
            return AttemptOutcome.ClientGone;
        }

        if (cut)
        {
            return AttemptOutcome.Cut;
        }

        if (started)
        {
            // Something reached the client: the attempt is the answer (a stream cut after this point ends with an error event).
            return AttemptOutcome.Answered;
        }

        if (invalidAnswer)
        {
            return AttemptOutcome.InvalidAnswer;
        }

        if (timedOut)
        {
            return AttemptOutcome.TimedOut;
        }

        if (failure is not null)
        {
            return failure.TargetRefused ? AttemptOutcome.Unsupported : OfStatus(failure.ProviderStatus, failure.Code);
        }

        return forwarderError switch
        {
            ForwarderError.None => AttemptOutcome.Answered,
            ForwarderError.RequestTimedOut => AttemptOutcome.TimedOut,
            ForwarderError.Request or ForwarderError.RequestCreation or ForwarderError.ResponseHeaders or ForwarderError.ResponseBodyDestination
                or ForwarderError.ResponseBodyCanceled or ForwarderError.NoAvailableDestinations or ForwarderError.RequestBodyDestination => AttemptOutcome.Unreachable,
            _ => AttemptOutcome.Refused,
        };
    }

    /// <summary>The outcome of a provider's error status and code.</summary>
    public static AttemptOutcome OfStatus(int status, string? code) => status switch
    {
        429 => AttemptOutcome.Throttled,
        408 or 500 or 502 or 503 or 504 or 529 => AttemptOutcome.ServerError,
        400 when code is "context_length_exceeded" => AttemptOutcome.ContextWindow,
        _ => AttemptOutcome.Refused,
    };

    /// <summary>The outcome as a metric label.</summary>
    public static string Label(AttemptOutcome outcome) => outcome switch
    {
        AttemptOutcome.Answered => "answered",
        AttemptOutcome.ClientGone => "client_gone",
        AttemptOutcome.InvalidAnswer => "invalid_answer",
        AttemptOutcome.Throttled => "throttled",
        AttemptOutcome.ServerError => "server_error",
        AttemptOutcome.Unreachable => "unreachable",
        AttemptOutcome.TimedOut => "timed_out",
        AttemptOutcome.ContextWindow => "context_window",
        AttemptOutcome.Cut => "cut",
        AttemptOutcome.Unsupported => "unsupported",
        _ => "refused",
    };
}

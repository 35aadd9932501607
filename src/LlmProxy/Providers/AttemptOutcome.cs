namespace LlmProxy.Providers;

/// <summary>How one attempt (pick a target, forward, read the answer) ended, as the attempt loop sees it.</summary>
internal enum AttemptOutcome
{
    /// <summary>The client has its answer (or its error from the gateway): no more attempts.</summary>
    Done,

    /// <summary>The answer failed structured-output validation under <c>retry</c> and nothing of it reached the client: ask again.</summary>
    Retry,

    /// <summary>The provider failed (no answer, a 429 or a 5xx): the client gets that error; failing over on it is not done yet.</summary>
    Failed,
}

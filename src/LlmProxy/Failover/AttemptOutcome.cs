namespace LlmProxy.Failover;

/// <summary>How one attempt (pick a target, forward, read the answer) ended, as the attempt loop sees it.</summary>
internal enum AttemptOutcome
{
    /// <summary>The client has its answer, or the response has started: no more attempts.</summary>
    Answered,

    /// <summary>A stream's provider failed after part of the answer reached the client: continue it on another target.</summary>
    Cut,

    /// <summary>The client left: no more attempts.</summary>
    ClientGone,

    /// <summary>The answer broke its schema under <c>retry</c> and nothing of it reached the client: ask again.</summary>
    InvalidAnswer,

    /// <summary>The provider is rate limiting (429): another target now, or this one after its <c>Retry-After</c>.</summary>
    Throttled,

    /// <summary>The provider failed (500, 502, 503, 504, 529, 408): another target, or this one after a backoff.</summary>
    ServerError,

    /// <summary>No answer: the connection failed or was reset, or closed before the body.</summary>
    Unreachable,

    /// <summary>No response headers within the first-byte timeout (or the deadline): another target, never this one again.</summary>
    TimedOut,

    /// <summary>The prompt is too long for the model (<c>context_length_exceeded</c>): a context-window fallback, if any.</summary>
    ContextWindow,

    /// <summary>The target's translator cannot take the request (for example embeddings on an Anthropic target): another target may.</summary>
    Unsupported,

    /// <summary>The request itself was refused (400, 401, 403, 404, 413, 422, a content policy): never sent again unchanged.</summary>
    Refused,
}

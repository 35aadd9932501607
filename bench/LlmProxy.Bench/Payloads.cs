using System.Text;

namespace LlmProxy.Bench;

/// <summary>The fixed bodies the client sends and the fake upstream answers with (all about 1 KB).</summary>
internal static class Payloads
{
    /// <summary>The public model name the client asks for (LlmProxy maps it to <see cref="UpstreamModel"/>).</summary>
    public const string PublicModel = "bench-model";

    /// <summary>
    /// An alias of <see cref="PublicModel"/> only in the failover setting, so that the driver can tell that setting
    /// from metering on (<c>GET /v1/models/{alias}</c> answers 200 only there); the client never asks for it.
    /// </summary>
    public const string FailoverAlias = "bench-model-failover";

    /// <summary>
    /// The model of the open-streams mode: its target is the fake upstream's slow variant (<see cref="SlowPrefix"/>), and
    /// it has the in-memory-limits setting's limits, as <see cref="PublicModel"/> has.
    /// </summary>
    public const string SlowModel = "bench-model-slow";

    /// <summary>
    /// Path prefix of the fake upstream's slow variant: a streamed POST under <c>/slow/</c> gets its first event at once,
    /// then one chunk every few seconds for a while (the upstream's <c>--open-streams-chunk-seconds</c> and
    /// <c>--open-streams-seconds</c>), then a finish reason, usage and <c>[DONE]</c> (<see cref="SlowStreamEvents"/>).
    /// </summary>
    public const string SlowPrefix = "/slow";

    /// <summary>The provider's model name in the LlmProxy config.</summary>
    public const string UpstreamModel = "bench-upstream-model";

    /// <summary>Target size of request and response bodies, in bytes.</summary>
    public const int TargetBodyBytes = 1024;

    private const string Filler = "The quick brown fox jumps over the lazy dog while the gateway forwards every byte. ";

    /// <summary>A non-streamed chat request: <c>{"model":"bench-model","messages":[...]}</c>, exactly 1 KB.</summary>
    public static byte[] ChatRequest { get; } = BuildRequest(stream: false);

    /// <summary>The same request with <c>"stream":true</c>.</summary>
    public static byte[] StreamingChatRequest { get; } = BuildRequest(stream: true);

    /// <summary>
    /// The streamed request of the open-streams mode, for <see cref="SlowModel"/>. It asks for the usage chunk itself
    /// (<c>stream_options.include_usage</c>), so the gateway passes that chunk on as bare YARP does and both proxies
    /// deliver the same bytes.
    /// </summary>
    public static byte[] SlowStreamingChatRequest { get; } = BuildRequest(stream: true, SlowModel, includeUsage: true);

    /// <summary>A <c>chat.completion</c> answer with usage, about 1 KB.</summary>
    public static byte[] ChatCompletion { get; } = BuildCompletion();

    /// <summary>
    /// Path prefix of the fake upstream's failing variant: <c>/fail20/v1/...</c> answers one request in five (the 5th,
    /// 10th, ...) with 503 and <see cref="ServerError"/>, the others as <c>/v1/...</c> does.
    /// </summary>
    public const string FailingPrefix = "/fail20";

    /// <summary>How many requests to <see cref="FailingPrefix"/> one 503 comes in: exactly one in this many fails.</summary>
    public const int FailEvery = 5;

    /// <summary>The failing variant's 503 body, an OpenAI-shaped error.</summary>
    public static byte[] ServerError { get; } = Encoding.UTF8.GetBytes(
        "{\"error\":{\"message\":\"The server is overloaded (the bench's failing upstream answers one request in five with 503).\"," +
        "\"type\":\"server_error\",\"param\":null,\"code\":null}}");

    /// <summary>The first server-sent event of a streamed answer.</summary>
    public static byte[] FirstStreamEvent { get; } = Event(Chunk("{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null}", "null"));

    /// <summary>The events after the first one, ending with <c>data: [DONE]</c>.</summary>
    public static byte[][] LaterStreamEvents { get; } =
    [
        Event(Chunk("{\"content\":\"Hello\"}", "null")),
        Event(Chunk("{\"content\":\" from\"}", "null")),
        Event(Chunk("{\"content\":\" the fake\"}", "null")),
        Event(Chunk("{\"content\":\" upstream.\"}", "null")),
        Event(Chunk("{}", "\"stop\"")),
        Encoding.UTF8.GetBytes("data: [DONE]\n\n"),
    ];

    /// <summary>Length of a whole streamed answer, to check that every byte arrived.</summary>
    public static int StreamLength { get; } = FirstStreamEvent.Length + LaterStreamEvents.Sum(static e => e.Length);

    /// <summary>
    /// The slow variant's stream with <paramref name="chunks"/> chunks between the first event and the finish reason: the
    /// first event (<see cref="FirstStreamEvent"/>, sent at once), the chunks (one every few seconds), the finish-reason
    /// chunk, the usage chunk and <c>data: [DONE]</c>.
    /// </summary>
    public static byte[][] SlowStreamEvents(int chunks)
        =>
        [
            FirstStreamEvent,
            .. Enumerable.Repeat(SlowChunk, chunks),
            Event(Chunk("{}", "\"stop\"")),
            Event("{\"id\":\"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG\",\"object\":\"chat.completion.chunk\",\"created\":1741570283,\"model\":\"" +
                UpstreamModel + "\",\"system_fingerprint\":\"fp_06737a9306\",\"choices\":[],\"usage\":{\"prompt_tokens\":231,\"completion_tokens\":" +
                chunks.ToString(System.Globalization.CultureInfo.InvariantCulture) + ",\"total_tokens\":" +
                (231 + chunks).ToString(System.Globalization.CultureInfo.InvariantCulture) + "}}"),
            Encoding.UTF8.GetBytes("data: [DONE]\n\n"),
        ];

    /// <summary>Chunks of a slow stream between its first event and its finish reason: one per chunk interval.</summary>
    public static int SlowStreamChunks(double seconds, double chunkSeconds) => (int)Math.Floor(seconds / chunkSeconds + 1e-9);

    private static readonly byte[] SlowChunk = Event(Chunk("{\"content\":\" tick\"}", "null"));

    private static byte[] BuildRequest(bool stream, string model = PublicModel, bool includeUsage = false)
    {
        var head = "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"system\",\"content\":\"You are a helpful assistant.\"}," +
            "{\"role\":\"user\",\"content\":\"";
        var tail = "\"}],\"temperature\":0.7" + (stream ? ",\"stream\":true" : "") +
            (includeUsage ? ",\"stream_options\":{\"include_usage\":true}" : "") + "}";
        return Encoding.UTF8.GetBytes(head + Pad(TargetBodyBytes - head.Length - tail.Length) + tail);
    }

    private static byte[] BuildCompletion()
    {
        var head = "{\"id\":\"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG\",\"object\":\"chat.completion\",\"created\":1741570283," +
            "\"model\":\"" + UpstreamModel + "\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"";
        var tail = "\",\"refusal\":null,\"annotations\":[]},\"logprobs\":null,\"finish_reason\":\"stop\"}]," +
            "\"usage\":{\"prompt_tokens\":231,\"completion_tokens\":158,\"total_tokens\":389," +
            "\"prompt_tokens_details\":{\"cached_tokens\":0,\"audio_tokens\":0}," +
            "\"completion_tokens_details\":{\"reasoning_tokens\":0,\"audio_tokens\":0,\"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}}," +
            "\"service_tier\":\"default\",\"system_fingerprint\":\"fp_06737a9306\"}";
        return Encoding.UTF8.GetBytes(head + Pad(TargetBodyBytes - head.Length - tail.Length) + tail);
    }

    private static string Chunk(string delta, string finishReason)
        => "{\"id\":\"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG\",\"object\":\"chat.completion.chunk\",\"created\":1741570283," +
            "\"model\":\"" + UpstreamModel + "\",\"system_fingerprint\":\"fp_06737a9306\",\"choices\":[{\"index\":0,\"delta\":" + delta +
            ",\"logprobs\":null,\"finish_reason\":" + finishReason + "}]}";

    private static byte[] Event(string json) => Encoding.UTF8.GetBytes("data: " + json + "\n\n");

    private static string Pad(int length)
    {
        var text = new StringBuilder(length);
        while (text.Length < length)
        {
            text.Append(Filler);
        }

        return text.ToString(0, Math.Max(0, length));
    }
}

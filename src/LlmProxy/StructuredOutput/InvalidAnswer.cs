using LlmProxy.Hosting;

namespace LlmProxy.StructuredOutput;

/// <summary>
/// An answer that failed validation under <c>retry</c> before anything of it reached the client: the response side
/// records it (<see cref="LlmRequestFeature.RetryWanted"/>) and the attempt loop asks again.
/// </summary>
/// <param name="Completion">The answer as a <c>chat.completion</c> body (a streamed one collected into one).</param>
/// <param name="Violations">What is wrong with it.</param>
internal sealed record InvalidAnswer(byte[] Completion, IReadOnlyList<Violation> Violations);

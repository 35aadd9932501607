using StackExchange.Redis;

namespace LlmProxy.RateLimiting;

/// <summary>
/// Sends admissions to Redis in batches. While no script call is out, a request is sent at once (an idle gateway sends
/// batches of one); otherwise it waits for the call to come back and goes out in the next one with every request that
/// arrived meanwhile (up to <see cref="MaxBatch"/>), so it may wait up to one round trip more. Redis still decides each request
/// atomically, so limits stay exact across replicas; a busy gateway and its Redis do one call's work per batch instead of
/// per request. Under a backlog (a full batch waiting) up to <see cref="MaxInFlightWhenFull"/> calls go out at once;
/// requests are then decided in arrival order within a call, and calls sent from two threads at once may reach Redis in
/// either order.
/// </summary>
internal sealed class AdmissionQueue
{
    /// <summary>
    /// Script calls out at once. One: Redis runs scripts one at a time anyway, and the requests that arrive during a
    /// call all go in the next. Measured at 32 connections on the bench's Redis-limits config: about 8 requests per call
    /// and 16.5 µs of redis-server CPU per request with one call out, 21 µs with two, 30 µs with four.
    /// </summary>
    public const int MaxInFlight = 1;

    /// <summary>
    /// Script calls out at once while a full batch waits: a backlog (a far Redis, or a burst) drains in several calls
    /// pipelined on the connection, which Redis still runs in order, instead of one round trip per <see cref="MaxBatch"/>.
    /// </summary>
    public const int MaxInFlightWhenFull = 4;

    /// <summary>Requests per script call at most.</summary>
    public const int MaxBatch = 64;

    private readonly Func<AdmissionBatch, Task<RedisResult>> _send;
    private readonly Lock _gate = new();
    private readonly Queue<AdmissionBatch.Pending> _waiting = new();
    private int _inFlight;

    /// <summary>Creates a queue that sends each batch with <paramref name="send"/>.</summary>
    public AdmissionQueue(Func<AdmissionBatch, Task<RedisResult>> send) => _send = send;

    /// <summary>Queues one request; the task completes with its decision, or fails with the call's error.</summary>
    public Task<LimitDecision> Enqueue(AdmissionBatch.Pending request)
    {
        lock (_gate)
        {
            _waiting.Enqueue(request);
        }

        Pump();
        return request.Decision.Task;
    }

    // Sends batches while calls may go out and requests wait.
    private void Pump()
    {
        while (TakeBatch() is { } batch)
        {
            Task<RedisResult> call;
            try
            {
                call = _send(batch);
            }
            catch (Exception ex)
            {
                // Whatever the client throws, the batch's requests get it (they take the Redis failure policy) and the
                // queue goes on: a batch that is never returned would stop every admission after it.
                batch.Fail(ex);
                Returned();
                continue;
            }

            call.ContinueWith(
                static (task, state) =>
                {
                    var (queue, sent) = ((AdmissionQueue, AdmissionBatch))state!;
                    try
                    {
                        if (task.IsCompletedSuccessfully)
                        {
                            sent.Complete(task.Result);
                        }
                        else
                        {
                            sent.Fail(task.Exception?.InnerException ?? new TaskCanceledException(task));
                        }
                    }
                    catch (Exception ex)
                    {
                        // A reply of the wrong shape (or any other fault reading it): the requests not yet answered fail
                        // like a Redis error, and the queue goes on.
                        sent.Fail(new RedisException("unexpected reply from the admission script: " + ex.GetType().Name));
                    }

                    queue.Returned();
                    queue.Pump();
                },
                (this, batch),
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }
    }

    private void Returned()
    {
        lock (_gate)
        {
            _inFlight--;
        }
    }

    // One batch of the waiting requests, in order, as far as they fit together (one hash tag: one Cluster slot).
    private AdmissionBatch? TakeBatch()
    {
        lock (_gate)
        {
            if (_waiting.Count == 0 || _inFlight >= (_waiting.Count >= MaxBatch ? MaxInFlightWhenFull : MaxInFlight))
            {
                return null;
            }

            var batch = new AdmissionBatch();
            while (batch.Count < MaxBatch && _waiting.TryPeek(out var next) && batch.Fits(next))
            {
                batch.Add(_waiting.Dequeue());
            }

            _inFlight++;
            return batch;
        }
    }
}

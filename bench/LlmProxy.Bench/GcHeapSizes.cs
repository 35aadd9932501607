namespace LlmProxy.Bench;

/// <summary>
/// The GC heap of a process right after a full blocking collection, from the runtime's <c>GCHeapStats</c> event: the
/// size of each generation (bytes), large and pinned object heaps included.
/// </summary>
internal sealed record GcHeapSizes(long Gen0, long Gen1, long Gen2, long LargeObjects, long PinnedObjects)
{
    /// <summary>Every generation together: the managed heap the process keeps after the collection.</summary>
    public long Total => Gen0 + Gen1 + Gen2 + LargeObjects + PinnedObjects;
}

namespace TeamsMediaBridge.Platform;

/// <summary>
/// Optional for a platform session (the fake platform's only, for benchmarks): told when the
/// bridge queued a render frame from the worker, before the frame waits for the bridge's next
/// tick. The real platform does not implement it and the bridge then calls nothing.
/// Called on the connection's receive loop under the session's render lock: keep it cheap.
/// </summary>
public interface IRenderArrivalObserver
{
    /// <param name="pcm">The frame as queued (valid only during the call).</param>
    /// <param name="batchSentAtUs">The worker's FrameBatch.sent_at_us (its clock, microseconds).</param>
    void OnRenderFrameQueued(ReadOnlySpan<byte> pcm, long batchSentAtUs);
}

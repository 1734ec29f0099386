namespace TeamsMediaBridge.Platform;

/// <summary>
/// Optional for a media platform (the fake platform's only, for benchmarks): told, per received
/// buffer, when the bridge's tick forwarded it to the worker. The real platform does not
/// implement it and the bridge then calls nothing. Called on the bridge's tick thread: keep it cheap.
/// </summary>
public interface ISourceForwardObserver
{
    /// <param name="bufferTimestampTicks">The received buffer's timestamp (platform clock).</param>
    /// <param name="forwardedAtTicks">The platform clock when its FrameBatch was stamped and queued.</param>
    void OnSourceFrameForwarded(long bufferTimestampTicks, long forwardedAtTicks);
}

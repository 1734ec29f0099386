namespace TeamsMediaBridge.Platform;

/// <summary>One call's audio socket on the media platform.</summary>
public interface IPlatformSession : IAsyncDisposable
{
    PlatformSessionInfo Info { get; }

    /// <summary>
    /// Hands one 640-byte PCM16K frame to the platform, stamped with the platform clock.
    /// Returns false when the platform refused it (the caller counts it). Never blocks on I/O.
    /// </summary>
    bool Send(ReadOnlySpan<byte> pcm, long timestampTicks);
}

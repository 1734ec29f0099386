using TeamsMediaBridge.Protocol;

namespace TeamsMediaBridge.Platform;

/// <summary>
/// The media platform as the bridge sees it: the real one (Microsoft.Skype.Bots.Media, Windows)
/// or the fake one (Linux, tests, benchmarks). Everything the bridge needs and nothing more.
/// </summary>
public interface IMediaPlatform : IAsyncDisposable
{
    /// <summary>Starts the platform; called once before any session is created.</summary>
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>Current health as the platform reports it.</summary>
    PlatformHealth Health { get; }

    /// <summary>Raised on a platform thread when the health changes.</summary>
    event Action<PlatformHealth, PlatformHealth>? HealthChanged;

    /// <summary>The platform's media clock, 100-ns ticks (what received buffers carry and sent buffers need).</summary>
    long GetTimestampTicks();

    /// <summary>
    /// Creates an audio socket for one call. <paramref name="events"/> may be called on platform
    /// threads from inside this call onwards; it must return fast.
    /// </summary>
    Task<IPlatformSession> CreateSessionAsync(
        PlatformSessionRequest request,
        IPlatformSessionEvents events,
        CancellationToken cancellationToken);
}

/// <summary>Audio socket settings for one call.</summary>
public sealed record PlatformSessionRequest(
    string CallId,
    Guid MediaSessionId,
    Protocol.AudioDirection Direction,
    bool UnmixedAudio);

/// <summary>The media configuration a created session produced.</summary>
public sealed record PlatformSessionInfo(
    string MediaSessionId,
    string MpUri,
    string AudioRenderContextId,
    string AudioSourceContextId,
    string SkypeMediaBotsVersion,
    string MediaStackVersion,
    string MpVersion,
    // The blob as the platform serialized it; empty when the platform has none.
    string MediaConfigurationJson);

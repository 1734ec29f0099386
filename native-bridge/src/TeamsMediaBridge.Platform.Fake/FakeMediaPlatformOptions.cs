namespace TeamsMediaBridge.Platform.Fake;

/// <summary>Sees every frame the platform accepts to send, on the bridge's clock thread (keep it cheap).</summary>
public delegate void SentFrameObserver(FakePlatformSession session, ReadOnlySpan<byte> pcm, long timestampTicks, long platformNowTicks);

public sealed class FakeMediaPlatformOptions
{
    /// <summary>How long after creation a session's send status turns ACTIVE (the real one takes a moment too).</summary>
    public TimeSpan SendActiveDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>What each session hears; called once per session with its call id. Default: a 440 Hz tone.</summary>
    public Func<string, IFakeAudioSource> SourceFactory { get; init; } = _ => new ToneSource();

    /// <summary>Service FQDN and public port, as the real platform's settings hold them (they form mpUri).</summary>
    public string ServiceFqdn { get; init; } = "media.localhost";
    public int PublicPort { get; init; } = 8445;

    /// <summary>Frames kept per session of what the bridge sent (the oldest is forgotten beyond it); 0 keeps none.</summary>
    public int RecordFrames { get; init; } = 3000;

    /// <summary>Called for every frame sent while ACTIVE (benchmarks measure latency here).</summary>
    public SentFrameObserver? OnSent { get; init; }

    /// <summary>
    /// Called once when a session ends (closed by the bridge or the platform shutting down), after
    /// its last frame: what it recorded is final. Not on the clock thread; may do I/O.
    /// </summary>
    public Action<FakePlatformSession>? OnSessionEnded { get; init; }

    /// <summary>
    /// Measure the echo round trip (benchmarks): every non-silent source frame carries a mark
    /// (its frame number in the least significant bits of its first 32 samples, see
    /// <see cref="EchoWatermark"/>), matched in the render frames the bridge hands back; readings
    /// in <see cref="FakeMediaPlatform.EchoStats"/>. Off by default: the source audio is then
    /// exactly what the source produced.
    /// </summary>
    public bool MeasureEcho { get; init; }

    /// <summary>Source id the fake call's only speaker has (as participants' mediaStreams[].sourceId).</summary>
    public uint SpeakerId { get; init; } = 1001;
}

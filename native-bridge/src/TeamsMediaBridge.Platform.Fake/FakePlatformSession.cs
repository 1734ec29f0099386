using System.Text.Json;
using TeamsMediaBridge.Protocol;

namespace TeamsMediaBridge.Platform.Fake;

/// <summary>
/// One fake audio socket: produces received buffers on the platform's tick, records what is sent,
/// and (when the platform measures echoes) marks what it produces and matches what comes back.
/// </summary>
public sealed class FakePlatformSession : IPlatformSession, IRenderArrivalObserver
{
    private readonly FakeMediaPlatform _platform;
    private readonly IPlatformSessionEvents _events;
    private readonly FakeMediaPlatformOptions _options;
    private readonly IFakeAudioSource _source;
    private readonly EchoTracker? _echo;
    private readonly long _activeAtTicks;
    private readonly byte[] _frame = new byte[AudioFrameFormat.BytesPerFrame];
    private readonly uint[] _speaker;
    private readonly UnmixedInfo[] _unmixed = new UnmixedInfo[1];
    private readonly object _recordLock = new();
    private readonly Queue<SentFrame> _recorded = new();
    private volatile bool _active;
    private volatile bool _ended;
    private int _endedOnce;
    private long _received;
    private long _sent;
    private long _discardedBeforeActive;
    private long _refused;
    private const long TicksPerMicrosecond = 10;

    /// <summary>One frame the bridge sent, as the platform got it.</summary>
    public readonly record struct SentFrame(byte[] Pcm, long TimestampTicks, long PlatformClockTicks);

    internal FakePlatformSession(FakeMediaPlatform platform, PlatformSessionRequest request, IPlatformSessionEvents events,
        FakeMediaPlatformOptions options, IFakeAudioSource source, long createdAtTicks, EchoTracker? echo = null)
    {
        _echo = echo;
        _platform = platform;
        Request = request;
        _events = events;
        _options = options;
        _source = source;
        _activeAtTicks = createdAtTicks + options.SendActiveDelay.Ticks;
        _speaker = [options.SpeakerId];
        Info = BuildInfo(request, options);
    }

    public PlatformSessionRequest Request { get; }
    public PlatformSessionInfo Info { get; }
    public bool IsEnded => _ended;
    public bool IsSendActive => _active;
    public long ReceivedBuffers => Interlocked.Read(ref _received);
    public long SentFrames => Interlocked.Read(ref _sent);
    public long DiscardedBeforeActive => Interlocked.Read(ref _discardedBeforeActive);
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>A copy of the recorded frames (the most recent <see cref="FakeMediaPlatformOptions.RecordFrames"/>).</summary>
    public SentFrame[] Recorded()
    {
        lock (_recordLock) return _recorded.ToArray();
    }

    public bool Send(ReadOnlySpan<byte> pcm, long timestampTicks)
    {
        if (_ended || pcm.Length != AudioFrameFormat.BytesPerFrame)
        {
            Interlocked.Increment(ref _refused);
            return false;
        }
        if (!_active)
        {
            // As the real platform: audio sent before the send status is ACTIVE is discarded.
            Interlocked.Increment(ref _discardedBeforeActive);
            return true;
        }
        Interlocked.Increment(ref _sent);
        long now = _platform.GetTimestampTicks();
        _echo?.OnPlayed(pcm, now / TicksPerMicrosecond);
        _options.OnSent?.Invoke(this, pcm, timestampTicks, now);
        if (_options.RecordFrames > 0)
        {
            lock (_recordLock)
            {
                if (_recorded.Count >= _options.RecordFrames) _recorded.Dequeue();
                _recorded.Enqueue(new SentFrame(pcm.ToArray(), timestampTicks, now));
            }
        }
        return true;
    }

    /// <summary>The bridge queued a render frame: the echo's arrival (only measured when the platform measures echoes).</summary>
    public void OnRenderFrameQueued(ReadOnlySpan<byte> pcm, long batchSentAtUs)
    {
        if (_echo is null) return;
        long unixUs = (DateTimeOffset.UtcNow.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;
        _echo.OnArrival(pcm, _platform.GetTimestampTicks() / TicksPerMicrosecond, unixUs - batchSentAtUs);
    }

    /// <summary>Test hooks: what the real platform raises from the call.</summary>
    public void RaiseTone(Tone tone) { if (!_ended) _events.OnToneReceived(tone, _platform.GetTimestampTicks()); }
    public void RaiseDominantSpeaker(uint speakerId) { if (!_ended) _events.OnDominantSpeakerChanged(speakerId); }
    public void RaiseMediaStreamFailure(string reason) { if (!_ended) _events.OnMediaStreamFailure(reason); }
    public void RaiseSendStatus(SendStatus status)
    {
        if (_ended) return;
        _active = status == SendStatus.Active;
        _events.OnSendStatusChanged(status);
    }

    public ValueTask DisposeAsync()
    {
        End();
        return ValueTask.CompletedTask;
    }

    internal void End()
    {
        // The bridge's close and the platform's shutdown may race: end (and report) once.
        if (Interlocked.Exchange(ref _endedOnce, 1) != 0) return;
        _ended = true;
        _platform.Remove(this);
        _options.OnSessionEnded?.Invoke(this);
    }

    internal void OnPlatformTick(long timestampTicks)
    {
        if (_ended) return;
        if (!_active && _platform.GetTimestampTicks() >= _activeAtTicks && Request.Direction != AudioDirection.RecvOnly)
        {
            _active = true;
            _events.OnSendStatusChanged(SendStatus.Active);
        }
        if (Request.Direction == AudioDirection.SendOnly) return;
        bool silence = _source.Read(_frame);
        // The mark goes on audible frames only, as the TypeScript emulator's (silence stays zeros).
        if (_echo is not null && !silence) _echo.OnSourceFrame(_frame, _platform.GetTimestampTicks() / TicksPerMicrosecond);
        _unmixed[0] = new UnmixedInfo(_options.SpeakerId, timestampTicks);
        Interlocked.Increment(ref _received);
        _events.OnAudioReceived(new ReceivedAudio
        {
            Pcm = _frame,
            TimestampTicks = timestampTicks,
            IsSilence = silence,
            ActiveSpeakers = silence ? ReadOnlySpan<uint>.Empty : _speaker,
            Unmixed = Request.UnmixedAudio && !silence ? _unmixed : ReadOnlySpan<UnmixedInfo>.Empty,
            UnmixedPcm = Request.UnmixedAudio && !silence ? _frame : ReadOnlySpan<byte>.Empty,
        });
    }

    // The blob in the real platform's key order, so consumers parse the same shape they will get in production.
    private static PlatformSessionInfo BuildInfo(PlatformSessionRequest request, FakeMediaPlatformOptions options)
    {
        string mpUri = $"net.tcp://{options.ServiceFqdn}:{options.PublicPort}/MediaProcessor";
        // A receive-only socket renders nothing and a send-only one has no source.
        string render = request.Direction is AudioDirection.RecvOnly ? "" : Guid.NewGuid().ToString("D");
        string source = request.Direction is AudioDirection.SendOnly ? "" : Guid.NewGuid().ToString("D");
        string mediaSessionId = request.MediaSessionId.ToString("D");
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WriteString("mpUri", mpUri);
            WriteContexts(json, "audioRenderContexts", render);
            json.WriteStartArray("videoRenderContexts"); json.WriteEndArray();
            WriteContexts(json, "audioSourceContexts", source);
            json.WriteStartArray("videoSourceContexts"); json.WriteEndArray();
            json.WriteNull("dataRenderContexts");
            json.WriteNull("dataSourceContexts");
            json.WriteString("supportedAudioFormat", "Pcm16K");
            json.WriteStartArray("videoSinkEncodingFormats"); json.WriteEndArray();
            json.WriteString("mpMediaSessionId", mediaSessionId);
            json.WriteNull("regionAffinity");
            json.WriteString("skypeMediaBotsVersion", FakeMediaPlatform.SkypeMediaBotsVersion);
            json.WriteString("mediaStackVersion", FakeMediaPlatform.MediaStackVersion);
            json.WriteString("mpVersion", FakeMediaPlatform.MpVersion);
            json.WriteString("callId", request.CallId);
            json.WriteEndObject();
        }
        return new PlatformSessionInfo(mediaSessionId, mpUri, render, source,
            FakeMediaPlatform.SkypeMediaBotsVersion, FakeMediaPlatform.MediaStackVersion, FakeMediaPlatform.MpVersion,
            System.Text.Encoding.UTF8.GetString(stream.ToArray()));
    }

    private static void WriteContexts(Utf8JsonWriter json, string name, string id)
    {
        json.WriteStartArray(name);
        if (id.Length > 0) json.WriteStringValue(id);
        json.WriteEndArray();
    }
}

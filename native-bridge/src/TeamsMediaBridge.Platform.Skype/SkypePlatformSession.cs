using Microsoft.Extensions.Logging;
using Microsoft.Skype.Bots.Media;
using TeamsMediaBridge.Protocol;

namespace TeamsMediaBridge.Platform.Skype;

/// <summary>
/// One audio socket, reached through the platform's own <see cref="IAudioSocket"/> (the real
/// <see cref="AudioSocket"/> needs the native media stack; tests give a scripted one), with the
/// platform clock as a delegate for the same reason. Received buffers are handed to the bridge as views over the platform's
/// memory (the bridge copies them) and always disposed; sent frames travel in
/// <see cref="NativeAudioBuffer"/>s that the platform disposes when it is done with them.
/// </summary>
internal sealed class SkypePlatformSession : IPlatformSession
{
    private readonly IAudioSocket _socket;
    private readonly IPlatformSessionEvents _events;
    private readonly ILogger _logger;
    private readonly Func<long> _platformClock;
    // The platform raises audio events one at a time per socket, so one scratch area suffices.
    private readonly byte[] _unmixedPcm = new byte[AudioFrameFormat.MaxUnmixedBuffers * AudioFrameFormat.BytesPerFrame];
    private readonly UnmixedInfo[] _unmixed = new UnmixedInfo[AudioFrameFormat.MaxUnmixedBuffers];
    private volatile bool _ended;
    private long _sendFailures;
    private PlatformSessionInfo? _info;

    public SkypePlatformSession(IAudioSocket socket, IPlatformSessionEvents events, ILogger logger, Func<long> platformClock)
    {
        _socket = socket;
        _events = events;
        _logger = logger;
        _platformClock = platformClock;
        _socket.AudioMediaReceived += OnAudioMediaReceived;
        _socket.AudioSendStatusChanged += OnAudioSendStatusChanged;
        _socket.DominantSpeakerChanged += OnDominantSpeakerChanged;
        _socket.ToneReceived += OnToneReceived;
        _socket.MediaStreamFailure += OnMediaStreamFailure;
    }

    public PlatformSessionInfo Info => _info ?? throw new InvalidOperationException("session not configured");

    internal void Configure(PlatformSessionInfo info) => _info = info;

    public bool Send(ReadOnlySpan<byte> pcm, long timestampTicks)
    {
        if (_ended || pcm.Length != AudioFrameFormat.BytesPerFrame) return false;
        var buffer = new NativeAudioBuffer(pcm, timestampTicks);
        try
        {
            _socket.Send(buffer);
            return true;
        }
        catch (Exception error)
        {
            // Freeing twice is harmless (the buffer frees once), so a half-taken buffer cannot leak.
            buffer.Dispose();
            if (Interlocked.Increment(ref _sendFailures) is 1 or 100 or 10_000)
                _logger.LogWarning(error, "AudioSocket.Send failed ({Failures} so far)", _sendFailures);
            return false;
        }
    }

    public ValueTask DisposeAsync()
    {
        if (_ended) return ValueTask.CompletedTask;
        _ended = true;
        _socket.AudioMediaReceived -= OnAudioMediaReceived;
        _socket.AudioSendStatusChanged -= OnAudioSendStatusChanged;
        _socket.DominantSpeakerChanged -= OnDominantSpeakerChanged;
        _socket.ToneReceived -= OnToneReceived;
        _socket.MediaStreamFailure -= OnMediaStreamFailure;
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }

    private unsafe void OnAudioMediaReceived(object? sender, AudioMediaReceivedEventArgs e)
    {
        var buffer = e.Buffer;
        try
        {
            if (_ended || buffer.Data == IntPtr.Zero || buffer.Length is <= 0 or > int.MaxValue) return;
            int count = 0;
            if (buffer.UnmixedAudioBuffers is { } unmixed)
            {
                foreach (var speaker in unmixed)
                {
                    if (count == AudioFrameFormat.MaxUnmixedBuffers) break;
                    if (speaker.Data == IntPtr.Zero || speaker.Length != AudioFrameFormat.BytesPerFrame) continue;
                    new ReadOnlySpan<byte>((void*)speaker.Data, AudioFrameFormat.BytesPerFrame)
                        .CopyTo(_unmixedPcm.AsSpan(count * AudioFrameFormat.BytesPerFrame));
                    _unmixed[count++] = new UnmixedInfo(speaker.ActiveSpeakerId, speaker.OriginalSenderTimestamp);
                }
            }
            _events.OnAudioReceived(new ReceivedAudio
            {
                Pcm = new ReadOnlySpan<byte>((void*)buffer.Data, (int)buffer.Length),
                TimestampTicks = buffer.Timestamp,
                IsSilence = buffer.IsSilence,
                ActiveSpeakers = buffer.ActiveSpeakers ?? [],
                Unmixed = _unmixed.AsSpan(0, count),
                UnmixedPcm = _unmixedPcm.AsSpan(0, count * AudioFrameFormat.BytesPerFrame),
            });
        }
        catch (Exception error)
        {
            _logger.LogError(error, "handling a received audio buffer failed");
        }
        finally
        {
            // Every received buffer goes back to the platform, whatever happened above.
            buffer.Dispose();
        }
    }

    private void OnAudioSendStatusChanged(object? sender, AudioSendStatusChangedEventArgs e) =>
        _events.OnSendStatusChanged(e.MediaSendStatus == MediaSendStatus.Active ? SendStatus.Active : SendStatus.Inactive);

    private void OnDominantSpeakerChanged(object? sender, DominantSpeakerChangedEventArgs e) =>
        _events.OnDominantSpeakerChanged(e.CurrentDominantSpeaker);

    private void OnToneReceived(object? sender, ToneReceivedEventArgs e) =>
        _events.OnToneReceived(Map(e.Tone), _platformClock());

    private void OnMediaStreamFailure(object? sender, MediaStreamFailureEventArgs e) =>
        _events.OnMediaStreamFailure("the platform reported a media stream failure");

    internal static Tone Map(ToneId tone) => tone switch
    {
        ToneId.Tone0 => Tone._0,
        ToneId.Tone1 => Tone._1,
        ToneId.Tone2 => Tone._2,
        ToneId.Tone3 => Tone._3,
        ToneId.Tone4 => Tone._4,
        ToneId.Tone5 => Tone._5,
        ToneId.Tone6 => Tone._6,
        ToneId.Tone7 => Tone._7,
        ToneId.Tone8 => Tone._8,
        ToneId.Tone9 => Tone._9,
        ToneId.Star => Tone.Star,
        ToneId.Pound => Tone.Pound,
        ToneId.A => Tone.A,
        ToneId.B => Tone.B,
        ToneId.C => Tone.C,
        ToneId.D => Tone.D,
        ToneId.Flash => Tone.Flash,
        _ => Tone.Unspecified,
    };
}

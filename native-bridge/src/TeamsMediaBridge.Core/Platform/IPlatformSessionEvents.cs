using TeamsMediaBridge.Protocol;

namespace TeamsMediaBridge.Platform;

/// <summary>
/// What a platform session reports. Called on platform threads; implementations copy what they
/// need and return at once (the platform's media threads must never wait).
/// </summary>
public interface IPlatformSessionEvents
{
    /// <summary>One received 20 ms buffer. The spans are valid only during the call.</summary>
    void OnAudioReceived(in ReceivedAudio audio);

    void OnSendStatusChanged(SendStatus status);

    /// <summary><see cref="AudioFrameFormat.NoSpeaker"/> means nobody.</summary>
    void OnDominantSpeakerChanged(uint speakerId);

    void OnToneReceived(Tone tone, long timestampTicks);

    /// <summary>The platform lost the media stream of this session.</summary>
    void OnMediaStreamFailure(string reason);
}

/// <summary>Per-speaker part of a received buffer: which speaker, and when they captured it.</summary>
public readonly record struct UnmixedInfo(uint SpeakerId, long OriginalSenderTimestampTicks);

/// <summary>
/// A received buffer as views over memory the platform owns. Unmixed speakers' PCM is laid out
/// back to back in <see cref="UnmixedPcm"/>, 640 bytes per entry of <see cref="Unmixed"/>.
/// </summary>
public readonly ref struct ReceivedAudio
{
    public ReadOnlySpan<byte> Pcm { get; init; }
    public long TimestampTicks { get; init; }
    public bool IsSilence { get; init; }
    public ReadOnlySpan<uint> ActiveSpeakers { get; init; }
    public ReadOnlySpan<UnmixedInfo> Unmixed { get; init; }
    public ReadOnlySpan<byte> UnmixedPcm { get; init; }
}

using TeamsMediaBridge.Protocol;

namespace TeamsMediaBridge.Platform.Skype.Tests;

/// <summary>What the adapter reported to the bridge, copied (the spans live only during the call).</summary>
internal sealed class RecordingEvents : IPlatformSessionEvents
{
    public sealed record Audio(byte[] Pcm, long TimestampTicks, bool IsSilence, uint[] ActiveSpeakers, UnmixedInfo[] Unmixed, byte[] UnmixedPcm);

    public List<Audio> Received { get; } = [];
    public List<SendStatus> SendStatuses { get; } = [];
    public List<uint> DominantSpeakers { get; } = [];
    public List<(Tone Tone, long TimestampTicks)> Tones { get; } = [];
    public List<string> StreamFailures { get; } = [];
    public Exception? AudioThrows { get; set; }

    public void OnAudioReceived(in ReceivedAudio audio)
    {
        if (AudioThrows is { } error) throw error;
        Received.Add(new Audio(audio.Pcm.ToArray(), audio.TimestampTicks, audio.IsSilence, audio.ActiveSpeakers.ToArray(),
            audio.Unmixed.ToArray(), audio.UnmixedPcm.ToArray()));
    }

    public void OnSendStatusChanged(SendStatus status) => SendStatuses.Add(status);
    public void OnDominantSpeakerChanged(uint speakerId) => DominantSpeakers.Add(speakerId);
    public void OnToneReceived(Tone tone, long timestampTicks) => Tones.Add((tone, timestampTicks));
    public void OnMediaStreamFailure(string reason) => StreamFailures.Add(reason);
}

using Microsoft.Skype.Bots.Media;

namespace TeamsMediaBridge.Platform.Skype.Tests;

/// <summary>
/// Stands in for the platform's AudioSocket (whose constructor needs the native media stack):
/// raises its events on demand, records what is sent, and can make Send throw.
/// </summary>
internal sealed class ScriptedAudioSocket : IAudioSocket
{
    public event EventHandler<AudioMediaReceivedEventArgs>? AudioMediaReceived;
    public event EventHandler<AudioSendStatusChangedEventArgs>? AudioSendStatusChanged;
    public event EventHandler<DominantSpeakerChangedEventArgs>? DominantSpeakerChanged;
    public event EventHandler<ToneReceivedEventArgs>? ToneReceived;
    public event EventHandler<MediaStreamFailureEventArgs>? MediaStreamFailure;

    public List<AudioMediaBuffer> Sent { get; } = [];
    public Exception? SendThrows { get; set; }
    public int DisposeCount { get; private set; }

    public int Subscribers =>
        (AudioMediaReceived?.GetInvocationList().Length ?? 0) + (AudioSendStatusChanged?.GetInvocationList().Length ?? 0)
        + (DominantSpeakerChanged?.GetInvocationList().Length ?? 0) + (ToneReceived?.GetInvocationList().Length ?? 0)
        + (MediaStreamFailure?.GetInvocationList().Length ?? 0);

    public void Send(AudioMediaBuffer buffer)
    {
        if (SendThrows is { } error) throw error;
        Sent.Add(buffer);
    }

    public void RaiseReceived(AudioMediaBuffer buffer) => AudioMediaReceived?.Invoke(this, new AudioMediaReceivedEventArgs { Buffer = buffer });
    public void RaiseSendStatus(MediaSendStatus status) => AudioSendStatusChanged?.Invoke(this, new AudioSendStatusChangedEventArgs { MediaSendStatus = status });
    public void RaiseDominantSpeaker(uint speaker) => DominantSpeakerChanged?.Invoke(this, new DominantSpeakerChangedEventArgs { CurrentDominantSpeaker = speaker });
    public void RaiseTone(ToneId tone) => ToneReceived?.Invoke(this, new ToneReceivedEventArgs { Tone = tone });
    public void RaiseStreamFailure() => MediaStreamFailure?.Invoke(this, new MediaStreamFailureEventArgs());

    public void Dispose() => DisposeCount++;

    public void SendDtmfTone(ToneId tone) => throw new NotSupportedException();
    public void SendDtmfTones(IEnumerable<ToneId> tones, int durationMs) => throw new NotSupportedException();
    public AudioQualityOfExperienceData GetQualityOfExperienceData() => throw new NotSupportedException();
    public int GetSendBuffersPendingCount() => Sent.Count;
}

using TeamsMediaBridge.Platform;
using TeamsMediaBridge.Protocol;

namespace TeamsMediaBridge.Bridge;

/// <summary>
/// What the platform session reports to: forwards to the bridge session currently attached,
/// and remembers the latest send status and dominant speaker so that a session resumed by a
/// reconnecting worker starts from the platform's current state. While no session is attached
/// (the worker is away), events are dropped.
/// </summary>
internal sealed class SessionEventRelay : IPlatformSessionEvents
{
    private volatile IPlatformSessionEvents? _target;
    private volatile int _sendStatus;
    private long _dominantSpeaker = -1;

    public SendStatus LastSendStatus => (SendStatus)_sendStatus;

    public uint? LastDominantSpeaker => Interlocked.Read(ref _dominantSpeaker) is var value and >= 0 ? (uint)value : null;

    public void Attach(IPlatformSessionEvents? target) => _target = target;

    public void OnAudioReceived(in ReceivedAudio audio) => _target?.OnAudioReceived(audio);

    public void OnSendStatusChanged(SendStatus status)
    {
        _sendStatus = (int)status;
        _target?.OnSendStatusChanged(status);
    }

    public void OnDominantSpeakerChanged(uint speakerId)
    {
        Interlocked.Exchange(ref _dominantSpeaker, speakerId);
        _target?.OnDominantSpeakerChanged(speakerId);
    }

    public void OnToneReceived(Tone tone, long timestampTicks) => _target?.OnToneReceived(tone, timestampTicks);

    public void OnMediaStreamFailure(string reason) => _target?.OnMediaStreamFailure(reason);
}

namespace TeamsMediaBridge.Platform.Fake;

/// <summary>What the fake platform "hears" in a call: fills one 20 ms PCM16K frame per tick.</summary>
public interface IFakeAudioSource
{
    /// <returns>true when the frame is silence (as the platform flags muted peers).</returns>
    bool Read(Span<byte> frame);
}

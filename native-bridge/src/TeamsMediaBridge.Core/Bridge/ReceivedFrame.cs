using Google.Protobuf;
using TeamsMediaBridge.Platform;
using TeamsMediaBridge.Protocol;

namespace TeamsMediaBridge.Bridge;

/// <summary>
/// A received buffer copied out of the platform's memory, with its protobuf message prebuilt over
/// the same arrays: pooled and reused, so forwarding a frame allocates nothing in steady state.
/// </summary>
internal sealed class ReceivedFrame
{
    private readonly byte[] _pcm = new byte[AudioFrameFormat.BytesPerFrame];
    private readonly byte[] _unmixedPcm = new byte[AudioFrameFormat.MaxUnmixedBuffers * AudioFrameFormat.BytesPerFrame];
    private readonly UnmixedAudio[] _unmixed = new UnmixedAudio[AudioFrameFormat.MaxUnmixedBuffers];

    public ReceivedFrame()
    {
        // The ByteStrings wrap the pooled arrays; their content is rewritten on each reuse and
        // they are serialized before the frame goes back to the pool.
        Message = new AudioFrame
        {
            Context = MediaContext.AudioSource,
            Pcm = UnsafeByteOperations.UnsafeWrap(_pcm),
        };
        for (int i = 0; i < _unmixed.Length; i++)
        {
            _unmixed[i] = new UnmixedAudio
            {
                Pcm = UnsafeByteOperations.UnsafeWrap(_unmixedPcm.AsMemory(i * AudioFrameFormat.BytesPerFrame, AudioFrameFormat.BytesPerFrame)),
            };
        }
    }

    public AudioFrame Message { get; }
    public BridgeSession? Owner { get; private set; }

    /// <returns>how many unmixed buffers were dropped as malformed.</returns>
    public int Fill(BridgeSession owner, uint sequence, in ReceivedAudio audio, bool wantUnmixed)
    {
        Owner = owner;
        audio.Pcm.CopyTo(_pcm);
        Message.Session = owner.Number;
        Message.Sequence = sequence;
        Message.TimestampTicks = audio.TimestampTicks;
        Message.IsSilence = audio.IsSilence;
        Message.ActiveSpeakers.Clear();
        foreach (uint speaker in audio.ActiveSpeakers) Message.ActiveSpeakers.Add(speaker);
        Message.Unmixed.Clear();
        if (!wantUnmixed) return 0;
        int dropped = 0;
        int count = Math.Min(audio.Unmixed.Length, AudioFrameFormat.MaxUnmixedBuffers);
        dropped += audio.Unmixed.Length - count;
        for (int i = 0; i < count; i++)
        {
            int offset = i * AudioFrameFormat.BytesPerFrame;
            if (audio.UnmixedPcm.Length < offset + AudioFrameFormat.BytesPerFrame)
            {
                dropped += count - i;
                break;
            }
            audio.UnmixedPcm.Slice(offset, AudioFrameFormat.BytesPerFrame).CopyTo(_unmixedPcm.AsSpan(offset));
            var slot = _unmixed[i];
            slot.SpeakerId = audio.Unmixed[i].SpeakerId;
            slot.OriginalSenderTimestampTicks = audio.Unmixed[i].OriginalSenderTimestampTicks;
            Message.Unmixed.Add(slot);
        }
        return dropped;
    }

    public void Release() => Owner = null;
}

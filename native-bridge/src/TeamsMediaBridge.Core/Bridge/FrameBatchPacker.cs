using Google.Protobuf;
using TeamsMediaBridge.Protocol;

namespace TeamsMediaBridge.Bridge;

/// <summary>
/// Protocol rule: a FrameBatch message is at most <see cref="ProtocolInfo.MaxFrameBatchBytes"/>
/// (256 KiB). A tick that ran late can hold several ticks' frames of every session (1000 calls:
/// 2 MB and more), so the tick's frames are cut into consecutive runs, each of which encodes to
/// one Envelope{frames} under the limit. Sizes are computed, nothing is encoded or allocated.
/// </summary>
internal static class FrameBatchPacker
{
    /// <summary>
    /// Envelope tag + FrameBatch length (5 bytes at most) + sent_at_us (tag + 10-byte varint at
    /// most): what a message holds besides its frames.
    /// </summary>
    public const int EnvelopeOverheadMax = 1 + 5 + 1 + 10;

    /// <summary>Bytes one frame takes inside a FrameBatch: tag, length, message.</summary>
    public static int FrameFieldSize(AudioFrame frame)
    {
        int size = frame.CalculateSize();
        return 1 + CodedOutputStream.ComputeLengthSize(size) + size;
    }

    /// <summary>
    /// How many frames from <paramref name="start"/> on go into the next message: as many as fit
    /// under <paramref name="maxMessageBytes"/>, and at least one (a single frame larger than the
    /// limit, which 640-byte PCM frames never are, still has to go somewhere).
    /// </summary>
    public static int NextRun(IReadOnlyList<AudioFrame> frames, int start, int maxMessageBytes)
    {
        int budget = maxMessageBytes - EnvelopeOverheadMax;
        int used = 0;
        int end = start;
        while (end < frames.Count)
        {
            int size = FrameFieldSize(frames[end]);
            if (end > start && used + size > budget) break;
            used += size;
            end++;
        }
        return end - start;
    }
}

namespace TeamsMediaBridge.Platform.Fake;

/// <summary>
/// Echo matching, the same mark as the TypeScript media platform emulator's
/// (src/emulator/media/audio-source.ts): a frame's 16-bit sequence hidden in the least
/// significant bit of its first 16 samples, and its complement in the next 16 as a check.
/// -90 dB, inaudible, and it survives any processing that copies samples unchanged (an echo bot).
/// </summary>
public static class EchoWatermark
{
    private const int MarkBits = 16;

    public static void Write(Span<byte> pcm, int sequence)
    {
        int value = sequence & 0xFFFF;
        for (int i = 0; i < MarkBits; i++)
        {
            int bit = (value >> i) & 1;
            // Little-endian samples: the low byte of sample i is byte 2i.
            pcm[2 * i] = (byte)((pcm[2 * i] & 0xFE) | bit);
            pcm[2 * (i + MarkBits)] = (byte)((pcm[2 * (i + MarkBits)] & 0xFE) | (bit ^ 1));
        }
    }

    /// <returns>The hidden sequence, or -1 when the frame carries no valid mark.</returns>
    public static int Read(ReadOnlySpan<byte> pcm)
    {
        if (pcm.Length < 4 * MarkBits) return -1;
        int value = 0;
        for (int i = 0; i < MarkBits; i++)
        {
            int bit = pcm[2 * i] & 1;
            if (bit == (pcm[2 * (i + MarkBits)] & 1)) return -1;
            value |= bit << i;
        }
        return value;
    }
}

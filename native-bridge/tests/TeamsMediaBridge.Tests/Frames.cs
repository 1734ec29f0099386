using Google.Protobuf;
using TeamsMediaBridge.Protocol;

namespace TeamsMediaBridge.Tests;

internal static class Frames
{
    /// <summary>A recognizable 640-byte frame: every byte is derived from <paramref name="marker"/>.</summary>
    public static byte[] Pcm(int marker)
    {
        var pcm = new byte[640];
        for (int i = 0; i < pcm.Length; i++) pcm[i] = (byte)(marker * 31 + i);
        return pcm;
    }

    public static AudioFrame Render(uint session, uint sequence, byte[] pcm) => new()
    {
        Session = session,
        Context = MediaContext.AudioRender,
        Sequence = sequence,
        Pcm = ByteString.CopyFrom(pcm),
    };

    public static Envelope Batch(params AudioFrame[] frames)
    {
        var batch = new FrameBatch { SentAtUs = 1 };
        batch.Frames.AddRange(frames);
        return new Envelope { Frames = batch };
    }

    public static IEnumerable<AudioFrame> SourceFrames(this IEnumerable<(Envelope Envelope, DateTime At)> received, uint session) =>
        received.Where(r => r.Envelope.BodyCase == Envelope.BodyOneofCase.Frames)
            .SelectMany(r => r.Envelope.Frames.Frames)
            .Where(f => f.Session == session);
}

using System.Buffers.Binary;
using System.Text;

namespace TeamsMediaBridge.Platform.Fake;

/// <summary>
/// Plays a WAV file (PCM, 16-bit, mono, 16 kHz: the platform's own format) in a loop.
/// Anything else is refused with the reason, not converted.
/// </summary>
public sealed class WavSource : IFakeAudioSource
{
    private readonly byte[] _pcm;
    private int _position;

    public WavSource(byte[] pcm16k)
    {
        if (pcm16k.Length < AudioFrameFormat.BytesPerFrame) throw new ArgumentException("WAV holds less than one 20 ms frame");
        _pcm = pcm16k;
    }

    public static WavSource FromFile(string path) => new(ReadPcm16KMono(File.ReadAllBytes(path), path));

    public bool Read(Span<byte> frame)
    {
        int written = 0;
        bool silent = true;
        while (written < frame.Length)
        {
            int n = Math.Min(frame.Length - written, _pcm.Length - _position);
            _pcm.AsSpan(_position, n).CopyTo(frame[written..]);
            written += n;
            _position = (_position + n) % _pcm.Length;
        }
        foreach (byte b in frame)
        {
            if (b != 0) { silent = false; break; }
        }
        return silent;
    }

    /// <summary>The data chunk of a RIFF/WAVE file, after checking it is PCM16K mono.</summary>
    public static byte[] ReadPcm16KMono(ReadOnlySpan<byte> file, string name = "WAV")
    {
        if (file.Length < 12 || Encoding.ASCII.GetString(file[..4]) != "RIFF" || Encoding.ASCII.GetString(file.Slice(8, 4)) != "WAVE")
            throw new InvalidDataException($"{name}: not a RIFF/WAVE file");
        int offset = 12;
        bool formatChecked = false;
        while (offset + 8 <= file.Length)
        {
            string id = Encoding.ASCII.GetString(file.Slice(offset, 4));
            int size = BinaryPrimitives.ReadInt32LittleEndian(file.Slice(offset + 4, 4));
            if (size < 0 || offset + 8 + (long)size > file.Length) throw new InvalidDataException($"{name}: chunk {id} runs past the end");
            var body = file.Slice(offset + 8, size);
            if (id == "fmt ")
            {
                if (size < 16) throw new InvalidDataException($"{name}: fmt chunk too short");
                int format = BinaryPrimitives.ReadUInt16LittleEndian(body);
                int channels = BinaryPrimitives.ReadUInt16LittleEndian(body[2..]);
                int rate = BinaryPrimitives.ReadInt32LittleEndian(body[4..]);
                int bits = BinaryPrimitives.ReadUInt16LittleEndian(body[14..]);
                if (format != 1 || channels != 1 || rate != AudioFrameFormat.SampleRate || bits != 16)
                    throw new InvalidDataException($"{name}: must be PCM 16-bit mono 16000 Hz, got format {format}, {channels} channel(s), {rate} Hz, {bits} bits");
                formatChecked = true;
            }
            else if (id == "data")
            {
                if (!formatChecked) throw new InvalidDataException($"{name}: data chunk before fmt chunk");
                return body.ToArray();
            }
            offset += 8 + size + (size & 1);
        }
        throw new InvalidDataException($"{name}: no data chunk");
    }
}

using System.Buffers.Binary;
using System.Text;

namespace TeamsMediaBridge.Platform.Fake;

/// <summary>
/// Writes what a fake session was sent (its recorded frames, in order) as a WAV file per call
/// when the session ends, so a test on the other side of the bridge can compare the audio the
/// platform would have played with what it sent, sample for sample.
/// </summary>
public sealed class FakeRecordingWriter
{
    private readonly string _directory;
    private readonly Action<string, Exception>? _onError;

    /// <param name="onError">Told about a recording that could not be written (call id, error); never thrown.</param>
    public FakeRecordingWriter(string directory, Action<string, Exception>? onError = null)
    {
        if (string.IsNullOrWhiteSpace(directory)) throw new ArgumentException("recording directory is empty");
        _directory = Path.GetFullPath(directory);
        Directory.CreateDirectory(_directory);
        _onError = onError;
    }

    /// <summary>The file a call's recording goes to: the call id with anything but [A-Za-z0-9._-] replaced.</summary>
    public string PathFor(string callId)
    {
        var name = new StringBuilder(callId.Length);
        foreach (char c in callId) name.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' ? c : '_');
        if (name.Length == 0 || name.ToString() is "." or "..") name.Insert(0, "call");
        return Path.Combine(_directory, name + ".wav");
    }

    /// <summary>For <see cref="FakeMediaPlatformOptions.OnSessionEnded"/>: writes the session's recording.</summary>
    /// <returns>The frames written, or -1 when the file could not be written (reported to onError).</returns>
    public int OnSessionEnded(FakePlatformSession session)
    {
        string target = PathFor(session.Request.CallId);
        try
        {
            var frames = session.Recorded();
            // Written beside the target and renamed: a reader never sees half a file.
            string temporary = target + ".partial";
            File.WriteAllBytes(temporary, Wav(frames));
            File.Move(temporary, target, overwrite: true);
            return frames.Length;
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            _onError?.Invoke(session.Request.CallId, error);
            return -1;
        }
    }

    /// <summary>A RIFF/WAVE file of PCM 16-bit mono 16 kHz holding the frames back to back.</summary>
    public static byte[] Wav(IReadOnlyList<FakePlatformSession.SentFrame> frames)
    {
        int dataBytes = frames.Count * AudioFrameFormat.BytesPerFrame;
        var file = new byte[44 + dataBytes];
        var span = file.AsSpan();
        "RIFF"u8.CopyTo(span);
        BinaryPrimitives.WriteInt32LittleEndian(span[4..], 36 + dataBytes);
        "WAVEfmt "u8.CopyTo(span[8..]);
        BinaryPrimitives.WriteInt32LittleEndian(span[16..], 16);
        BinaryPrimitives.WriteInt16LittleEndian(span[20..], 1); // PCM
        BinaryPrimitives.WriteInt16LittleEndian(span[22..], 1); // mono
        BinaryPrimitives.WriteInt32LittleEndian(span[24..], AudioFrameFormat.SampleRate);
        BinaryPrimitives.WriteInt32LittleEndian(span[28..], AudioFrameFormat.SampleRate * 2);
        BinaryPrimitives.WriteInt16LittleEndian(span[32..], 2);
        BinaryPrimitives.WriteInt16LittleEndian(span[34..], 16);
        "data"u8.CopyTo(span[36..]);
        BinaryPrimitives.WriteInt32LittleEndian(span[40..], dataBytes);
        int offset = 44;
        foreach (var frame in frames)
        {
            frame.Pcm.CopyTo(span[offset..]);
            offset += AudioFrameFormat.BytesPerFrame;
        }
        return file;
    }
}

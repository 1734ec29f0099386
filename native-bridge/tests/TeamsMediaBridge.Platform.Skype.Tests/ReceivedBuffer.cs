using System.Reflection;
using System.Runtime.InteropServices;
using Microsoft.Skype.Bots.Media;

namespace TeamsMediaBridge.Platform.Skype.Tests;

/// <summary>
/// A received buffer as the platform hands one over: PCM in unmanaged memory, speakers, and
/// optionally unmixed speakers' buffers. Counts how often it was disposed (given back).
/// </summary>
internal sealed class ReceivedBuffer : AudioMediaBuffer
{
    private readonly List<IntPtr> _owned = [];

    public int DisposeCount { get; private set; }

    public ReceivedBuffer(byte[]? pcm, long timestamp, bool isSilence = false, uint[]? speakers = null,
        UnmixedAudioBuffer[]? unmixed = null, long? length = null)
    {
        Data = pcm is null ? IntPtr.Zero : Own(pcm);
        Length = length ?? pcm?.Length ?? 0;
        Timestamp = timestamp;
        IsSilence = isSilence;
        ActiveSpeakers = speakers!;
        UnmixedAudioBuffers = unmixed!;
        AudioFormat = AudioFormat.Pcm16K;
    }

    /// <summary>An unmixed speaker's buffer (its setters are internal to the platform).</summary>
    public UnmixedAudioBuffer Unmixed(byte[]? pcm, uint speaker, long originalTimestamp, long? length = null)
    {
        object boxed = default(UnmixedAudioBuffer);
        Set(boxed, nameof(UnmixedAudioBuffer.Data), pcm is null ? IntPtr.Zero : Own(pcm));
        Set(boxed, nameof(UnmixedAudioBuffer.Length), length ?? pcm?.Length ?? 0L);
        Set(boxed, nameof(UnmixedAudioBuffer.ActiveSpeakerId), speaker);
        Set(boxed, nameof(UnmixedAudioBuffer.OriginalSenderTimestamp), originalTimestamp);
        return (UnmixedAudioBuffer)boxed;
    }

    public void SetUnmixed(UnmixedAudioBuffer[] unmixed) => UnmixedAudioBuffers = unmixed;

    protected override void Dispose(bool disposing)
    {
        DisposeCount++;
        foreach (var memory in _owned) Marshal.FreeHGlobal(memory);
        _owned.Clear();
    }

    private IntPtr Own(byte[] bytes)
    {
        var memory = Marshal.AllocHGlobal(Math.Max(bytes.Length, 1));
        Marshal.Copy(bytes, 0, memory, bytes.Length);
        _owned.Add(memory);
        return memory;
    }

    private static void Set(object boxed, string property, object value) =>
        typeof(UnmixedAudioBuffer).GetProperty(property, BindingFlags.Public | BindingFlags.Instance)!.SetValue(boxed, value);
}

using System.Runtime.InteropServices;
using Microsoft.Skype.Bots.Media;

namespace TeamsMediaBridge.Platform.Skype;

/// <summary>
/// One 20 ms frame to send, in unmanaged memory. The platform may still read it after Send
/// returns: the memory is freed only when the platform disposes the buffer (once, however
/// often Dispose is called).
/// </summary>
internal sealed unsafe class NativeAudioBuffer : AudioMediaBuffer
{
    private IntPtr _memory;

    public NativeAudioBuffer(ReadOnlySpan<byte> pcm, long timestampTicks)
    {
        _memory = Marshal.AllocHGlobal(pcm.Length);
        pcm.CopyTo(new Span<byte>((void*)_memory, pcm.Length));
        Data = _memory;
        Length = pcm.Length;
        Timestamp = timestampTicks;
        AudioFormat = Microsoft.Skype.Bots.Media.AudioFormat.Pcm16K;
    }

    /// <summary>Whether the unmanaged copy is still held (false once disposed).</summary>
    internal bool HoldsMemory => Volatile.Read(ref _memory) != IntPtr.Zero;

    protected override void Dispose(bool disposing)
    {
        var memory = Interlocked.Exchange(ref _memory, IntPtr.Zero);
        if (memory != IntPtr.Zero) Marshal.FreeHGlobal(memory);
    }
}

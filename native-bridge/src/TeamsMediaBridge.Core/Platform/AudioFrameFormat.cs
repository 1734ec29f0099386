namespace TeamsMediaBridge.Platform;

/// <summary>The one audio format the bridge carries: 20 ms of PCM16K (16 kHz, 16-bit LE, mono).</summary>
public static class AudioFrameFormat
{
    public const int SampleRate = 16_000;
    public const int SamplesPerFrame = 320;
    public const int BytesPerFrame = 640;
    public const int FrameMilliseconds = 20;

    /// <summary>One frame in the platform clock's unit (100-ns ticks).</summary>
    public const long TicksPerFrame = 200_000;

    /// <summary>The platform reports at most four unmixed speakers per received buffer.</summary>
    public const int MaxUnmixedBuffers = 4;

    /// <summary>"Nobody" in dominant speaker events.</summary>
    public const uint NoSpeaker = 0xFFFF_FFFF;
}

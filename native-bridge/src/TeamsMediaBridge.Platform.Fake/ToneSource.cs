using System.Buffers.Binary;

namespace TeamsMediaBridge.Platform.Fake;

/// <summary>A continuous sine tone (phase carried across frames, so no clicks at frame edges).</summary>
public sealed class ToneSource : IFakeAudioSource
{
    private readonly double _step;
    private readonly double _amplitude;
    private double _phase;

    public ToneSource(double frequencyHz = 440, double amplitude = 0.25)
    {
        if (frequencyHz <= 0 || frequencyHz >= AudioFrameFormat.SampleRate / 2.0) throw new ArgumentOutOfRangeException(nameof(frequencyHz));
        if (amplitude is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(amplitude));
        _step = 2 * Math.PI * frequencyHz / AudioFrameFormat.SampleRate;
        _amplitude = amplitude * short.MaxValue;
    }

    public bool Read(Span<byte> frame)
    {
        for (int i = 0; i < AudioFrameFormat.SamplesPerFrame; i++)
        {
            BinaryPrimitives.WriteInt16LittleEndian(frame.Slice(i * 2, 2), (short)Math.Round(Math.Sin(_phase) * _amplitude));
            _phase += _step;
        }
        _phase %= 2 * Math.PI;
        return _amplitude == 0;
    }
}

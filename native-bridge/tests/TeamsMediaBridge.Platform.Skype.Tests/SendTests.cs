using LogLevel = Microsoft.Extensions.Logging.LogLevel;
using Microsoft.Skype.Bots.Media;

namespace TeamsMediaBridge.Platform.Skype.Tests;

/// <summary>Sending a frame: the native buffer's lifetime, refused sizes, and a platform Send that throws.</summary>
public class SendTests
{
    private static byte[] Frame(byte seed) => Enumerable.Range(0, AudioFrameFormat.BytesPerFrame).Select(i => (byte)(i + seed)).ToArray();

    [Fact]
    public unsafe void The_send_buffer_holds_its_own_copy_of_the_frame_until_the_platform_disposes_it()
    {
        var pcm = Frame(3);
        var buffer = new NativeAudioBuffer(pcm, 123_456_789);
        Array.Clear(pcm); // the caller's memory is reused for the next frame at once

        Assert.True(buffer.HoldsMemory);
        Assert.NotEqual(IntPtr.Zero, buffer.Data);
        Assert.Equal(AudioFrameFormat.BytesPerFrame, buffer.Length);
        Assert.Equal(123_456_789, buffer.Timestamp);
        Assert.Equal(Microsoft.Skype.Bots.Media.AudioFormat.Pcm16K, buffer.AudioFormat);
        Assert.Equal(Frame(3), new ReadOnlySpan<byte>((void*)buffer.Data, (int)buffer.Length).ToArray());

        buffer.Dispose();
        Assert.False(buffer.HoldsMemory);
    }

    [Fact]
    public void Disposing_the_send_buffer_twice_frees_its_memory_once()
    {
        // A second free() of the same block aborts the process (glibc "double free"), so this
        // test host would die, not fail, if the buffer freed twice.
        var buffer = new NativeAudioBuffer(Frame(1), 0);
        buffer.Dispose();
        buffer.Dispose();
        Parallel.For(0, 1000, _ =>
        {
            var raced = new NativeAudioBuffer(Frame(2), 0);
            Parallel.Invoke(raced.Dispose, raced.Dispose);
        });
        Assert.False(buffer.HoldsMemory);
    }

    [Fact]
    public unsafe void A_640_byte_frame_goes_to_the_socket_and_stays_with_the_platform()
    {
        var socket = new ScriptedAudioSocket();
        var session = new SkypePlatformSession(socket, new RecordingEvents(), new ListLogger(), () => 0);

        Assert.True(session.Send(Frame(7), 42));

        var sent = Assert.IsType<NativeAudioBuffer>(Assert.Single(socket.Sent));
        Assert.Equal(42, sent.Timestamp);
        Assert.Equal(Frame(7), new ReadOnlySpan<byte>((void*)sent.Data, (int)sent.Length).ToArray());
        // The platform may still read it after Send returns: only the platform disposes it.
        Assert.True(sent.HoldsMemory);
        sent.Dispose();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(639)]
    [InlineData(641)]
    [InlineData(1280)]
    public void A_frame_that_is_not_640_bytes_is_refused_and_never_reaches_the_platform(int length)
    {
        var socket = new ScriptedAudioSocket();
        var session = new SkypePlatformSession(socket, new RecordingEvents(), new ListLogger(), () => 0);

        Assert.False(session.Send(new byte[length], 0));
        Assert.Empty(socket.Sent);
    }

    [Fact]
    public async Task Nothing_is_sent_after_the_session_ended()
    {
        var socket = new ScriptedAudioSocket();
        var session = new SkypePlatformSession(socket, new RecordingEvents(), new ListLogger(), () => 0);
        await session.DisposeAsync();

        Assert.False(session.Send(Frame(0), 0));
        Assert.Empty(socket.Sent);
    }

    [Fact]
    public void A_throwing_platform_send_is_refused_the_buffer_freed_and_logged_at_1_100_and_10000_failures()
    {
        var socket = new ScriptedAudioSocket { SendThrows = new InvalidOperationException("socket not connected") };
        var logger = new ListLogger();
        var session = new SkypePlatformSession(socket, new RecordingEvents(), logger, () => 0);

        for (int i = 0; i < 10_000; i++) Assert.False(session.Send(Frame(0), i));

        var warnings = logger.Lines.Where(l => l.Level == LogLevel.Warning).ToList();
        Assert.Equal(["AudioSocket.Send failed (1 so far)", "AudioSocket.Send failed (100 so far)", "AudioSocket.Send failed (10000 so far)"],
            warnings.Select(l => l.Message));
        Assert.All(warnings, l => Assert.Equal("socket not connected", l.Error?.Message));

        // The socket works again: sending goes on.
        socket.SendThrows = null;
        Assert.True(session.Send(Frame(0), 0));
        ((NativeAudioBuffer)socket.Sent[0]).Dispose();
    }

    [Fact]
    public void The_buffer_the_throwing_send_was_given_is_freed()
    {
        var socket = new ThrowingAfterTakingSocket();
        var session = new SkypePlatformSession(socket, new RecordingEvents(), new ListLogger(), () => 0);

        Assert.False(session.Send(Frame(0), 0));
        var taken = Assert.IsType<NativeAudioBuffer>(socket.Taken);
        Assert.False(taken.HoldsMemory);
        taken.Dispose(); // the platform may dispose what it took as well: harmless
    }

    /// <summary>A platform that keeps the buffer and then throws (half-taken).</summary>
    private sealed class ThrowingAfterTakingSocket : IAudioSocket
    {
        public AudioMediaBuffer? Taken { get; private set; }
        public event EventHandler<AudioMediaReceivedEventArgs>? AudioMediaReceived { add { } remove { } }
        public event EventHandler<AudioSendStatusChangedEventArgs>? AudioSendStatusChanged { add { } remove { } }
        public event EventHandler<DominantSpeakerChangedEventArgs>? DominantSpeakerChanged { add { } remove { } }
        public event EventHandler<ToneReceivedEventArgs>? ToneReceived { add { } remove { } }
        public event EventHandler<MediaStreamFailureEventArgs>? MediaStreamFailure { add { } remove { } }
        public void Send(AudioMediaBuffer buffer)
        {
            Taken = buffer;
            throw new IOException("media stack refused the buffer");
        }
        public void SendDtmfTone(ToneId tone) => throw new NotSupportedException();
        public void SendDtmfTones(IEnumerable<ToneId> tones, int durationMs) => throw new NotSupportedException();
        public AudioQualityOfExperienceData GetQualityOfExperienceData() => throw new NotSupportedException();
        public int GetSendBuffersPendingCount() => 0;
        public void Dispose() { }
    }
}

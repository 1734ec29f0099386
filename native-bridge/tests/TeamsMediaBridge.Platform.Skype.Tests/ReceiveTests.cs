using Microsoft.Extensions.Logging;

namespace TeamsMediaBridge.Platform.Skype.Tests;

/// <summary>Received buffers: what reaches the bridge, and that every buffer goes back to the platform.</summary>
public class ReceiveTests
{
    private static byte[] Frame(byte seed) => Enumerable.Range(0, AudioFrameFormat.BytesPerFrame).Select(i => (byte)(i * 3 + seed)).ToArray();

    [Fact]
    public void A_mixed_buffer_reaches_the_bridge_as_a_view_with_its_timestamp_silence_and_speakers_and_is_given_back()
    {
        var socket = new ScriptedAudioSocket();
        var events = new RecordingEvents();
        _ = new SkypePlatformSession(socket, events, new ListLogger(), () => 0);
        using var buffer = new ReceivedBuffer(Frame(5), timestamp: 638_700_000_000_000_123, isSilence: true, speakers: [7, 8]);

        socket.RaiseReceived(buffer);

        var audio = Assert.Single(events.Received);
        Assert.Equal(Frame(5), audio.Pcm);
        Assert.Equal(638_700_000_000_000_123, audio.TimestampTicks);
        Assert.True(audio.IsSilence);
        Assert.Equal([7u, 8u], audio.ActiveSpeakers);
        Assert.Empty(audio.Unmixed);
        Assert.Empty(audio.UnmixedPcm);
        Assert.Equal(1, buffer.DisposeCount);
    }

    [Fact]
    public void Unmixed_speakers_are_copied_at_most_four_and_wrong_sized_ones_skipped()
    {
        var socket = new ScriptedAudioSocket();
        var events = new RecordingEvents();
        _ = new SkypePlatformSession(socket, events, new ListLogger(), () => 0);
        using var buffer = new ReceivedBuffer(Frame(0), timestamp: 1, speakers: null);
        buffer.SetUnmixed([
            buffer.Unmixed(Frame(10), 101, 1_000),
            buffer.Unmixed(new byte[320], 102, 2_000),          // wrong size: skipped
            buffer.Unmixed(null, 103, 3_000),                   // no data: skipped
            buffer.Unmixed(Frame(11), 104, 4_000),
            buffer.Unmixed(Frame(12), 105, 5_000),
            buffer.Unmixed(Frame(13), 106, 6_000),
            buffer.Unmixed(Frame(14), 107, 7_000),              // a fifth valid one: beyond the limit
        ]);

        socket.RaiseReceived(buffer);

        var audio = Assert.Single(events.Received);
        Assert.Empty(audio.ActiveSpeakers);
        Assert.Equal([new UnmixedInfo(101, 1_000), new UnmixedInfo(104, 4_000), new UnmixedInfo(105, 5_000), new UnmixedInfo(106, 6_000)], audio.Unmixed);
        Assert.Equal([.. Frame(10), .. Frame(11), .. Frame(12), .. Frame(13)], audio.UnmixedPcm);
        Assert.Equal(1, buffer.DisposeCount);
    }

    [Fact]
    public void A_buffer_is_given_back_when_the_bridge_throws_and_the_exception_stays_in_the_adapter()
    {
        var socket = new ScriptedAudioSocket();
        var events = new RecordingEvents { AudioThrows = new InvalidOperationException("bridge broke") };
        var logger = new ListLogger();
        _ = new SkypePlatformSession(socket, events, logger, () => 0);
        using var buffer = new ReceivedBuffer(Frame(1), timestamp: 1);

        socket.RaiseReceived(buffer); // the platform's thread must not see the exception

        Assert.Equal(1, buffer.DisposeCount);
        var line = Assert.Single(logger.Lines);
        Assert.Equal(LogLevel.Error, line.Level);
        Assert.Equal("bridge broke", line.Error?.Message);
    }

    public static TheoryData<string> Unusable => ["no data", "empty", "negative length", "too long"];

    [Theory]
    [MemberData(nameof(Unusable))]
    public void An_unusable_buffer_is_not_forwarded_but_still_given_back(string kind)
    {
        var socket = new ScriptedAudioSocket();
        var events = new RecordingEvents();
        _ = new SkypePlatformSession(socket, events, new ListLogger(), () => 0);
        using var buffer = kind switch
        {
            "no data" => new ReceivedBuffer(null, 1, length: 640),
            "empty" => new ReceivedBuffer(Frame(0), 1, length: 0),
            "negative length" => new ReceivedBuffer(Frame(0), 1, length: -640),
            _ => new ReceivedBuffer(Frame(0), 1, length: (long)int.MaxValue + 1),
        };

        socket.RaiseReceived(buffer);

        Assert.Empty(events.Received);
        Assert.Equal(1, buffer.DisposeCount);
    }

    [Fact]
    public async Task Ending_the_session_unsubscribes_disposes_the_socket_once_and_gives_back_late_buffers()
    {
        var socket = new ScriptedAudioSocket();
        var events = new RecordingEvents();
        var session = new SkypePlatformSession(socket, events, new ListLogger(), () => 0);
        Assert.Equal(5, socket.Subscribers);

        await session.DisposeAsync();
        await session.DisposeAsync();

        Assert.Equal(0, socket.Subscribers);
        Assert.Equal(1, socket.DisposeCount);
        // A buffer already on its way when the session ended: not forwarded, still given back.
        using var late = new ReceivedBuffer(Frame(2), 1);
        var handler = typeof(SkypePlatformSession).GetMethod("OnAudioMediaReceived", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!;
        handler.Invoke(session, [socket, new Microsoft.Skype.Bots.Media.AudioMediaReceivedEventArgs { Buffer = late }]);
        Assert.Empty(events.Received);
        Assert.Equal(1, late.DisposeCount);
    }

    [Fact]
    public void Info_before_the_configuration_is_an_error_and_after_it_is_what_was_configured()
    {
        var session = new SkypePlatformSession(new ScriptedAudioSocket(), new RecordingEvents(), new ListLogger(), () => 0);
        Assert.Throws<InvalidOperationException>(() => session.Info);

        var info = new PlatformSessionInfo("m", "net.tcp://x:1/MediaProcessor", "r", "s", "1", "2", "3", "{}");
        session.Configure(info);
        Assert.Same(info, session.Info);
    }
}

using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Skype.Bots.Media;
using TeamsMediaBridge.Protocol;

namespace TeamsMediaBridge.Platform.Skype.Tests;

/// <summary>The protocol's values to the platform's and back: direction, tones, send status, health.</summary>
public class MappingTests
{
    [Theory]
    [InlineData(Protocol.AudioDirection.SendRecv, StreamDirection.Sendrecv)]
    [InlineData(Protocol.AudioDirection.RecvOnly, StreamDirection.Recvonly)]
    [InlineData(Protocol.AudioDirection.SendOnly, StreamDirection.Sendonly)]
    public void Socket_settings_carry_the_direction_16_kHz_pcm_the_call_and_the_unmixed_choice(Protocol.AudioDirection direction, StreamDirection expected)
    {
        foreach (bool unmixed in new[] { false, true })
        {
            var settings = SkypeMediaPlatform.SocketSettings(new PlatformSessionRequest("call-9", Guid.NewGuid(), direction, unmixed));
            Assert.Equal(expected, settings.StreamDirections);
            Assert.Equal(Microsoft.Skype.Bots.Media.AudioFormat.Pcm16K, settings.SupportedAudioFormat);
            Assert.Equal("call-9", settings.CallId);
            Assert.Equal(unmixed, settings.ReceiveUnmixedMeetingAudio);
        }
    }

    [Theory]
    [InlineData(Protocol.AudioDirection.Unspecified)]
    [InlineData((Protocol.AudioDirection)99)]
    public void A_direction_without_a_socket_equivalent_is_refused(Protocol.AudioDirection direction)
    {
        var error = Assert.Throws<ArgumentException>(() =>
            SkypeMediaPlatform.SocketSettings(new PlatformSessionRequest("call", Guid.NewGuid(), direction, false)));
        Assert.Contains("unsupported direction", error.Message);
    }

    public static TheoryData<ToneId, Tone> Tones => new()
    {
        { ToneId.Tone0, Tone._0 }, { ToneId.Tone1, Tone._1 }, { ToneId.Tone2, Tone._2 }, { ToneId.Tone3, Tone._3 },
        { ToneId.Tone4, Tone._4 }, { ToneId.Tone5, Tone._5 }, { ToneId.Tone6, Tone._6 }, { ToneId.Tone7, Tone._7 },
        { ToneId.Tone8, Tone._8 }, { ToneId.Tone9, Tone._9 }, { ToneId.Star, Tone.Star }, { ToneId.Pound, Tone.Pound },
        { ToneId.A, Tone.A }, { ToneId.B, Tone.B }, { ToneId.C, Tone.C }, { ToneId.D, Tone.D },
        { ToneId.Flash, Tone.Flash }, { (ToneId)250, Tone.Unspecified },
    };

    [Theory]
    [MemberData(nameof(Tones))]
    public void A_received_tone_reaches_the_bridge_as_the_protocol_tone_stamped_with_the_platform_clock(ToneId platformTone, Tone expected)
    {
        var socket = new ScriptedAudioSocket();
        var events = new RecordingEvents();
        long clock = 638_000_000_000_000_000;
        _ = new SkypePlatformSession(socket, events, NullLogger.Instance, () => clock);

        socket.RaiseTone(platformTone);
        clock += 200_000;
        socket.RaiseTone(platformTone);

        Assert.Equal([(expected, 638_000_000_000_000_000), (expected, 638_000_000_000_200_000)], events.Tones);
    }

    [Fact]
    public void Every_platform_tone_has_a_protocol_tone()
    {
        foreach (ToneId tone in Enum.GetValues<ToneId>())
            Assert.NotEqual(Tone.Unspecified, SkypePlatformSession.Map(tone));
    }

    [Fact]
    public void Send_status_dominant_speaker_and_stream_failure_are_forwarded()
    {
        var socket = new ScriptedAudioSocket();
        var events = new RecordingEvents();
        _ = new SkypePlatformSession(socket, events, NullLogger.Instance, () => 0);

        socket.RaiseSendStatus(MediaSendStatus.Active);
        socket.RaiseSendStatus(MediaSendStatus.Inactive);
        socket.RaiseDominantSpeaker(1001);
        socket.RaiseDominantSpeaker(DominantSpeakerChangedEventArgs.None);
        socket.RaiseStreamFailure();

        Assert.Equal([SendStatus.Active, SendStatus.Inactive], events.SendStatuses);
        Assert.Equal([1001u, AudioFrameFormat.NoSpeaker], events.DominantSpeakers);
        Assert.Equal(["the platform reported a media stream failure"], events.StreamFailures);
    }

    [Theory]
    [InlineData(MediaPlatformHealthStatus.Normal, PlatformHealth.Normal)]
    [InlineData(MediaPlatformHealthStatus.HeavilyLoaded, PlatformHealth.HeavilyLoaded)]
    [InlineData(MediaPlatformHealthStatus.Overloaded, PlatformHealth.Overloaded)]
    [InlineData((MediaPlatformHealthStatus)77, PlatformHealth.Unspecified)]
    public void Platform_health_maps_to_the_protocol_health(MediaPlatformHealthStatus status, PlatformHealth expected) =>
        Assert.Equal(expected, SkypeMediaPlatform.Map(status));
}

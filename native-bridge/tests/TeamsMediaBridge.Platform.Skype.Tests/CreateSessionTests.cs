using Microsoft.Skype.Bots.Media;
using Newtonsoft.Json.Linq;
using TeamsMediaBridge.Protocol;

namespace TeamsMediaBridge.Platform.Skype.Tests;

/// <summary>A session from a new socket and the platform's media configuration.</summary>
public class CreateSessionTests
{
    private static readonly PlatformSessionRequest Request = new("call-3", Guid.Parse("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"), Protocol.AudioDirection.SendRecv, false);

    [Fact]
    public void The_session_carries_the_configuration_made_for_its_socket()
    {
        var socket = new ScriptedAudioSocket();
        IAudioSocket? configuredFor = null;
        var session = SkypeMediaPlatform.CreateSession(socket, Request, new RecordingEvents(), new ListLogger(),
            s => { configuredFor = s; return JObject.Parse("""{"mpUri":"net.tcp://m:1/MediaProcessor","audioRenderContexts":["r"],"audioSourceContexts":["s"]}"""); },
            () => 0);

        Assert.Same(socket, configuredFor);
        Assert.Equal("net.tcp://m:1/MediaProcessor", session.Info.MpUri);
        Assert.Equal("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", session.Info.MediaSessionId);
        Assert.Equal("r", session.Info.AudioRenderContextId);
        Assert.Equal(0, socket.DisposeCount);
    }

    [Fact]
    public void What_the_socket_raises_while_the_configuration_is_made_is_not_lost()
    {
        var socket = new ScriptedAudioSocket();
        var events = new RecordingEvents();
        _ = SkypeMediaPlatform.CreateSession(socket, Request, events, new ListLogger(),
            _ => { socket.RaiseSendStatus(MediaSendStatus.Active); return new JObject(); },
            () => 0);

        Assert.Equal([SendStatus.Active], events.SendStatuses);
    }

    [Fact]
    public void The_socket_is_disposed_when_the_configuration_fails()
    {
        var socket = new ScriptedAudioSocket();
        var error = Assert.Throws<InvalidOperationException>(() => SkypeMediaPlatform.CreateSession(socket, Request, new RecordingEvents(), new ListLogger(),
            _ => throw new InvalidOperationException("MediaPlatform is not initialized."), () => 0));

        Assert.Equal("MediaPlatform is not initialized.", error.Message);
        Assert.Equal(1, socket.DisposeCount);
    }
}

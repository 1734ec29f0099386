using Newtonsoft.Json.Linq;

namespace TeamsMediaBridge.Platform.Skype.Tests;

/// <summary>The platform's media configuration to the session info the bridge sends (SessionCreated).</summary>
public class MediaConfigurationTests
{
    private static readonly Guid MediaSessionId = Guid.Parse("0f0e0d0c-0b0a-0908-0706-050403020100");
    private static readonly PlatformSessionRequest Request = new("call-1", MediaSessionId, Protocol.AudioDirection.SendRecv, false);

    [Fact]
    public void Reads_the_fields_and_keeps_the_blob_as_the_platform_serialized_it()
    {
        const string blob = """{"mpUri":"net.tcp://media.example.com:22210/MediaProcessor","callId":"platform-call","zzExtra":[1,{"a":true}],"audioRenderContexts":["render-1","render-2"],"audioSourceContexts":["source-1"],"mpMediaSessionId":"11111111-2222-3333-4444-555555555555","skypeMediaBotsVersion":"1.33.0.258","mediaStackVersion":"2024.1","mpVersion":"7.2"}""";
        var info = MediaConfiguration.FromPlatform(JObject.Parse(blob), Request);

        Assert.Equal("11111111-2222-3333-4444-555555555555", info.MediaSessionId);
        Assert.Equal("net.tcp://media.example.com:22210/MediaProcessor", info.MpUri);
        Assert.Equal("render-1", info.AudioRenderContextId);
        Assert.Equal("source-1", info.AudioSourceContextId);
        Assert.Equal("1.33.0.258", info.SkypeMediaBotsVersion);
        Assert.Equal("2024.1", info.MediaStackVersion);
        Assert.Equal("7.2", info.MpVersion);
        // Byte for byte: key order, unknown keys and the platform's own call id untouched.
        Assert.Equal(blob, info.MediaConfigurationJson);
    }

    [Theory]
    [InlineData("""{"mpUri":"u"}""")]
    [InlineData("""{"mpUri":"u","mpMediaSessionId":null,"callId":null}""")]
    public void Adds_the_requested_media_session_id_and_call_id_when_the_platform_left_them_out(string blob)
    {
        var info = MediaConfiguration.FromPlatform(JObject.Parse(blob), Request);

        Assert.Equal(MediaSessionId.ToString("D"), info.MediaSessionId);
        var written = JObject.Parse(info.MediaConfigurationJson);
        Assert.Equal(MediaSessionId.ToString("D"), (string?)written["mpMediaSessionId"]);
        Assert.Equal("call-1", (string?)written["callId"]);
        Assert.Equal("u", (string?)written["mpUri"]);
    }

    [Fact]
    public void Missing_or_mistyped_fields_read_as_empty_not_as_an_exception()
    {
        const string blob = """{"mpMediaSessionId":"m","callId":"c","mpUri":42,"audioRenderContexts":[],"audioSourceContexts":[7],"mpVersion":{"v":1}}""";
        var info = MediaConfiguration.FromPlatform(JObject.Parse(blob), Request);

        Assert.Equal("m", info.MediaSessionId);
        Assert.Equal("", info.MpUri);
        Assert.Equal("", info.AudioRenderContextId);
        Assert.Equal("", info.AudioSourceContextId);
        Assert.Equal("", info.SkypeMediaBotsVersion);
        Assert.Equal("", info.MediaStackVersion);
        Assert.Equal("", info.MpVersion);
        Assert.Equal(blob, info.MediaConfigurationJson);
    }
}

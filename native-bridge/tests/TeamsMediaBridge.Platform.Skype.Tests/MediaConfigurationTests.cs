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
        AssertReads(blob, "11111111-2222-3333-4444-555555555555", "net.tcp://media.example.com:22210/MediaProcessor", "render-1", "source-1", "1.33.0.258", "2024.1", "7.2");
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
        AssertReads(blob, "m", "", "", "", "", "", "");
    }

    /// <summary>Reads the blob and checks every field; the blob passes through byte for byte
    /// (key order, unknown keys and the platform's own call id untouched).</summary>
    private static void AssertReads(string blob, string mediaSessionId, string mpUri, string renderContext,
        string sourceContext, string skypeMediaBotsVersion, string mediaStackVersion, string mpVersion)
    {
        var info = MediaConfiguration.FromPlatform(JObject.Parse(blob), Request);

        Assert.Equal(mediaSessionId, info.MediaSessionId);
        Assert.Equal(mpUri, info.MpUri);
        Assert.Equal(renderContext, info.AudioRenderContextId);
        Assert.Equal(sourceContext, info.AudioSourceContextId);
        Assert.Equal(skypeMediaBotsVersion, info.SkypeMediaBotsVersion);
        Assert.Equal(mediaStackVersion, info.MediaStackVersion);
        Assert.Equal(mpVersion, info.MpVersion);
        Assert.Equal(blob, info.MediaConfigurationJson);
    }
}

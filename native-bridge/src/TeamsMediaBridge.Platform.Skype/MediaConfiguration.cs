using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace TeamsMediaBridge.Platform.Skype;

/// <summary>
/// Reads the session fields out of the configuration the platform produced, and keeps the blob
/// as the platform serialized it. If the platform's object lacks the media session id or the
/// call id, the requested values are added (Graph needs both in the blob).
/// </summary>
internal static class MediaConfiguration
{
    public static PlatformSessionInfo FromPlatform(JObject configuration, PlatformSessionRequest request)
    {
        if (configuration["mpMediaSessionId"] is null || configuration["mpMediaSessionId"]!.Type == JTokenType.Null)
            configuration["mpMediaSessionId"] = request.MediaSessionId.ToString("D");
        if (configuration["callId"] is null || configuration["callId"]!.Type == JTokenType.Null)
            configuration["callId"] = request.CallId;
        return new PlatformSessionInfo(
            MediaSessionId: Text(configuration, "mpMediaSessionId"),
            MpUri: Text(configuration, "mpUri"),
            AudioRenderContextId: First(configuration, "audioRenderContexts"),
            AudioSourceContextId: First(configuration, "audioSourceContexts"),
            SkypeMediaBotsVersion: Text(configuration, "skypeMediaBotsVersion"),
            MediaStackVersion: Text(configuration, "mediaStackVersion"),
            MpVersion: Text(configuration, "mpVersion"),
            MediaConfigurationJson: configuration.ToString(Formatting.None));
    }

    private static string Text(JObject configuration, string key) =>
        configuration[key] is JValue { Type: JTokenType.String } value ? (string)value! : "";

    private static string First(JObject configuration, string key) =>
        configuration[key] is JArray { Count: > 0 } array && array[0].Type == JTokenType.String ? (string)array[0]! : "";
}

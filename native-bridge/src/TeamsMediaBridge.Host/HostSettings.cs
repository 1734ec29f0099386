using Microsoft.Extensions.Configuration;

namespace TeamsMediaBridge.Host;

/// <summary>A setting that is missing or malformed; the message names it and says what is expected.</summary>
public sealed class SettingsException(string key, string problem) : Exception($"{key}: {problem}");

/// <summary>
/// The host's settings, read from the environment (or appsettings.json beside the program) under
/// the bot's own variable names, and validated at start.
/// </summary>
public sealed record HostSettings
{
    public required Uri BridgeUrl { get; init; }
    public required string BridgeSecret { get; init; }
    public int MaxSessions { get; init; }
    public int RenderQueueFrames { get; init; }
    public int ReconnectGraceMs { get; init; }
    public string? MediaFqdn { get; init; }
    public int MediaPublicPort { get; init; }
    public int MediaInternalPort { get; init; }
    public string? MediaPublicIp { get; init; }
    public string? MediaCertificateThumbprint { get; init; }
    public string? AppId { get; init; }
    public string LogLevel { get; init; } = "info";

    public static HostSettings Read(IConfiguration config, bool fakePlatform)
    {
        var url = config["BOT_BRIDGE_URL"] is { Length: > 0 } raw ? raw : "ws://127.0.0.1:9442/bridge";
        if (!Uri.TryCreate(url, UriKind.Absolute, out var bridgeUrl) || bridgeUrl.Scheme != "ws")
            throw new SettingsException("BOT_BRIDGE_URL", $"must be a ws:// URL, got \"{url}\"");
        if (!bridgeUrl.IsLoopback)
            throw new SettingsException("BOT_BRIDGE_URL", $"the host listens on loopback only, got host \"{bridgeUrl.Host}\"");
        var secret = config["BOT_BRIDGE_SECRET"];
        if (string.IsNullOrEmpty(secret)) throw new SettingsException("BOT_BRIDGE_SECRET", "is required");
        if (secret.Length < 16) throw new SettingsException("BOT_BRIDGE_SECRET", "must be at least 16 characters");

        var settings = new HostSettings
        {
            BridgeUrl = bridgeUrl,
            BridgeSecret = secret,
            MaxSessions = ReadInt(config, "BOT_BRIDGE_MAX_SESSIONS", 500, 0, 10_000),
            RenderQueueFrames = ReadInt(config, "BOT_BRIDGE_RENDER_QUEUE_FRAMES", 50, 1, 3_000),
            ReconnectGraceMs = ReadInt(config, "BOT_BRIDGE_RECONNECT_GRACE_MS", 5_000, 0, 120_000),
            MediaFqdn = Optional(config, "BOT_MEDIA_FQDN"),
            MediaPublicPort = ReadInt(config, "BOT_MEDIA_PUBLIC_PORT", 8445, 1, 65_535),
            MediaInternalPort = ReadInt(config, "BOT_MEDIA_INTERNAL_PORT", 8445, 1, 65_535),
            MediaPublicIp = Optional(config, "BOT_MEDIA_PUBLIC_IP"),
            MediaCertificateThumbprint = Optional(config, "BOT_MEDIA_CERT_THUMBPRINT"),
            AppId = Optional(config, "BOT_APP_ID"),
            LogLevel = Optional(config, "BOT_LOG_LEVEL") ?? "info",
        };
        if (settings.MediaFqdn is { } fqdn && !System.Text.RegularExpressions.Regex.IsMatch(fqdn, "^[A-Za-z0-9.-]+$"))
            throw new SettingsException("BOT_MEDIA_FQDN", $"must be a host name, got \"{fqdn}\"");
        if (!fakePlatform)
        {
            // The real platform cannot start without these (its certificate must match the FQDN).
            if (settings.MediaFqdn is null) throw new SettingsException("BOT_MEDIA_FQDN", "is required with the real media platform");
            if (settings.MediaPublicIp is null || !System.Net.IPAddress.TryParse(settings.MediaPublicIp, out _))
                throw new SettingsException("BOT_MEDIA_PUBLIC_IP", "must be the instance's public IP address");
            if (settings.MediaCertificateThumbprint is null || !System.Text.RegularExpressions.Regex.IsMatch(settings.MediaCertificateThumbprint, "^[0-9A-Fa-f]{40}$"))
                throw new SettingsException("BOT_MEDIA_CERT_THUMBPRINT", "must be the 40-hex-digit thumbprint of the media certificate");
            if (settings.AppId is null || !Guid.TryParse(settings.AppId, out _))
                throw new SettingsException("BOT_APP_ID", "must be the bot's application id (a GUID)");
        }
        return settings;
    }

    public Microsoft.Extensions.Logging.LogLevel MinimumLogLevel => LogLevel.ToLowerInvariant() switch
    {
        "trace" => Microsoft.Extensions.Logging.LogLevel.Trace,
        "debug" => Microsoft.Extensions.Logging.LogLevel.Debug,
        "info" or "information" => Microsoft.Extensions.Logging.LogLevel.Information,
        "warn" or "warning" => Microsoft.Extensions.Logging.LogLevel.Warning,
        "error" => Microsoft.Extensions.Logging.LogLevel.Error,
        "fatal" or "critical" => Microsoft.Extensions.Logging.LogLevel.Critical,
        "silent" or "none" => Microsoft.Extensions.Logging.LogLevel.None,
        _ => throw new SettingsException("BOT_LOG_LEVEL", $"must be trace, debug, info, warn, error, fatal or silent, got \"{LogLevel}\""),
    };

    private static string? Optional(IConfiguration config, string key) => config[key] is { Length: > 0 } value ? value.Trim() : null;

    private static int ReadInt(IConfiguration config, string key, int fallback, int min, int max)
    {
        var raw = Optional(config, key);
        if (raw is null) return fallback;
        if (!int.TryParse(raw, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value) || value < min || value > max)
            throw new SettingsException(key, $"must be an integer from {min} to {max}, got \"{raw}\"");
        return value;
    }
}

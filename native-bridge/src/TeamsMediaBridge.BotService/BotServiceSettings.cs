using Microsoft.Extensions.Configuration;

namespace TeamsMediaBridge.BotService;

/// <summary>Thrown for a bad setting; the message names it.</summary>
public sealed class BotServiceSettingsException(string setting, string message)
    : Exception($"BotService:{setting} {message}");

/// <summary>
/// The "BotService" section (appsettings.json beside the program, environment variables
/// <c>BotService__Name</c>, or <c>--BotService:Name=value</c> arguments). Relative paths are
/// relative to the program's folder: a service starts in System32.
/// </summary>
public sealed record BotServiceSettings
{
    /// <summary>node.exe, or a name found on PATH.</summary>
    public required string NodePath { get; init; }
    /// <summary>The bot's entry, dist/bot.js of the installed package.</summary>
    public required string ScriptPath { get; init; }
    public required string WorkingDirectory { get; init; }
    /// <summary>The bot's JSON settings, passed as BOT_CONFIG_FILE; null: only the environment.</summary>
    public string? ConfigFile { get; init; }
    public required string LogFile { get; init; }
    public long LogMaxBytes { get; init; } = 10 * 1024 * 1024;
    public int LogMaxFiles { get; init; } = 5;
    /// <summary>How long a stop waits for the bot to hang up its calls before killing it.</summary>
    public TimeSpan StopTimeout { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>Longest stop wait: Windows gives a stopping service minutes at most, and a shutdown far less.</summary>
    public static readonly TimeSpan MaxStopTimeout = TimeSpan.FromSeconds(120);

    public static BotServiceSettings Read(IConfiguration configuration, string baseDirectory)
    {
        var section = configuration.GetSection("BotService");
        string Path(string name, string? fallback)
        {
            string? value = section[name];
            if (string.IsNullOrWhiteSpace(value)) value = fallback;
            if (string.IsNullOrWhiteSpace(value)) throw new BotServiceSettingsException(name, "is required but not set");
            return System.IO.Path.GetFullPath(value, baseDirectory);
        }
        string node = section["NodePath"] is { Length: > 0 } n ? n : "node";
        // A bare name is looked up on PATH by the process start; anything else is a path.
        if (node.Contains('/') || node.Contains('\\')) node = System.IO.Path.GetFullPath(node, baseDirectory);
        string script = Path("ScriptPath", null);
        if (!File.Exists(script)) throw new BotServiceSettingsException("ScriptPath", $"\"{script}\" does not exist");
        string workingDirectory = Path("WorkingDirectory", baseDirectory);
        if (!Directory.Exists(workingDirectory))
            throw new BotServiceSettingsException("WorkingDirectory", $"\"{workingDirectory}\" does not exist");
        string? configFile = string.IsNullOrWhiteSpace(section["ConfigFile"]) ? null : Path("ConfigFile", null);
        if (configFile is not null && !File.Exists(configFile))
            throw new BotServiceSettingsException("ConfigFile", $"\"{configFile}\" does not exist");
        long maxBytes = Number(section, "LogMaxBytes", 10 * 1024 * 1024, 64 * 1024, 1L << 34);
        int maxFiles = (int)Number(section, "LogMaxFiles", 5, 1, 100);
        double stopSeconds = Number(section, "StopTimeoutSeconds", 20, 1, (long)MaxStopTimeout.TotalSeconds);
        return new BotServiceSettings
        {
            NodePath = node,
            ScriptPath = script,
            WorkingDirectory = workingDirectory,
            ConfigFile = configFile,
            LogFile = Path("LogFile", "logs/bot.log"),
            LogMaxBytes = maxBytes,
            LogMaxFiles = maxFiles,
            StopTimeout = TimeSpan.FromSeconds(stopSeconds),
        };
    }

    static long Number(IConfigurationSection section, string name, long fallback, long min, long max)
    {
        string? value = section[name];
        if (string.IsNullOrWhiteSpace(value)) return fallback;
        if (!long.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long parsed)
            || parsed < min || parsed > max)
            throw new BotServiceSettingsException(name, $"must be an integer from {min} to {max}, got \"{value}\"");
        return parsed;
    }
}

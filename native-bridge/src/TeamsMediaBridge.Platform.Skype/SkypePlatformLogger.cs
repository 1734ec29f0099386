using Microsoft.Extensions.Logging;
using Microsoft.Skype.Bots.Media;

namespace TeamsMediaBridge.Platform.Skype;

/// <summary>Routes the media platform's own log lines into the host's structured logs.</summary>
internal sealed class SkypePlatformLogger(ILogger logger) : IMediaPlatformLogger
{
    public void WriteLog(Microsoft.Skype.Bots.Media.LogLevel level, string logStatement)
    {
        var mapped = level.ToString() switch
        {
            "Error" => Microsoft.Extensions.Logging.LogLevel.Error,
            "Warning" => Microsoft.Extensions.Logging.LogLevel.Warning,
            "Information" => Microsoft.Extensions.Logging.LogLevel.Information,
            _ => Microsoft.Extensions.Logging.LogLevel.Debug,
        };
        logger.Log(mapped, "{PlatformLog}", logStatement);
    }
}

using Microsoft.Extensions.Logging;

namespace TeamsMediaBridge.Platform.Skype.Tests;

/// <summary>The platform's own log lines in the host's logs, at the matching level.</summary>
public class PlatformLoggerTests
{
    [Theory]
    [InlineData(Microsoft.Skype.Bots.Media.LogLevel.Error, LogLevel.Error)]
    [InlineData(Microsoft.Skype.Bots.Media.LogLevel.Warning, LogLevel.Warning)]
    [InlineData(Microsoft.Skype.Bots.Media.LogLevel.Information, LogLevel.Information)]
    [InlineData(Microsoft.Skype.Bots.Media.LogLevel.Verbose, LogLevel.Debug)]
    public void A_platform_log_line_keeps_its_text_at_the_mapped_level(Microsoft.Skype.Bots.Media.LogLevel level, LogLevel expected)
    {
        var logger = new ListLogger();
        new SkypePlatformLogger(logger).WriteLog(level, "MediaPlatform started: 4 cores");

        var line = Assert.Single(logger.Lines);
        Assert.Equal(expected, line.Level);
        Assert.Equal("MediaPlatform started: 4 cores", line.Message);
    }
}

using Microsoft.Extensions.Hosting;

namespace TeamsMediaBridge.BotService;

/// <summary>
/// Off Windows services (a console, Linux, tests): stops the host; Program returns ExitCode.
/// </summary>
public sealed class StopHostOnFailure(IHostApplicationLifetime lifetime) : IServiceFailure
{
    public int ExitCode { get; private set; }

    public void Fail(int exitCode)
    {
        ExitCode = exitCode;
        lifetime.StopApplication();
    }
}

/// <summary>
/// As a Windows service: ends the process without reporting SERVICE_STOPPED, which the SCM
/// counts as a failure and answers with the service's recovery actions (restart), whatever
/// its "failure actions on non-crash failures" flag. A stopped host would report a clean stop.
/// The bot is already gone; the log file writes through, so nothing is lost.
/// </summary>
public sealed class TerminateOnFailure(RotatingLogFile log) : IServiceFailure
{
    public void Fail(int exitCode)
    {
        log.Dispose();
        Environment.Exit(exitCode);
    }
}

using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace TeamsMediaBridge.BotService;

/// <summary>What the service does when the bot exits without being asked to (its exit code, never 0).</summary>
public interface IServiceFailure
{
    void Fail(int exitCode);
}

/// <summary>
/// Runs the bot (<c>node bot.js</c>) for the service's lifetime. The bot is told to stop
/// gracefully by the end of its stdin (BOT_STOP_ON_STDIN_END=true; Windows has no SIGTERM):
/// it hangs up every call through Graph, finalizes recordings, closes the bridge and exits.
/// After StopTimeout it is killed with its process tree. It is never restarted here: when it
/// exits by itself the service fails with a non-zero code and the service manager's recovery
/// actions decide.
/// </summary>
public sealed class BotProcessService(
    BotServiceSettings settings,
    RotatingLogFile log,
    IServiceFailure failure,
    ILogger<BotProcessService> logger,
    Action<TimeSpan>? requestAdditionalStopTime = null) : IHostedService, IDisposable
{
    Process? _process;
    Task? _exited;
    volatile bool _stopping;

    /// <summary>The bot's process id once started (tests, logs).</summary>
    public int? ProcessId => _process?.Id;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(settings.NodePath)
        {
            WorkingDirectory = settings.WorkingDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            CreateNoWindow = true,
        };
        start.ArgumentList.Add(settings.ScriptPath);
        start.Environment["BOT_STOP_ON_STDIN_END"] = "true";
        if (settings.ConfigFile is not null) start.Environment["BOT_CONFIG_FILE"] = settings.ConfigFile;
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) log.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) log.WriteLine(e.Data); };
        Note($"starting {settings.NodePath} {settings.ScriptPath} in {settings.WorkingDirectory}");
        try
        {
            process.Start();
        }
        catch (Exception error) when (error is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            process.Dispose();
            throw new BotServiceSettingsException("NodePath", $"\"{settings.NodePath}\" could not be started: {error.Message}");
        }
        _process = process;
        if (OperatingSystem.IsWindows() && KillOnCloseJob.Assign(process) is { } notInJob)
            Note($"the bot will outlive this process if it crashes: {notInJob}");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        Note($"bot started, pid {process.Id}");
        _exited = WatchAsync(process);
        return Task.CompletedTask;
    }

    async Task WatchAsync(Process process)
    {
        // Also waits for the end of its redirected output, so the last lines are in the log.
        await process.WaitForExitAsync().ConfigureAwait(false);
        if (_stopping) return;
        int code = process.ExitCode == 0 ? 1 : process.ExitCode;
        logger.LogError("the bot exited by itself with code {ExitCode}; the service fails with {ServiceExitCode}", process.ExitCode, code);
        Note($"the bot exited by itself with code {process.ExitCode}; the service fails with {code}");
        failure.Fail(code);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        var process = _process;
        if (process is null || _exited is null) return;
        _stopping = true;
        if (_exited.IsCompleted) return;
        // The SCM kills a stop-pending service that gives no sign of progress within its wait hint.
        requestAdditionalStopTime?.Invoke(settings.StopTimeout + TimeSpan.FromSeconds(5));
        Note($"stopping: closing the bot's stdin, waiting up to {settings.StopTimeout.TotalSeconds:0} s");
        try
        {
            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // Its stdin is already gone: it is exiting.
        }
        var waited = await Task.WhenAny(_exited, Task.Delay(settings.StopTimeout, CancellationToken.None)).ConfigureAwait(false);
        if (waited == _exited)
        {
            Note($"the bot stopped with code {process.ExitCode}");
            return;
        }
        logger.LogWarning("the bot did not stop within {Seconds} s: killing it and its child processes", settings.StopTimeout.TotalSeconds);
        Note($"the bot did not stop within {settings.StopTimeout.TotalSeconds:0} s: killing it and its child processes");
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Exited meanwhile.
        }
        await _exited.WaitAsync(TimeSpan.FromSeconds(10), CancellationToken.None).ConfigureAwait(false);
    }

    void Note(string line)
    {
        logger.LogInformation("{Line}", line);
        log.WriteLine($"{DateTime.UtcNow:yyyy-MM-ddTHH:mm:ss.fffZ} [TeamsMediaBot.Service] {line}");
    }

    public void Dispose() => _process?.Dispose();
}

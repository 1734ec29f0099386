using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using TeamsMediaBridge.BotService;

namespace TeamsMediaBridge.Tests;

/// <summary>
/// TeamsMediaBot.Service (src/TeamsMediaBridge.BotService) with a real node child process: a
/// stop closes the child's stdin and waits for it, a child that does not stop is killed with its
/// own children after the timeout, a child exiting by itself fails the service. The last tests
/// run the built program itself.
/// </summary>
public sealed class BotServiceTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), $"bot-service-{Guid.NewGuid():N}");

    public BotServiceTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    sealed class RecordedFailure : IServiceFailure
    {
        public readonly TaskCompletionSource<int> Code = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public void Fail(int exitCode) => Code.TrySetResult(exitCode);
    }

    /// <summary>Stands for the bot: says what it was started with, then stops like it on stdin's end.</summary>
    const string GracefulBot = """
        console.log(`bot up stop-on-stdin-end=${process.env.BOT_STOP_ON_STDIN_END} config=${process.env.BOT_CONFIG_FILE}`);
        console.error("a line on stderr");
        process.stdin.on("end", () => {
          console.log("stdin ended: hanging up calls");
          setTimeout(() => { console.log("calls ended"); process.exit(0); }, 300);
        });
        process.stdin.resume();
        """;

    string Script(string name, string body)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, body);
        return path;
    }

    BotServiceSettings Settings(string script, double stopSeconds = 20) => new()
    {
        NodePath = "node",
        ScriptPath = script,
        WorkingDirectory = _dir,
        ConfigFile = Path.Combine(_dir, "settings.json"),
        LogFile = Path.Combine(_dir, "logs", "bot.log"),
        StopTimeout = TimeSpan.FromSeconds(stopSeconds),
    };

    static async Task<string> LogContaining(string path, string text, int timeoutMs = 20_000)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            string content = File.Exists(path) ? ReadShared(path) : "";
            if (content.Contains(text, StringComparison.Ordinal)) return content;
            if (clock.ElapsedMilliseconds > timeoutMs) throw new Xunit.Sdk.XunitException($"\"{text}\" not in {path} after {timeoutMs} ms:\n{content}");
            await Task.Delay(50);
        }
    }

    static string ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        return new StreamReader(stream).ReadToEnd();
    }

    /// <summary>Running, not gone nor a zombie waiting to be reaped.</summary>
    static bool IsAlive(int pid)
    {
        if (OperatingSystem.IsLinux())
        {
            string stat = $"/proc/{pid}/stat";
            if (!File.Exists(stat)) return false;
            string text;
            try { text = File.ReadAllText(stat); } catch (IOException) { return false; }
            return text[(text.LastIndexOf(')') + 2)] != 'Z';
        }
        try { return !Process.GetProcessById(pid).HasExited; } catch (ArgumentException) { return false; }
    }

    [Fact]
    public async Task Stop_closes_the_bots_stdin_and_waits_for_its_graceful_stop()
    {
        var settings = Settings(Script("bot.js", GracefulBot));
        using var log = new RotatingLogFile(settings.LogFile, 1 << 20, 3);
        var failure = new RecordedFailure();
        TimeSpan? extraTime = null;
        using var service = new BotProcessService(settings, log, failure, NullLogger<BotProcessService>.Instance, time => extraTime = time);
        await service.StartAsync(CancellationToken.None);
        await LogContaining(settings.LogFile, "a line on stderr");

        await service.StopAsync(CancellationToken.None);

        string content = ReadShared(settings.LogFile);
        Assert.Contains($"bot up stop-on-stdin-end=true config={settings.ConfigFile}", content);
        Assert.Contains("stdin ended: hanging up calls", content);
        Assert.Contains("calls ended", content); // waited for it, the last line is in the log
        Assert.Contains("the bot stopped with code 0", content);
        Assert.DoesNotContain("killing", content);
        Assert.False(IsAlive(service.ProcessId!.Value));
        Assert.False(failure.Code.Task.IsCompleted); // asked to stop: not a failure
        Assert.True(extraTime > settings.StopTimeout); // asked the SCM for the stop's time
    }

    [Fact]
    public async Task A_bot_that_does_not_stop_is_killed_with_its_child_processes_after_the_timeout()
    {
        // Ignores stdin's end, and its child holds the output pipes open too.
        var settings = Settings(Script("hung.js", """
            const child = require("node:child_process").spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "inherit" });
            console.log(`grandchild ${child.pid}`);
            process.stdin.on("end", () => console.log("stdin ended: ignored"));
            process.stdin.resume();
            setInterval(() => {}, 1000);
            """), stopSeconds: 1);
        using var log = new RotatingLogFile(settings.LogFile, 1 << 20, 3);
        var failure = new RecordedFailure();
        using var service = new BotProcessService(settings, log, failure, NullLogger<BotProcessService>.Instance);
        await service.StartAsync(CancellationToken.None);
        string started = await LogContaining(settings.LogFile, "grandchild ");
        int grandchild = int.Parse(started.Split("grandchild ")[1].Split('\r', '\n')[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(IsAlive(grandchild));

        var clock = Stopwatch.StartNew();
        await service.StopAsync(CancellationToken.None);
        clock.Stop();

        string content = ReadShared(settings.LogFile);
        Assert.Contains("stdin ended: ignored", content);
        Assert.Contains("did not stop within 1 s: killing it", content);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(15));
        Assert.False(IsAlive(service.ProcessId!.Value));
        var gone = Stopwatch.StartNew();
        while (IsAlive(grandchild) && gone.ElapsedMilliseconds < 10_000) await Task.Delay(50);
        Assert.False(IsAlive(grandchild));
        Assert.False(failure.Code.Task.IsCompleted);
    }

    [Theory]
    [InlineData(3, 3)]
    [InlineData(0, 1)] // a bot that ends by itself with 0 is still not a stop anyone asked for
    public async Task A_bot_exiting_by_itself_fails_the_service_with_a_non_zero_code(int botCode, int serviceCode)
    {
        var settings = Settings(Script("crash.js", $$"""
            console.error("bot failed: something broke");
            setTimeout(() => process.exit({{botCode}}), 100);
            """));
        using var log = new RotatingLogFile(settings.LogFile, 1 << 20, 3);
        var failure = new RecordedFailure();
        using var service = new BotProcessService(settings, log, failure, NullLogger<BotProcessService>.Instance);
        await service.StartAsync(CancellationToken.None);

        Assert.Equal(serviceCode, await failure.Code.Task.WaitAsync(TimeSpan.FromSeconds(20)));
        string content = ReadShared(settings.LogFile);
        Assert.Contains("bot failed: something broke", content);
        Assert.Contains($"the bot exited by itself with code {botCode}; the service fails with {serviceCode}", content);
        await service.StopAsync(CancellationToken.None); // nothing left to stop
    }

    [Fact]
    public void The_log_never_grows_past_its_limit_and_keeps_the_newest_files()
    {
        string path = Path.Combine(_dir, "logs", "bot.log");
        using (var log = new RotatingLogFile(path, 256, 3))
            for (int i = 0; i < 100; i++) log.WriteLine($"line {i:D3} ........................");
        string[] files = Directory.GetFiles(Path.Combine(_dir, "logs")).Select(file => Path.GetFileName(file)).Order().ToArray();
        Assert.Equal(["bot.1.log", "bot.2.log", "bot.log"], files);
        foreach (string file in files) Assert.InRange(new FileInfo(Path.Combine(_dir, "logs", file)).Length, 1, 256);
        string newest = File.ReadAllText(path);
        Assert.EndsWith("line 099 ........................\r\n", newest);
        // Consecutive across the files, oldest in bot.2.log.
        string all = File.ReadAllText(Path.Combine(_dir, "logs", "bot.2.log")) + File.ReadAllText(Path.Combine(_dir, "logs", "bot.1.log")) + newest;
        var numbers = all.Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Select(line => int.Parse(line[5..8], System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(Enumerable.Range(numbers[0], numbers.Length), numbers);
    }

    [Fact]
    public void Settings_resolve_relative_paths_against_the_program_folder_and_name_what_is_wrong()
    {
        string script = Script("bot.js", "");
        IConfiguration Config(params (string Key, string Value)[] values) =>
            new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => KeyValuePair.Create($"BotService:{v.Key}", (string?)v.Value))).Build();

        var settings = BotServiceSettings.Read(Config(("ScriptPath", "bot.js"), ("LogFile", "logs/bot.log")), _dir);
        Assert.Equal(script, settings.ScriptPath);
        Assert.Equal(Path.Combine(_dir, "logs", "bot.log"), settings.LogFile);
        Assert.Equal(_dir, settings.WorkingDirectory.TrimEnd(Path.DirectorySeparatorChar));
        Assert.Equal("node", settings.NodePath);
        Assert.Null(settings.ConfigFile);
        Assert.Equal(TimeSpan.FromSeconds(20), settings.StopTimeout);

        var missing = Assert.Throws<BotServiceSettingsException>(() => BotServiceSettings.Read(Config(("ScriptPath", "nope.js")), _dir));
        Assert.StartsWith("BotService:ScriptPath ", missing.Message);
        Assert.Contains("nope.js", missing.Message);
        var timeout = Assert.Throws<BotServiceSettingsException>(() =>
            BotServiceSettings.Read(Config(("ScriptPath", "bot.js"), ("StopTimeoutSeconds", "600")), _dir));
        Assert.StartsWith("BotService:StopTimeoutSeconds must be an integer from 1 to 120", timeout.Message);
        var config = Assert.Throws<BotServiceSettingsException>(() =>
            BotServiceSettings.Read(Config(("ScriptPath", "bot.js"), ("ConfigFile", "missing.json")), _dir));
        Assert.StartsWith("BotService:ConfigFile ", config.Message);
    }

    /// <summary>The built program (dotnet TeamsMediaBot.Service.dll) with these arguments.</summary>
    Process StartProgram(string script, double stopSeconds)
    {
        string dll = typeof(BotProcessService).Assembly.Location;
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in new[]
                 {
                     dll, $"--BotService:ScriptPath={script}", $"--BotService:WorkingDirectory={_dir}",
                     $"--BotService:LogFile={Path.Combine(_dir, "logs", "bot.log")}",
                     $"--BotService:StopTimeoutSeconds={stopSeconds}",
                 })
            start.ArgumentList.Add(arg);
        var process = Process.Start(start)!;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    [Fact]
    public async Task The_program_fails_with_the_bots_code_when_the_bot_crashes()
    {
        string script = Script("crash.js", "setTimeout(() => process.exit(7), 100);");
        using var program = StartProgram(script, 5);
        await program.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(7, program.ExitCode);
        Assert.Contains("the bot exited by itself with code 7", ReadShared(Path.Combine(_dir, "logs", "bot.log")));
    }

    [Fact]
    public async Task The_program_stops_the_bot_gracefully_when_it_is_stopped()
    {
        if (!OperatingSystem.IsLinux()) return; // stopped here by SIGTERM (the console lifetime); a service by the SCM
        using var program = StartProgram(Script("bot.js", GracefulBot), 20);
        string log = Path.Combine(_dir, "logs", "bot.log");
        await LogContaining(log, "a line on stderr", 60_000);
        using (var kill = Process.Start("kill", ["-TERM", program.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            await kill.WaitForExitAsync();
        await program.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(0, program.ExitCode);
        string content = ReadShared(log);
        Assert.Contains("stdin ended: hanging up calls", content);
        Assert.Contains("calls ended", content);
        Assert.Contains("the bot stopped with code 0", content);
    }
}

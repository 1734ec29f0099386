using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using TeamsMediaBridge.Host;
using TeamsMediaBridge.Platform;
using TeamsMediaBridge.Platform.Fake;

const string Usage = """
    TeamsMediaBridge.Host: the .NET media host the bot's media worker connects to.

      --fake-platform          use the fake media platform (Linux, tests, demos) instead of
                               Microsoft.Skype.Bots.Media (Windows x64 only)
      --fake-tone-hz <hz>      what every fake call "hears": a sine tone (default 440)
      --fake-wav <path>        ... or a WAV file (PCM 16-bit mono 16 kHz), looped
      --fake-record-dir <dir>  write what each fake call was sent to <dir>/<call id>.wav when
                               its session ends (the last --fake-record-seconds of it)
      --fake-record-seconds <s>  60 (1 to 3600); without --fake-record-dir nothing is kept
      --fake-echo-stats        measure the echo round trip (benchmarks): marks every source
                               frame and matches the marks in what the bridge plays; read with
                               GET /fake-platform/echo-latency, reset with POST .../reset
      --help                   this text

    Settings (environment, or appsettings.json beside the program):
      BOT_BRIDGE_URL           ws://127.0.0.1:9442/bridge (the host listens on its loopback port and path)
      BOT_BRIDGE_SECRET        shared secret, at least 16 characters (required)
      BOT_BRIDGE_MAX_SESSIONS  500; BOT_BRIDGE_RENDER_QUEUE_FRAMES 50; BOT_LOG_LEVEL info
      BOT_BRIDGE_RECONNECT_GRACE_MS  5000 (sessions wait this long for a lost worker to resume them)
      BOT_MEDIA_FQDN, BOT_MEDIA_PUBLIC_PORT (8445), BOT_MEDIA_INTERNAL_PORT (8445),
      BOT_MEDIA_PUBLIC_IP, BOT_MEDIA_CERT_THUMBPRINT, BOT_APP_ID   (the real platform)
    """;

if (args.Contains("--help"))
{
    Console.Out.WriteLine(Usage);
    return 0;
}
bool fake = args.Contains("--fake-platform");
string? wav = ArgValue(args, "--fake-wav");
string? toneHz = ArgValue(args, "--fake-tone-hz");
string? recordDir = ArgValue(args, "--fake-record-dir");
string? recordSecondsArg = ArgValue(args, "--fake-record-seconds");
bool echoStats = args.Contains("--fake-echo-stats");

var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
{
    // appsettings.json is read from beside the program, also when started as a Windows service.
    ContentRootPath = AppContext.BaseDirectory,
    Args = [],
});
HostSettings settings;
// Each fake session gets its own source (a source has a read position).
Func<IFakeAudioSource> fakeSource = () => new ToneSource();
int recordSeconds = 60;
try
{
#if !SKYPE_PLATFORM
    if (!fake)
    {
        throw new SettingsException("--fake-platform",
            "the real media platform (Microsoft.Skype.Bots.Media) runs on Windows x64 only and this build has no adapter for it; start with --fake-platform");
    }
#endif
    settings = HostSettings.Read(builder.Configuration, fake);
    if (wav is not null)
    {
        var pcm = WavSource.ReadPcm16KMono(File.ReadAllBytes(wav), wav);
        _ = new WavSource(pcm); // refuses a file shorter than one frame now, not at the first call
        fakeSource = () => new WavSource(pcm);
    }
    else if (toneHz is not null)
    {
        if (!double.TryParse(toneHz, System.Globalization.CultureInfo.InvariantCulture, out var hz)) throw new SettingsException("--fake-tone-hz", $"must be a number, got \"{toneHz}\"");
        _ = new ToneSource(hz);
        fakeSource = () => new ToneSource(hz);
    }
    if (recordSecondsArg is not null)
    {
        if (!int.TryParse(recordSecondsArg, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out recordSeconds) || recordSeconds < 1 || recordSeconds > 3600)
            throw new SettingsException("--fake-record-seconds", $"must be an integer from 1 to 3600, got \"{recordSecondsArg}\"");
    }
    if (echoStats && !fake) throw new SettingsException("--fake-echo-stats", "needs --fake-platform");
    if (recordDir is not null)
    {
        if (!fake) throw new SettingsException("--fake-record-dir", "needs --fake-platform");
        recordDir = Path.GetFullPath(recordDir);
        Directory.CreateDirectory(recordDir); // a directory that cannot be made fails the start, not the first call
    }
}
catch (Exception error) when (error is SettingsException or InvalidDataException or IOException or ArgumentException or UnauthorizedAccessException)
{
    Console.Error.WriteLine($"configuration error: {error.Message}");
    return 2;
}

builder.Logging.ClearProviders();
builder.Logging.SetMinimumLevel(settings.MinimumLogLevel);
builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
builder.Logging.AddJsonConsole(options =>
{
    options.IncludeScopes = true;
    options.UseUtcTimestamp = true;
    options.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
});
// Every log line goes to stderr, so stdout carries only the "listening on" line.
builder.Services.Configure<ConsoleLoggerOptions>(options => options.LogToStandardErrorThreshold = LogLevel.Trace);
builder.Services.AddWindowsService(options => options.ServiceName = "TeamsMediaHost");
builder.Services.AddSingleton(settings);
builder.Services.AddSingleton<IMediaPlatform>(services => CreatePlatform(settings, fake, fakeSource, recordDir, recordSeconds, echoStats, services));
builder.Services.AddHostedService<BridgeHostService>();

using var host = builder.Build();
try
{
    await host.RunAsync();
    return 0;
}
catch (Exception error)
{
    host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("TeamsMediaBridge.Host").LogCritical(error, "media host failed");
    return 1;
}

static IMediaPlatform CreatePlatform(HostSettings settings, bool fake, Func<IFakeAudioSource> source,
    string? recordDir, int recordSeconds, bool echoStats, IServiceProvider services)
{
    if (fake)
    {
        var log = services.GetRequiredService<ILoggerFactory>().CreateLogger("TeamsMediaBridge.Platform.Fake");
        // Kept only when asked for: recording copies every sent frame.
        Action<FakePlatformSession>? ended = null;
        if (recordDir is not null)
        {
            var writer = new FakeRecordingWriter(recordDir,
                (callId, error) => log.LogError(error, "could not write the recording of call {CallId}", callId));
            ended = session =>
            {
                int frames = writer.OnSessionEnded(session);
                if (frames >= 0)
                    log.LogInformation("recording of call {CallId} written: {Path} ({Frames} frames)",
                        session.Request.CallId, writer.PathFor(session.Request.CallId), frames);
            };
        }
        return new FakeMediaPlatform(new FakeMediaPlatformOptions
        {
            ServiceFqdn = settings.MediaFqdn ?? "media.localhost",
            PublicPort = settings.MediaPublicPort,
            SourceFactory = _ => source(),
            RecordFrames = recordDir is null ? 0 : recordSeconds * 1000 / AudioFrameFormat.FrameMilliseconds,
            OnSessionEnded = ended,
            MeasureEcho = echoStats,
        });
    }
#if SKYPE_PLATFORM
    return new TeamsMediaBridge.Platform.Skype.SkypeMediaPlatform(new TeamsMediaBridge.Platform.Skype.SkypePlatformSettings
    {
        ApplicationId = settings.AppId!,
        CertificateThumbprint = settings.MediaCertificateThumbprint!,
        InstanceInternalPort = settings.MediaInternalPort,
        InstancePublicPort = settings.MediaPublicPort,
        InstancePublicIpAddress = System.Net.IPAddress.Parse(settings.MediaPublicIp!),
        ServiceFqdn = settings.MediaFqdn!,
    }, services.GetRequiredService<ILoggerFactory>());
#else
    _ = services;
    throw new PlatformNotSupportedException("the real media platform needs the Windows x64 build");
#endif
}

static string? ArgValue(string[] args, string name)
{
    int index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
}

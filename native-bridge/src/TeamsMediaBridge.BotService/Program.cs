using System.ServiceProcess;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.WindowsServices;
using Microsoft.Extensions.Logging;
using TeamsMediaBridge.BotService;

const string Usage = """
    TeamsMediaBot.Service: runs the bot (node dist/bot.js) as a Windows service (or in a console).

    Settings: the "BotService" section of appsettings.json beside the program, environment
    variables BotService__<Name>, or arguments --BotService:<Name>=<value>. Relative paths are
    relative to the program's folder.
      NodePath            node (found on PATH) or the path of node.exe
      ScriptPath          ../bot/node_modules/teams-media-bot/dist/bot.js
      WorkingDirectory    ..   (the bot's relative paths, e.g. BOT_RECORDINGS_DIR, start here)
      ConfigFile          the bot's JSON settings, passed as BOT_CONFIG_FILE (optional)
      LogFile             ../logs/bot.log   the bot's stdout and stderr and this service's lines
      LogMaxBytes         10485760; LogMaxFiles 5 (bot.log, bot.1.log, ... bot.4.log)
      StopTimeoutSeconds  20 (1 to 120): on stop, the bot's stdin is closed (it runs with
                          BOT_STOP_ON_STDIN_END=true), then after this long it is killed
    The bot exiting by itself fails the service (exit code non-zero): recovery actions restart it.
    """;

if (args.Contains("--help"))
{
    Console.Out.WriteLine(Usage);
    return 0;
}
var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
{
    ContentRootPath = AppContext.BaseDirectory,
    Args = args,
});
BotServiceSettings settings;
try
{
    settings = BotServiceSettings.Read(builder.Configuration, AppContext.BaseDirectory);
}
catch (BotServiceSettingsException error)
{
    Console.Error.WriteLine($"configuration error: {error.Message}");
    return 2;
}
bool asService = WindowsServiceHelpers.IsWindowsService();
builder.Services.AddWindowsService(options => options.ServiceName = "TeamsMediaBot");
// Room for the bot's graceful stop and the kill after it.
builder.Services.Configure<HostOptions>(options => options.ShutdownTimeout = settings.StopTimeout + TimeSpan.FromSeconds(15));
builder.Services.AddSingleton(settings);
builder.Services.AddSingleton(_ => new RotatingLogFile(settings.LogFile, settings.LogMaxBytes, settings.LogMaxFiles));
builder.Services.AddSingleton<StopHostOnFailure>();
builder.Services.AddSingleton<IServiceFailure>(services => asService
    ? new TerminateOnFailure(services.GetRequiredService<RotatingLogFile>())
    : services.GetRequiredService<StopHostOnFailure>());
builder.Services.AddSingleton(services => new BotProcessService(
    settings,
    services.GetRequiredService<RotatingLogFile>(),
    services.GetRequiredService<IServiceFailure>(),
    services.GetRequiredService<ILogger<BotProcessService>>(),
    RequestAdditionalTime(services.GetRequiredService<IHostLifetime>())));
builder.Services.AddHostedService(services => services.GetRequiredService<BotProcessService>());

using var host = builder.Build();
// RunAsync disposes the services: keep what tells the exit code.
var stopped = host.Services.GetRequiredService<StopHostOnFailure>();
try
{
    await host.RunAsync();
}
catch (BotServiceSettingsException error)
{
    Console.Error.WriteLine($"configuration error: {error.Message}");
    return 2;
}
return stopped.ExitCode;

// The SCM's wait for a stop-pending service is extended on request (ServiceBase.RequestAdditionalTime).
static Action<TimeSpan>? RequestAdditionalTime(IHostLifetime lifetime)
{
    if (!OperatingSystem.IsWindows() || lifetime is not ServiceBase service) return null;
    return time =>
    {
        if (!OperatingSystem.IsWindows()) return;
        try
        {
            service.RequestAdditionalTime((int)time.TotalMilliseconds);
        }
        catch (InvalidOperationException)
        {
            // Not stopping through the SCM (e.g. the host stopping itself): nothing to extend.
        }
    };
}

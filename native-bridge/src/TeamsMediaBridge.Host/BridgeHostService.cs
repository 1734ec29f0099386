using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TeamsMediaBridge.Bridge;
using TeamsMediaBridge.Platform;
using TeamsMediaBridge.Platform.Fake;

namespace TeamsMediaBridge.Host;

/// <summary>Runs the bridge server for the lifetime of the host (console or Windows service).</summary>
internal sealed class BridgeHostService(HostSettings settings, IMediaPlatform platform, ILoggerFactory loggerFactory) : IHostedService
{
    private BridgeServer? _server;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _server = new BridgeServer(new BridgeOptions
        {
            Url = settings.BridgeUrl,
            Secret = settings.BridgeSecret,
            MaxSessions = settings.MaxSessions,
            RenderQueueFrames = settings.RenderQueueFrames,
            ReconnectGrace = TimeSpan.FromMilliseconds(settings.ReconnectGraceMs),
            DiagnosticRoutes = platform is FakeMediaPlatform { EchoStats: { } echo } ? FakeEchoRoutes.For(echo) : null,
        }, platform, loggerFactory);
        await _server.StartAsync(cancellationToken);
        // The one plain line on stdout (logs go to stderr), for scripts that wait for readiness.
        Console.Out.WriteLine($"listening on {_server.ListeningUrl}");
        Console.Out.Flush();
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_server is not null) await _server.DisposeAsync();
        await platform.DisposeAsync();
    }
}

using System.Net;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Prometheus;
using TeamsMediaBridge.Platform;
using TeamsMediaBridge.Protocol;

namespace TeamsMediaBridge.Bridge;

/// <summary>
/// The bridge's WebSocket server on loopback (Kestrel). Checks the shared secret at upgrade
/// (401 otherwise), keeps one worker connection at a time (a newer authenticated one replaces
/// the older: a worker that reconnects must not be locked out by its own half-dead socket),
/// keeps the sessions of a lost or replaced connection for the reconnect grace period so the
/// worker can resume them, and ends every session on shutdown.
/// </summary>
public sealed class BridgeServer : IAsyncDisposable
{
    private readonly BridgeOptions _options;
    private readonly IMediaPlatform _platform;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly SharedSecret _secret;
    private readonly object _lock = new();
    private readonly ParkedSessions _parked;
    private WebApplication? _app;
    private BridgeConnection? _active;
    private long _connectionCounter;
    private bool _stopping;

    public BridgeServer(BridgeOptions options, IMediaPlatform platform, ILoggerFactory loggerFactory)
    {
        options.Validate();
        _options = options;
        _platform = platform;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger("TeamsMediaBridge.Bridge");
        _secret = new SharedSecret(options.Secret);
        _parked = new ParkedSessions(options.ReconnectGrace, Metrics, _logger);
    }

    public BridgeMetrics Metrics { get; } = new();

    /// <summary>Sessions kept on the platform for a worker to resume.</summary>
    public int ParkedSessions => _parked.Count;

    /// <summary>The address actually bound (with the real port when the options asked for port 0).</summary>
    public Uri? ListeningUrl { get; private set; }

    /// <summary>Sessions open on the current connection.</summary>
    public int ActiveSessions
    {
        get { lock (_lock) return _active?.SessionCount ?? 0; }
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_app is not null) throw new InvalidOperationException("bridge server already started");
        await _platform.InitializeAsync(cancellationToken).ConfigureAwait(false);
        Metrics.PlatformHealth.Set((int)_platform.Health);
        _platform.HealthChanged += OnHealthChanged;

        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Services.AddSingleton(_loggerFactory);
        builder.Services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            var address = _options.Url.Host is "localhost" ? IPAddress.Loopback : IPAddress.Parse(_options.Url.Host.Trim('[', ']'));
            kestrel.Listen(address, _options.Url.Port);
        });
        var app = builder.Build();
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(15) });
        app.Run(HandleRequestAsync);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        _app = app;

        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
            ?? throw new InvalidOperationException("Kestrel reported no address");
        var port = new Uri(bound).Port;
        ListeningUrl = new UriBuilder(_options.Url) { Port = port }.Uri;
        _logger.LogInformation("bridge listening on {Url}", ListeningUrl);
    }

    /// <summary>Ends every session (each answered with SessionClosed), closes the connection, stops listening.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        BridgeConnection? active;
        lock (_lock)
        {
            _stopping = true;
            active = _active;
        }
        if (active is not null) await active.ShutdownAsync("host shutting down", WebSocketCloseStatus.EndpointUnavailable, parkSessions: false).ConfigureAwait(false);
        await _parked.EndAllAsync().ConfigureAwait(false);
        _platform.HealthChanged -= OnHealthChanged;
        if (_app is not null) await _app.StopAsync(cancellationToken).ConfigureAwait(false);
        _logger.LogInformation("bridge stopped");
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is null) return;
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        _app = null;
    }

    private async Task HandleRequestAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "";
        if (_options.ExposeMetrics && path == "/metrics" && HttpMethods.IsGet(context.Request.Method))
        {
            context.Response.ContentType = "text/plain; version=0.0.4";
            await Metrics.Registry.CollectAndExportAsTextAsync(context.Response.Body, context.RequestAborted).ConfigureAwait(false);
            return;
        }
        if (_options.DiagnosticRoutes is { } routes && routes.TryGetValue(path, out var route))
        {
            await route(context).ConfigureAwait(false);
            return;
        }
        if (path != _options.Url.AbsolutePath)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }
        if (!_secret.IsAuthorized(context.Request.Headers.Authorization))
        {
            Metrics.ConnectionsUnauthorized.Inc();
            _logger.LogWarning("bridge upgrade refused from {Remote}: missing or wrong bearer secret", context.Connection.RemoteIpAddress);
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            context.Response.Headers.WWWAuthenticate = "Bearer";
            return;
        }
        if (!context.WebSockets.IsWebSocketRequest)
        {
            Metrics.ConnectionsNotWebSocket.Inc();
            context.Response.StatusCode = StatusCodes.Status426UpgradeRequired;
            return;
        }
        using var socket = await context.WebSockets.AcceptWebSocketAsync().ConfigureAwait(false);
        var id = $"c{Interlocked.Increment(ref _connectionCounter)}";
        var connection = new BridgeConnection(id, socket, _platform, _options, Metrics, _parked, _logger);
        BridgeConnection? previous;
        lock (_lock)
        {
            if (_stopping)
            {
                previous = null;
                connection = null!;
            }
            else
            {
                previous = _active;
                _active = connection;
            }
        }
        if (connection is null)
        {
            await socket.CloseAsync(WebSocketCloseStatus.EndpointUnavailable, "host shutting down", CancellationToken.None).ConfigureAwait(false);
            return;
        }
        Metrics.ConnectionsAccepted.Inc();
        _logger.LogInformation("bridge connection {Connection} accepted from {Remote}", id, context.Connection.RemoteIpAddress);
        if (previous is not null)
        {
            Metrics.ConnectionsSuperseded.Inc();
            _logger.LogWarning("bridge connection {Previous} replaced by {Connection}: its sessions are kept for resumption", previous.Id, id);
            // Its sessions are parked before the new connection reads anything, so the worker can
            // resume them; the old socket finishes closing in the background.
            var closing = previous.ShutdownAsync("replaced by a newer worker connection", WebSocketCloseStatus.PolicyViolation, parkSessions: true);
            _ = closing.ContinueWith(t => _logger.LogWarning(t.Exception, "closing replaced connection failed"), TaskContinuationOptions.OnlyOnFaulted);
            await previous.SessionsStopped.ConfigureAwait(false);
        }
        try
        {
            await connection.RunAsync(context.RequestAborted).ConfigureAwait(false);
        }
        finally
        {
            lock (_lock)
            {
                if (_active == connection) _active = null;
            }
        }
    }

    private void OnHealthChanged(PlatformHealth previous, PlatformHealth current)
    {
        Metrics.PlatformHealth.Set((int)current);
        _logger.LogInformation("media platform health {Previous} -> {Current}", previous, current);
        BridgeConnection? active;
        lock (_lock) active = _active;
        active?.OnHealthChanged(previous, current);
    }
}

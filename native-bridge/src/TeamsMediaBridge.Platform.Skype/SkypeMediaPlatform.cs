using Microsoft.Extensions.Logging;
using Microsoft.Skype.Bots.Media;
using Newtonsoft.Json.Linq;
using TeamsMediaBridge.Protocol;

namespace TeamsMediaBridge.Platform.Skype;

/// <summary>
/// <see cref="IMediaPlatform"/> over Microsoft.Skype.Bots.Media: initializes the process-wide
/// media platform from settings, creates one AudioSocket per session, and reports health.
/// </summary>
public sealed class SkypeMediaPlatform : IMediaPlatform
{
    private readonly SkypePlatformSettings _settings;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private bool _initialized;

    public SkypeMediaPlatform(SkypePlatformSettings settings, ILoggerFactory loggerFactory)
    {
        _settings = settings;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger("TeamsMediaBridge.Platform.Skype");
    }

    public PlatformHealth Health => _initialized ? Map(MediaPlatform.CurrentHealth) : PlatformHealth.Unspecified;

    public event Action<PlatformHealth, PlatformHealth>? HealthChanged;

    public Task InitializeAsync(CancellationToken cancellationToken)
    {
        if (_initialized) throw new InvalidOperationException("media platform already initialized");
        if (Environment.ProcessorCount < MediaPlatform.MinNumberOfCoresRequired)
        {
            throw new PlatformNotSupportedException(
                $"the media platform needs at least {MediaPlatform.MinNumberOfCoresRequired} cores, this machine has {Environment.ProcessorCount}");
        }
        var settings = new MediaPlatformSettings
        {
            ApplicationId = _settings.ApplicationId,
            MediaPlatformLogger = new SkypePlatformLogger(_loggerFactory.CreateLogger("Microsoft.Skype.Bots.Media")),
            MediaPlatformInstanceSettings = new MediaPlatformInstanceSettings
            {
                CertificateThumbprint = _settings.CertificateThumbprint,
                InstanceInternalPort = _settings.InstanceInternalPort,
                InstancePublicPort = _settings.InstancePublicPort,
                InstancePublicIPAddress = _settings.InstancePublicIpAddress,
                ServiceFqdn = _settings.ServiceFqdn,
            },
        };
        MediaPlatform.Initialize(settings);
        MediaPlatform.MediaPlatformHealthChanged += OnHealthChanged;
        _initialized = true;
        _logger.LogInformation("media platform initialized for {Fqdn}:{PublicPort} (internal port {InternalPort})",
            _settings.ServiceFqdn, _settings.InstancePublicPort, _settings.InstanceInternalPort);
        return Task.CompletedTask;
    }

    public long GetTimestampTicks() => MediaPlatform.GetCurrentTimestamp();

    public Task<IPlatformSession> CreateSessionAsync(PlatformSessionRequest request, IPlatformSessionEvents events, CancellationToken cancellationToken)
    {
        if (!_initialized) throw new InvalidOperationException("media platform not initialized");
        return Task.FromResult<IPlatformSession>(CreateSession(new AudioSocket(SocketSettings(request)), request, events, _logger,
            MediaPlatform.CreateMediaConfiguration, MediaPlatform.GetCurrentTimestamp));
    }

    /// <summary>
    /// Wraps a new socket in a session and makes its media configuration; the socket is disposed
    /// if that fails. The platform's calls are parameters so that this runs without the native
    /// platform (tests).
    /// </summary>
    internal static SkypePlatformSession CreateSession(IAudioSocket socket, PlatformSessionRequest request, IPlatformSessionEvents events,
        ILogger logger, Func<IAudioSocket, JObject> createMediaConfiguration, Func<long> platformClock)
    {
        try
        {
            // Events are wired before the configuration exists, so nothing the socket raises is lost.
            var session = new SkypePlatformSession(socket, events, logger, platformClock);
            session.Configure(MediaConfiguration.FromPlatform(createMediaConfiguration(socket), request));
            return session;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public ValueTask DisposeAsync()
    {
        if (!_initialized) return ValueTask.CompletedTask;
        MediaPlatform.MediaPlatformHealthChanged -= OnHealthChanged;
        _initialized = false;
        MediaPlatform.Shutdown();
        _logger.LogInformation("media platform shut down");
        return ValueTask.CompletedTask;
    }

    private void OnHealthChanged(object? sender, MediaPlatformHealthChangedEventArgs e) =>
        HealthChanged?.Invoke(Map(e.PreviousHealth), Map(e.CurrentHealth));

    /// <summary>One call's socket: the requested direction, 16 kHz PCM, unmixed audio when asked.</summary>
    internal static AudioSocketSettings SocketSettings(PlatformSessionRequest request) => new()
    {
        CallId = request.CallId,
        StreamDirections = request.Direction switch
        {
            Protocol.AudioDirection.SendRecv => StreamDirection.Sendrecv,
            Protocol.AudioDirection.RecvOnly => StreamDirection.Recvonly,
            Protocol.AudioDirection.SendOnly => StreamDirection.Sendonly,
            // An inactive socket fails call setup, so it is never asked for.
            _ => throw new ArgumentException($"unsupported direction {request.Direction}"),
        },
        SupportedAudioFormat = Microsoft.Skype.Bots.Media.AudioFormat.Pcm16K,
        ReceiveUnmixedMeetingAudio = request.UnmixedAudio,
    };

    internal static PlatformHealth Map(MediaPlatformHealthStatus status) => status switch
    {
        MediaPlatformHealthStatus.Normal => PlatformHealth.Normal,
        MediaPlatformHealthStatus.HeavilyLoaded => PlatformHealth.HeavilyLoaded,
        MediaPlatformHealthStatus.Overloaded => PlatformHealth.Overloaded,
        _ => PlatformHealth.Unspecified,
    };
}

using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TeamsMediaBridge.Bridge;
using TeamsMediaBridge.Platform;
using TeamsMediaBridge.Platform.Fake;

namespace TeamsMediaBridge.Tests;

/// <summary>A bridge server on an ephemeral loopback port over a fake platform, for one test.</summary>
internal sealed class TestBridge : IAsyncDisposable
{
    public const string Secret = "test-secret-0123456789abcdef";

    private TestBridge(BridgeServer server, FakeMediaPlatform platform)
    {
        Server = server;
        Platform = platform;
    }

    public BridgeServer Server { get; }
    public FakeMediaPlatform Platform { get; }
    public Uri Url => Server.ListeningUrl!;

    /// <param name="wrap">puts another platform in front of the fake (one that delays, say).</param>
    /// <param name="logs">where the bridge's logs go (a test watching them); default none.</param>
    public static async Task<TestBridge> StartAsync(FakeMediaPlatformOptions? platformOptions = null, Func<BridgeOptions, BridgeOptions>? tweak = null,
        Func<FakeMediaPlatform, IMediaPlatform>? wrap = null, ILoggerFactory? logs = null)
    {
        var platform = new FakeMediaPlatform(platformOptions ?? new FakeMediaPlatformOptions { SendActiveDelay = TimeSpan.FromMilliseconds(40) });
        var options = new BridgeOptions { Url = new Uri("ws://127.0.0.1:0/bridge"), Secret = Secret };
        if (tweak is not null) options = tweak(options);
        // BRIDGE_TEST_LOGS=1 shows the bridge's logs while debugging a test.
        logs ??= Environment.GetEnvironmentVariable("BRIDGE_TEST_LOGS") == "1"
            ? LoggerFactory.Create(b => b.AddSimpleConsole().SetMinimumLevel(LogLevel.Debug))
            : NullLoggerFactory.Instance;
        var server = new BridgeServer(options, wrap is null ? platform : wrap(platform), logs);
        await server.StartAsync(CancellationToken.None);
        return new TestBridge(server, platform);
    }

    /// <summary>Connects and completes Hello/HelloAck.</summary>
    public async Task<TestClient> ConnectAsync()
    {
        var client = await TestClient.ConnectAsync(Url, Secret);
        await client.HandshakeAsync();
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        await Platform.DisposeAsync();
    }
}

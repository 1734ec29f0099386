using System.Net.WebSockets;
using TeamsMediaBridge.Protocol;

namespace TeamsMediaBridge.Tests;

/// <summary>Upgrade, authentication, handshake and connection-level errors.</summary>
public sealed class ConnectionTests
{
    [Fact]
    public async Task Upgrade_without_the_right_secret_is_refused_with_401()
    {
        await using var bridge = await TestBridge.StartAsync();
        Assert.Equal(401, await TestClient.TryUpgradeStatusAsync(bridge.Url, null));
        Assert.Equal(401, await TestClient.TryUpgradeStatusAsync(bridge.Url, "Bearer wrong-secret-0123456789"));
        Assert.Equal(401, await TestClient.TryUpgradeStatusAsync(bridge.Url, "Bearer " + TestBridge.Secret + "x"));
        Assert.Equal(401, await TestClient.TryUpgradeStatusAsync(bridge.Url, "Basic " + TestBridge.Secret));
        Assert.Equal(101, await TestClient.TryUpgradeStatusAsync(bridge.Url, "Bearer " + TestBridge.Secret));
        Assert.Equal(4, bridge.Server.Metrics.ConnectionsUnauthorized.Value);
    }

    [Fact]
    public async Task A_plain_request_with_the_secret_is_told_to_upgrade()
    {
        await using var bridge = await TestBridge.StartAsync();
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, new UriBuilder(bridge.Url) { Scheme = "http" }.Uri);
        request.Headers.Authorization = new("Bearer", TestBridge.Secret);
        using var response = await http.SendAsync(request);
        Assert.Equal(426, (int)response.StatusCode);
    }

    [Fact]
    public async Task An_oversized_message_gets_an_error_and_closes_with_1009_keeping_the_sessions()
    {
        await using var bridge = await TestBridge.StartAsync(tweak: o => new()
        {
            Url = o.Url, Secret = o.Secret, MaxMessageBytes = 4096, ReconnectGrace = TimeSpan.FromSeconds(30),
        });
        await using var client = await bridge.ConnectAsync();
        var created = await client.CreateSessionAsync("kept");
        await client.SendRawAsync(new byte[10_000]);
        var error = await client.ExpectAsync(e => e.BodyCase == Envelope.BodyOneofCase.Error);
        Assert.Equal(ErrorCode.BadMessage, error.Error.Code);
        Assert.Contains("larger than 4096", error.Error.Message);
        // A connection-level violation is a lost connection: the call's session is kept, not ended.
        var rest = await client.CollectAsync(TimeSpan.FromSeconds(5)); // ends when the connection closes
        Assert.DoesNotContain(rest, r => r.Envelope.BodyCase == Envelope.BodyOneofCase.SessionClosed);
        await client.Closed.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, client.CloseStatus);
        Assert.Equal(1, bridge.Server.ParkedSessions);
        Assert.False(Assert.Single(bridge.Platform.Sessions).IsEnded);
        Assert.Equal(created.MediaSessionId, bridge.Platform.Sessions[0].Info.MediaSessionId);
    }

    [Fact]
    public async Task Other_paths_are_not_found()
    {
        await using var bridge = await TestBridge.StartAsync();
        var other = new UriBuilder(bridge.Url) { Path = "/elsewhere" }.Uri;
        Assert.Equal(404, await TestClient.TryUpgradeStatusAsync(other, "Bearer " + TestBridge.Secret));
    }

    [Fact]
    public async Task Hello_is_answered_with_version_capabilities_health_and_limit()
    {
        await using var bridge = await TestBridge.StartAsync(tweak: o => new() { Url = o.Url, Secret = o.Secret, MaxSessions = 7 });
        await using var client = await TestClient.ConnectAsync(bridge.Url, TestBridge.Secret);
        await client.SendAsync(new Envelope { RequestId = 5, Hello = new Hello { ProtocolVersion = 1, Peer = "test" } });
        var ack = await client.ExpectAsync(e => e.BodyCase == Envelope.BodyOneofCase.HelloAck);
        Assert.Equal(5ul, ack.RequestId);
        Assert.Equal(1u, ack.HelloAck.ProtocolVersion);
        Assert.Equal(PlatformHealth.Normal, ack.HelloAck.Health);
        Assert.Equal(7u, ack.HelloAck.MaxSessions);
        Assert.Contains("unmixed-audio", ack.HelloAck.Capabilities);
        Assert.Contains("playout-marks", ack.HelloAck.Capabilities);
        Assert.StartsWith("teams-media-bridge dotnet", ack.HelloAck.Peer);
    }

    [Fact]
    public async Task A_different_major_version_gets_VERSION_MISMATCH_and_the_connection_closes()
    {
        await using var bridge = await TestBridge.StartAsync();
        await using var client = await TestClient.ConnectAsync(bridge.Url, TestBridge.Secret);
        await client.SendAsync(new Envelope { RequestId = 9, Hello = new Hello { ProtocolVersion = 2 } });
        var error = await client.ExpectAsync(e => e.BodyCase == Envelope.BodyOneofCase.Error);
        Assert.Equal(ErrorCode.VersionMismatch, error.Error.Code);
        Assert.Equal(9ul, error.RequestId);
        Assert.Equal(0u, error.Error.Session);
        await client.Closed.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, client.CloseStatus);
    }

    [Fact]
    public async Task Anything_before_Hello_is_a_BAD_MESSAGE_and_the_connection_stays()
    {
        await using var bridge = await TestBridge.StartAsync();
        await using var client = await TestClient.ConnectAsync(bridge.Url, TestBridge.Secret);
        await client.SendAsync(new Envelope { RequestId = 3, CreateSession = new CreateSession { CallId = "early" } });
        var error = await client.ExpectAsync(e => e.BodyCase == Envelope.BodyOneofCase.Error);
        Assert.Equal(ErrorCode.BadMessage, error.Error.Code);
        Assert.Equal(3ul, error.RequestId);
        await client.HandshakeAsync();
        Assert.Empty(bridge.Platform.Sessions);
    }

    [Fact]
    public async Task Garbage_text_and_unknown_bodies_never_end_the_connection()
    {
        await using var bridge = await TestBridge.StartAsync();
        await using var client = await bridge.ConnectAsync();

        await client.SendRawAsync([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]);
        var bad = await client.ExpectAsync(e => e.BodyCase == Envelope.BodyOneofCase.Error);
        Assert.Equal(ErrorCode.BadMessage, bad.Error.Code);

        await client.SendRawAsync("{\"hello\":1}"u8.ToArray(), WebSocketMessageType.Text);
        var text = await client.ExpectAsync(e => e.BodyCase == Envelope.BodyOneofCase.Error);
        Assert.Equal(ErrorCode.BadMessage, text.Error.Code);
        Assert.Contains("binary", text.Error.Message);

        // Field 99 (a body from a future version): counted and ignored, no Error (rule 5).
        await client.SendRawAsync([0x98, 0x06, 0x01]);
        await client.SendAsync(new Envelope { Ping = new Ping { Id = 42, SentAtUs = 1234 } });
        var next = await client.ExpectAsync(_ => true);
        Assert.Equal(Envelope.BodyOneofCase.Pong, next.BodyCase);
        Assert.Equal(42ul, next.Pong.Id);
        Assert.Equal(1234, next.Pong.PingSentAtUs);
        Assert.True(next.Pong.RepliedAtUs > 1_600_000_000_000_000, "replied_at_us is Unix time in microseconds");
        Assert.Equal(1, bridge.Server.Metrics.UnknownMessages.Value);
    }

    [Fact]
    public async Task Host_only_messages_from_the_worker_are_refused()
    {
        await using var bridge = await TestBridge.StartAsync();
        await using var client = await bridge.ConnectAsync();
        await client.SendAsync(new Envelope { RequestId = 77, SessionCreated = new SessionCreated { Session = 1 } });
        var error = await client.ExpectAsync(e => e.BodyCase == Envelope.BodyOneofCase.Error);
        Assert.Equal(ErrorCode.BadMessage, error.Error.Code);
        Assert.Equal(77ul, error.RequestId);
    }

    [Fact]
    public async Task A_newer_connection_replaces_the_older_and_can_resume_its_sessions()
    {
        await using var bridge = await TestBridge.StartAsync();
        await using var first = await bridge.ConnectAsync();
        var created = await first.CreateSessionAsync("call-old");
        await first.ExpectAsync(e => e.BodyCase == Envelope.BodyOneofCase.SendStatus);
        await using var second = await bridge.ConnectAsync();
        await first.Closed.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, first.CloseStatus);

        // The call is still up on the platform: its session is kept, not recreated.
        var platformSession = Assert.Single(bridge.Platform.Sessions);
        Assert.False(platformSession.IsEnded);
        Assert.Equal(1, bridge.Server.ParkedSessions);

        // Without the media session id the call id is taken; with it the session comes back.
        var id = second.NextRequestId();
        await second.SendAsync(new Envelope { RequestId = id, CreateSession = new CreateSession { CallId = "call-old", Direction = AudioDirection.SendRecv } });
        Assert.Equal(ErrorCode.DuplicateSession, (await second.ExpectAsync(e => e.RequestId == id)).Error.Code);

        var resumed = await second.CreateSessionAsync("call-old", mediaSessionId: created.MediaSessionId);
        Assert.Equal(created.AudioRenderContextId, resumed.AudioRenderContextId);
        Assert.Equal(created.AudioSourceContextId, resumed.AudioSourceContextId);
        Assert.Equal(created.MediaConfigurationJson, resumed.MediaConfigurationJson);
        Assert.Same(platformSession, Assert.Single(bridge.Platform.Sessions));
        Assert.Equal(0, bridge.Server.ParkedSessions);
        Assert.Equal(1, bridge.Server.Metrics.SessionsResumed.Value);
        // The platform's current send status is told again, and audio flows on the new number.
        var status = await second.ExpectAsync(e => e.BodyCase == Envelope.BodyOneofCase.SendStatus);
        Assert.Equal(resumed.Session, status.SendStatus.Session);
        Assert.Equal(SendStatus.Active, status.SendStatus.Status);
        var frames = await second.ExpectAsync(e => e.BodyCase == Envelope.BodyOneofCase.Frames);
        Assert.All(frames.Frames.Frames, f => Assert.Equal(resumed.Session, f.Session));
        await second.SendAsync(Frames.Batch(Frames.Render(resumed.Session, 0, Frames.Pcm(5))));
        await SessionTests.WaitUntil(() => platformSession.SentFrames >= 1, TimeSpan.FromSeconds(2));
        Assert.Equal(Frames.Pcm(5), platformSession.Recorded()[^1].Pcm);
    }

    [Fact]
    public async Task Health_changes_are_forwarded_and_a_loaded_platform_takes_no_new_session()
    {
        await using var bridge = await TestBridge.StartAsync();
        await using var client = await bridge.ConnectAsync();
        bridge.Platform.SetHealth(PlatformHealth.HeavilyLoaded);
        var health = await client.ExpectAsync(e => e.BodyCase == Envelope.BodyOneofCase.Health);
        Assert.Equal(PlatformHealth.Normal, health.Health.Previous);
        Assert.Equal(PlatformHealth.HeavilyLoaded, health.Health.Current);

        var id = client.NextRequestId();
        await client.SendAsync(new Envelope { RequestId = id, CreateSession = new CreateSession { CallId = "c", Direction = AudioDirection.SendRecv } });
        var refused = await client.ExpectAsync(e => e.RequestId == id);
        Assert.Equal(ErrorCode.Overloaded, refused.Error.Code);

        bridge.Platform.SetHealth(PlatformHealth.Normal);
        await client.ExpectAsync(e => e.BodyCase == Envelope.BodyOneofCase.Health);
        await client.CreateSessionAsync("c");
    }

    [Fact]
    public async Task Metrics_are_served_in_Prometheus_text()
    {
        await using var bridge = await TestBridge.StartAsync();
        await using (var client = await bridge.ConnectAsync()) { }
        using var http = new HttpClient();
        var text = await http.GetStringAsync(new UriBuilder(bridge.Url) { Scheme = "http", Path = "/metrics" }.Uri);
        Assert.Contains("bridge_connections_total{outcome=\"accepted\"} 1", text);
        Assert.Contains("bridge_tick_lateness_seconds_bucket", text);
    }
}

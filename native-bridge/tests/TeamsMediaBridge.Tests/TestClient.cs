using System.Net.WebSockets;
using System.Threading.Channels;
using Google.Protobuf;
using TeamsMediaBridge.Protocol;

namespace TeamsMediaBridge.Tests;

/// <summary>The worker's end of the bridge, as a test drives it: a real ClientWebSocket on loopback.</summary>
internal sealed class TestClient : IAsyncDisposable
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(5);

    private readonly ClientWebSocket _socket;
    private readonly Channel<Envelope> _received = Channel.CreateUnbounded<Envelope>();
    private readonly System.Collections.Concurrent.ConcurrentQueue<Envelope> _history = new();
    private readonly Task _receiveLoop;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private volatile TaskCompletionSource? _paused;
    private ulong _nextRequest = 100;

    private readonly HttpMessageInvoker? _invoker;

    private TestClient(ClientWebSocket socket, HttpMessageInvoker? invoker = null)
    {
        _socket = socket;
        _invoker = invoker;
        _receiveLoop = Task.Run(ReceiveLoopAsync);
    }

    public WebSocketCloseStatus? CloseStatus => _socket.CloseStatus;
    public WebSocketState State => _socket.State;
    /// <summary>Completes when the server closed the connection (the receive loop ended).</summary>
    public Task Closed => _receiveLoop;

    /// <param name="receiveBufferBytes">when set, the TCP receive buffer (fixed, no autotuning): a
    /// client that stops reading then backs the host up after a few KiB, not after megabytes.</param>
    public static async Task<TestClient> ConnectAsync(Uri url, string? secret, int receiveBufferBytes = 0)
    {
        var socket = new ClientWebSocket();
        if (secret is not null) socket.Options.SetRequestHeader("Authorization", $"Bearer {secret}");
        socket.Options.CollectHttpResponseDetails = true;
        if (receiveBufferBytes > 0)
        {
            var invoker = new HttpMessageInvoker(new SocketsHttpHandler
            {
                ConnectCallback = async (context, cancellationToken) =>
                {
                    var tcp = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp)
                    {
                        ReceiveBufferSize = receiveBufferBytes,
                        NoDelay = true,
                    };
                    await tcp.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    return new System.Net.Sockets.NetworkStream(tcp, ownsSocket: true);
                },
            });
            await socket.ConnectAsync(url, invoker, CancellationToken.None);
            return new TestClient(socket, invoker);
        }
        else
        {
            await socket.ConnectAsync(url, CancellationToken.None);
        }
        return new TestClient(socket);
    }

    /// <summary>Tries an upgrade and returns the HTTP status the server answered.</summary>
    public static async Task<int> TryUpgradeStatusAsync(Uri url, string? authorization)
    {
        using var socket = new ClientWebSocket();
        if (authorization is not null) socket.Options.SetRequestHeader("Authorization", authorization);
        socket.Options.CollectHttpResponseDetails = true;
        try
        {
            await socket.ConnectAsync(url, CancellationToken.None);
            return (int)socket.HttpStatusCode;
        }
        catch (WebSocketException)
        {
            return (int)socket.HttpStatusCode;
        }
    }

    public ulong NextRequestId() => ++_nextRequest;

    public async Task HandshakeAsync(uint version = 1)
    {
        var id = NextRequestId();
        var hello = new Hello { ProtocolVersion = version, Peer = "xunit worker" };
        hello.Capabilities.Add("unmixed-audio");
        hello.Capabilities.Add("playout-marks");
        await SendAsync(new Envelope { RequestId = id, Hello = hello });
        if (version == 1)
        {
            var ack = await ExpectAsync(e => e.BodyCase == Envelope.BodyOneofCase.HelloAck);
            Assert.Equal(id, ack.RequestId);
        }
    }

    public async Task SendAsync(Envelope envelope) => await SendRawAsync(envelope.ToByteArray());

    public async Task SendRawAsync(byte[] bytes, WebSocketMessageType type = WebSocketMessageType.Binary)
    {
        await _sendLock.WaitAsync();
        try
        {
            await _socket.SendAsync(bytes, type, true, CancellationToken.None);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>
    /// Creates a session (or resumes a kept one, given its <paramref name="mediaSessionId"/>) and
    /// returns SessionCreated (after checking its request id).
    /// </summary>
    public async Task<SessionCreated> CreateSessionAsync(string callId, AudioDirection direction = AudioDirection.SendRecv, bool unmixed = false, string mediaSessionId = "")
    {
        var id = NextRequestId();
        await SendAsync(new Envelope
        {
            RequestId = id,
            CreateSession = new CreateSession { CallId = callId, MediaSessionId = mediaSessionId, Direction = direction, Format = AudioFormat.Pcm16K, UnmixedAudio = unmixed },
        });
        var answer = await ExpectAsync(e => e.RequestId == id);
        Assert.True(answer.BodyCase == Envelope.BodyOneofCase.SessionCreated, $"expected SessionCreated, got {answer}");
        return answer.SessionCreated;
    }

    /// <summary>The next received envelope matching <paramref name="match"/>; others are skipped.</summary>
    public async Task<Envelope> ExpectAsync(Func<Envelope, bool> match, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? DefaultTimeout);
        try
        {
            while (true)
            {
                var envelope = await _received.Reader.ReadAsync(cts.Token);
                if (match(envelope)) return envelope;
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException("the expected message did not arrive in time");
        }
        catch (ChannelClosedException)
        {
            throw new InvalidOperationException("the connection closed before the expected message arrived");
        }
    }

    /// <summary>Everything received during <paramref name="duration"/>.</summary>
    public async Task<List<(Envelope Envelope, DateTime At)>> CollectAsync(TimeSpan duration)
    {
        var list = new List<(Envelope, DateTime)>();
        using var cts = new CancellationTokenSource(duration);
        try
        {
            while (true) list.Add((await _received.Reader.ReadAsync(cts.Token), DateTime.UtcNow));
        }
        catch (OperationCanceledException)
        {
        }
        catch (ChannelClosedException)
        {
        }
        return list;
    }

    /// <summary>Stops reading from the socket (after the message being read, if any), as a stuck worker would.</summary>
    public void PauseReading() => _paused = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void ResumeReading() => Interlocked.Exchange(ref _paused, null)?.TrySetResult();

    /// <summary>
    /// Every control message received so far (not FrameBatch), including those
    /// <see cref="ExpectAsync"/> skipped: events of one session can arrive while a test waits
    /// for another's answer.
    /// </summary>
    public IEnumerable<Envelope> History => _history;

    /// <summary>Drops everything received so far.</summary>
    /// <summary>Drops the connection without a close frame (a worker that crashed or lost its network).</summary>
    public void Abort() => _socket.Abort();

    public void Drain()
    {
        while (_received.Reader.TryRead(out _)) { }
    }

    public async ValueTask DisposeAsync()
    {
        ResumeReading();
        try
        {
            if (_socket.State == WebSocketState.Open)
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "test done", cts.Token);
            }
        }
        catch (Exception error) when (error is WebSocketException or OperationCanceledException)
        {
        }
        _socket.Dispose();
        try { await _receiveLoop; } catch { /* already closed */ }
        _invoker?.Dispose();
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[1 << 20];
        try
        {
            while (true)
            {
                if (_paused is { } paused) await paused.Task;
                int length = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    result = await _socket.ReceiveAsync(buffer.AsMemory(length), CancellationToken.None);
                    length += result.Count;
                } while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    // Answer the server's close frame, as a well-behaved worker does.
                    if (_socket.State == WebSocketState.CloseReceived)
                        await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
                    return;
                }
                Assert.Equal(WebSocketMessageType.Binary, result.MessageType);
                var envelope = Envelope.Parser.ParseFrom(buffer, 0, length);
                if (envelope.BodyCase != Envelope.BodyOneofCase.Frames) _history.Enqueue(envelope);
                _received.Writer.TryWrite(envelope);
            }
        }
        catch (Exception error) when (error is WebSocketException or ObjectDisposedException or OperationCanceledException)
        {
        }
        finally
        {
            _received.Writer.TryComplete();
        }
    }
}

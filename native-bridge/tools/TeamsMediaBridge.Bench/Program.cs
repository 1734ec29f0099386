using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text.Json;
using Google.Protobuf;
using Microsoft.Extensions.Logging.Abstractions;
using TeamsMediaBridge.Bridge;
using TeamsMediaBridge.Platform.Fake;
using TeamsMediaBridge.Protocol;

// Echo load over the real bridge on loopback: N sessions of the fake platform, a worker that
// sends every received frame straight back as render audio. The worker stamps each echoed
// frame with the source frame's platform timestamp, so the platform measures the whole loop
// (platform -> bridge -> worker -> bridge -> platform). Host and worker share this process:
// CPU and allocation figures cover both.
//
//   dotnet run -c Release --project native-bridge/tools/TeamsMediaBridge.Bench -- --sessions 100 --seconds 10 [--json out.json]

int sessions = IntArg("--sessions", 100);
int seconds = IntArg("--seconds", 10);
int warmup = IntArg("--warmup", 2);
string? jsonPath = StringArg("--json");

var latencies = new List<double>(sessions * 50 * (seconds + warmup + 2));
bool measuring = false;
var platform = new FakeMediaPlatform(new FakeMediaPlatformOptions
{
    SendActiveDelay = TimeSpan.FromMilliseconds(50),
    RecordFrames = 0,
    OnSent = (_, pcm, _, now) =>
    {
        if (!Volatile.Read(ref measuring)) return;
        long sourceTicks = BinaryPrimitives.ReadInt64LittleEndian(pcm);
        lock (latencies) latencies.Add((now - sourceTicks) / 10_000.0);
    },
});
const string Secret = "bench-secret-0123456789abcdef";
await using var server = new BridgeServer(new BridgeOptions
{
    Url = new Uri("ws://127.0.0.1:0/bridge"),
    Secret = Secret,
    MaxSessions = 0,
    ExposeMetrics = false,
}, platform, NullLoggerFactory.Instance);
await server.StartAsync(CancellationToken.None);

using var socket = new ClientWebSocket();
socket.Options.SetRequestHeader("Authorization", $"Bearer {Secret}");
await socket.ConnectAsync(server.ListeningUrl!, CancellationToken.None);
var buffer = new byte[4 << 20];

await Send(new Envelope { RequestId = 1, Hello = new Hello { ProtocolVersion = 1, Peer = "bench worker" } });
await ReceiveUntil(e => e.BodyCase == Envelope.BodyOneofCase.HelloAck);
for (int i = 0; i < sessions; i++)
{
    await Send(new Envelope
    {
        RequestId = (ulong)(100 + i),
        CreateSession = new CreateSession { CallId = $"bench-{i}", Direction = AudioDirection.SendRecv, Format = AudioFormat.Pcm16K },
    });
}
int created = 0;
await ReceiveUntil(e => e.BodyCase == Envelope.BodyOneofCase.SessionCreated && ++created == sessions);

long received = 0, echoed = 0, batches = 0, gaps = 0;
var lastSequence = new Dictionary<uint, uint>();
var render = new FrameBatch();
var renderSequence = new Dictionary<uint, uint>();
var echoPcm = new byte[640];
var stopwatch = Stopwatch.StartNew();
var process = Process.GetCurrentProcess();
TimeSpan cpuStart = TimeSpan.Zero;
long allocStart = 0, gen0Start = 0, gen2Start = 0;
var measureStart = TimeSpan.Zero;

while (stopwatch.Elapsed < TimeSpan.FromSeconds(warmup + seconds))
{
    if (!measuring && stopwatch.Elapsed >= TimeSpan.FromSeconds(warmup))
    {
        process.Refresh();
        cpuStart = process.TotalProcessorTime;
        allocStart = GC.GetTotalAllocatedBytes();
        gen0Start = GC.CollectionCount(0);
        gen2Start = GC.CollectionCount(2);
        measureStart = stopwatch.Elapsed;
        received = echoed = batches = gaps = 0;
        Volatile.Write(ref measuring, true);
    }
    var envelope = await Receive();
    if (envelope.BodyCase != Envelope.BodyOneofCase.Frames) continue;
    batches++;
    render.Frames.Clear();
    foreach (var frame in envelope.Frames.Frames)
    {
        received++;
        if (lastSequence.TryGetValue(frame.Session, out var last) && frame.Sequence != last + 1) gaps++;
        lastSequence[frame.Session] = frame.Sequence;
        frame.Pcm.Span.CopyTo(echoPcm);
        BinaryPrimitives.WriteInt64LittleEndian(echoPcm, frame.TimestampTicks);
        renderSequence.TryGetValue(frame.Session, out var sequence);
        renderSequence[frame.Session] = sequence + 1;
        render.Frames.Add(new AudioFrame { Session = frame.Session, Context = MediaContext.AudioRender, Sequence = sequence, Pcm = ByteString.CopyFrom(echoPcm) });
        echoed++;
    }
    render.SentAtUs = 1;
    await Send(new Envelope { Frames = render });
}
Volatile.Write(ref measuring, false);
var measured = stopwatch.Elapsed - measureStart;
process.Refresh();
double cpuSeconds = (process.TotalProcessorTime - cpuStart).TotalSeconds;
long allocated = GC.GetTotalAllocatedBytes() - allocStart;
var metrics = server.Metrics;

double[] sorted;
lock (latencies) sorted = latencies.OrderBy(x => x).ToArray();
double Percentile(double p) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];
double frames = received + echoed;
var result = new
{
    sessions,
    seconds = Math.Round(measured.TotalSeconds, 2),
    receivedFramesPerSecond = Math.Round(received / measured.TotalSeconds),
    echoedFramesPerSecond = Math.Round(echoed / measured.TotalSeconds),
    batchesPerSecond = Math.Round(batches / measured.TotalSeconds, 1),
    sequenceGaps = gaps,
    processCpuPercent = Math.Round(100 * cpuSeconds / measured.TotalSeconds, 1),
    cpuMicrosecondsPerFrame = Math.Round(cpuSeconds * 1e6 / Math.Max(1, frames), 2),
    allocatedBytesPerFrame = Math.Round(allocated / Math.Max(1, frames)),
    gen0Collections = GC.CollectionCount(0) - gen0Start,
    gen2Collections = GC.CollectionCount(2) - gen2Start,
    echoLatencyMs = new { count = sorted.Length, p50 = Percentile(0.5), p90 = Percentile(0.9), p99 = Percentile(0.99), max = sorted.Length > 0 ? sorted[^1] : double.NaN },
    batchesDroppedByHost = metrics.BatchesDropped.Value,
    renderDroppedQueueFull = metrics.RenderDroppedOverflow.Value,
    renderUnderruns = metrics.RenderUnderruns.Value,
    platformClockSkippedTicks = platform.SkippedTicks,
};
var json = JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true });
Console.WriteLine($"| sessions | frames/s in | frames/s out | CPU % (host+worker) | µs CPU/frame | bytes alloc/frame | echo p50 / p99 ms | dropped batches |");
Console.WriteLine($"|---|---|---|---|---|---|---|---|");
Console.WriteLine($"| {sessions} | {result.receivedFramesPerSecond} | {result.echoedFramesPerSecond} | {result.processCpuPercent} | {result.cpuMicrosecondsPerFrame} | {result.allocatedBytesPerFrame} | {result.echoLatencyMs.p50:F1} / {result.echoLatencyMs.p99:F1} | {result.batchesDroppedByHost} |");
Console.WriteLine(json);
if (jsonPath is not null) await File.WriteAllTextAsync(jsonPath, json);

await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
await server.StopAsync(CancellationToken.None);
await platform.DisposeAsync();
return 0;

async Task Send(Envelope envelope) =>
    await socket.SendAsync(envelope.ToByteArray(), WebSocketMessageType.Binary, true, CancellationToken.None);

async Task<Envelope> Receive()
{
    int length = 0;
    ValueWebSocketReceiveResult result;
    do
    {
        result = await socket.ReceiveAsync(buffer.AsMemory(length), CancellationToken.None);
        length += result.Count;
    } while (!result.EndOfMessage);
    if (result.MessageType == WebSocketMessageType.Close) throw new InvalidOperationException("host closed the connection");
    return Envelope.Parser.ParseFrom(buffer, 0, length);
}

async Task ReceiveUntil(Func<Envelope, bool> done)
{
    while (!done(await Receive())) { }
}

int IntArg(string name, int fallback) => StringArg(name) is { } raw ? int.Parse(raw, System.Globalization.CultureInfo.InvariantCulture) : fallback;

string? StringArg(string name)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

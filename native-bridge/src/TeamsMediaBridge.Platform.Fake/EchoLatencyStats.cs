using System.Diagnostics;
using System.Text.Json;

namespace TeamsMediaBridge.Platform.Fake;

/// <summary>
/// The fake platform's echo latency over a window (benchmarks: bench:load:dotnet), exact to the
/// microsecond. A source frame's round trip is read at two points: when the bridge queued the
/// worker's echo of it (arrival: what the TypeScript emulator reads) and when the bridge's render
/// tick handed it to the platform (played: the bridge's render queue in the path). Shared by the
/// platform's sessions; reset by whoever reads the windows.
/// </summary>
public sealed class EchoLatencyStats
{
    private long _windowStarted = Stopwatch.GetTimestamp();
    private long _arrivalsUnmatched;
    private long _arrivalsRepeated;

    /// <summary>
    /// A received buffer's timestamp (its platform tick) -> the bridge's tick forwarded it to the
    /// worker: the wait for the bridge's own tick, whose phase to the platform's is arbitrary.
    /// </summary>
    public MicrosecondHistogram HostSend { get; } = new();

    /// <summary>Source frame produced -> the worker's echo of it queued by the bridge.</summary>
    public MicrosecondHistogram RoundTripArrival { get; } = new();

    /// <summary>Source frame produced -> its echo handed to the platform by the bridge's render tick.</summary>
    public MicrosecondHistogram RoundTripPlayed { get; } = new();

    /// <summary>An echo queued -> played: its wait in the bridge's render queue.</summary>
    public MicrosecondHistogram RenderQueueWait { get; } = new();

    /// <summary>The worker's FrameBatch sent_at_us -> a frame of it queued (per frame; two processes' clocks).</summary>
    public MicrosecondHistogram BotToHost { get; } = new();

    /// <summary>Render frames queued with no mark, or a mark of no frame this session produced lately.</summary>
    public long ArrivalsUnmatched => Interlocked.Read(ref _arrivalsUnmatched);

    /// <summary>Render frames whose mark was matched before (the worker sent the same audio twice).</summary>
    public long ArrivalsRepeated => Interlocked.Read(ref _arrivalsRepeated);

    internal void CountUnmatched() => Interlocked.Increment(ref _arrivalsUnmatched);
    internal void CountRepeated() => Interlocked.Increment(ref _arrivalsRepeated);

    public void Reset()
    {
        HostSend.Reset();
        RoundTripArrival.Reset();
        RoundTripPlayed.Reset();
        RenderQueueWait.Reset();
        BotToHost.Reset();
        Interlocked.Exchange(ref _arrivalsUnmatched, 0);
        Interlocked.Exchange(ref _arrivalsRepeated, 0);
        Interlocked.Exchange(ref _windowStarted, Stopwatch.GetTimestamp());
    }

    /// <summary>The window so far as JSON (stages in the worker's latency probe's shape, microseconds).</summary>
    public void WriteJson(Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteNumber("windowMs", Math.Round(Stopwatch.GetElapsedTime(Interlocked.Read(ref _windowStarted)).TotalMilliseconds, 1));
        WriteStage(json, "hostSend", HostSend.Summary());
        WriteStage(json, "roundTripArrival", RoundTripArrival.Summary());
        WriteStage(json, "roundTripPlayed", RoundTripPlayed.Summary());
        WriteStage(json, "renderQueueWait", RenderQueueWait.Summary());
        WriteStage(json, "botToHost", BotToHost.Summary());
        json.WriteNumber("arrivalsUnmatched", ArrivalsUnmatched);
        json.WriteNumber("arrivalsRepeated", ArrivalsRepeated);
        json.WriteEndObject();
    }

    private static void WriteStage(Utf8JsonWriter json, string name, LatencySummary s)
    {
        json.WriteStartObject(name);
        json.WriteNumber("count", s.Count);
        json.WriteNumber("meanUs", s.MeanUs);
        json.WriteNumber("p50Us", s.P50Us);
        json.WriteNumber("p90Us", s.P90Us);
        json.WriteNumber("p99Us", s.P99Us);
        json.WriteNumber("p999Us", s.P999Us);
        json.WriteNumber("maxUs", s.MaxUs);
        json.WriteNumber("aboveExactUs", s.AboveExactUs);
        json.WriteEndObject();
    }
}

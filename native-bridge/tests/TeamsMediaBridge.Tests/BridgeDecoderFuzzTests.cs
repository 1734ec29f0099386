using System.Net.WebSockets;
using FsCheck;
using FsCheck.Fluent;
using Google.Protobuf;
using Microsoft.FSharp.Core;
using TeamsMediaBridge.Protocol;

namespace TeamsMediaBridge.Tests;

/// <summary>
/// Property-based fuzzing (FsCheck) of the host's decode and handling path, over a real loopback
/// WebSocket: arbitrary bytes, and golden vectors (proto/golden) mutated byte by byte, sent by a
/// worker after the handshake. For every input: no exception escapes (the host answers the Ping
/// behind it and keeps the connection), an unparsable message gets Error{BAD_MESSAGE} naming the
/// problem, every Error has a message, and a refused message changes no session state.
/// A fixed seed and 150 cases per property by default; FUZZ_RUNS=n and FUZZ_SEED=n for longer or
/// other runs (native-bridge/README.md).
/// </summary>
public sealed class BridgeDecoderFuzzTests
{
    private const int DefaultRuns = 150;
    private const ulong DefaultSeed = 20_251_113;

    private static int Runs =>
        int.TryParse(Environment.GetEnvironmentVariable("FUZZ_RUNS"), out int runs) && runs > 0 ? runs : DefaultRuns;

    private static ulong Seed =>
        ulong.TryParse(Environment.GetEnvironmentVariable("FUZZ_SEED"), out ulong seed) ? seed : DefaultSeed;

    [Fact]
    public Task Arbitrary_bytes_are_answered_or_ignored_and_never_break_the_connection() =>
        CheckAsync(Gen.ArrayOf(AnyByte).Select(bytes => new FuzzInput("arbitrary", bytes)));

    [Fact]
    public Task Mutated_golden_vectors_are_answered_or_ignored_and_never_break_the_connection() =>
        CheckAsync(MutatedGoldenVectors());

    private static readonly Gen<byte> AnyByte = Gen.Choose(0, 255).Select(b => (byte)b);

    /// <summary>One input and where it came from (shown when a property fails).</summary>
    public sealed record FuzzInput(string Origin, byte[] Bytes)
    {
        public override string ToString() => $"{Origin}: {Convert.ToHexString(Bytes)}";
    }

    /// <summary>A golden vector with 1 to 4 mutations: bit flips, byte sets, inserts, deletes, truncation, duplicated runs.</summary>
    private static Gen<FuzzInput> MutatedGoldenVectors()
    {
        var dir = GoldenVectorTests.GoldenDirectory();
        var vectors = Directory.GetFiles(dir, "*.bin").OrderBy(f => f, StringComparer.Ordinal)
            .Select(f => (Name: Path.GetFileNameWithoutExtension(f), Bytes: File.ReadAllBytes(f))).ToArray();
        var mutation =
            from op in Gen.Choose(0, 6)
            from position in Gen.Choose(0, int.MaxValue)
            from value in Gen.Choose(0, 255)
            select (Op: op, Position: position, Value: value);
        return
            from vector in Gen.Elements(vectors)
            from count in Gen.Choose(1, 4)
            from mutations in Gen.ArrayOf(mutation, count)
            select new FuzzInput($"{vector.Name} {string.Join(",", mutations.Select(m => $"{m.Op}@{m.Position}:{m.Value}"))}",
                Mutate(vector.Bytes, mutations));
    }

    private static byte[] Mutate(byte[] original, (int Op, int Position, int Value)[] mutations)
    {
        var bytes = new List<byte>(original);
        foreach (var (op, position, value) in mutations)
        {
            int at = bytes.Count == 0 ? 0 : position % bytes.Count;
            switch (op)
            {
                case 0 when bytes.Count > 0: bytes[at] ^= (byte)(1 << (value % 8)); break;
                case 1 when bytes.Count > 0: bytes[at] = (byte)value; break;
                case 2: bytes.Insert(at, (byte)value); break;
                case 3 when bytes.Count > 0: bytes.RemoveAt(at); break;
                case 4: bytes.RemoveRange(at, bytes.Count - at); break;
                case 5 when bytes.Count > 0: bytes.InsertRange(at, bytes.Skip(at).Take(1 + value % 8).ToArray()); break;
                case 6 when bytes.Count > 0: bytes[at] = 0xFF; break; // a varint that goes on, a length too large
            }
        }
        return bytes.ToArray();
    }

    private static async Task CheckAsync(Gen<FuzzInput> inputs)
    {
        await using var bridge = await TestBridge.StartAsync();
        await using var client = await bridge.ConnectAsync();
        await client.CreateSessionAsync("fuzz-anchor");
        var config = Config.QuickThrowOnFailure
            .WithMaxTest(Runs)
            .WithReplay(FSharpOption<Replay>.Some(new Replay(new Rnd(Seed, 0x9E37_79B9_7F4A_7C15), FSharpOption<int>.None)));
        var property = Prop.ForAll(inputs.ToArbitrary(), input =>
        {
            RunCaseAsync(bridge, client, input).GetAwaiter().GetResult();
            return true;
        });
        // Off xunit's synchronization context: each case waits for its round trip.
        await Task.Run(() => Check.One(config, property));
    }

    private static ulong s_nextPing = 0xF0F0_0000_0000_0000;

    private static async Task RunCaseAsync(TestBridge bridge, TestClient client, FuzzInput input)
    {
        var before = (bridge.Server.ActiveSessions, Platform: bridge.Platform.Sessions.Count, bridge.Server.ParkedSessions);
        Envelope? parsed;
        try
        {
            parsed = Envelope.Parser.ParseFrom(input.Bytes);
        }
        catch (InvalidProtocolBufferException)
        {
            parsed = null;
        }

        await client.SendRawAsync(input.Bytes);
        ulong pingId = Interlocked.Increment(ref s_nextPing);
        await client.SendAsync(new Envelope { Ping = new Ping { Id = pingId } });
        // Everything the input caused comes before the Pong (the receive loop handles in order).
        var answers = new List<Envelope>();
        while (true)
        {
            var next = await client.ExpectAsync(e => e.BodyCase != Envelope.BodyOneofCase.Frames);
            if (next.BodyCase == Envelope.BodyOneofCase.Pong && next.Pong.Id == pingId) break;
            answers.Add(next);
        }
        // A CreateSession is answered off the receive loop: wait for its answer too.
        if (parsed?.BodyCase == Envelope.BodyOneofCase.CreateSession && !answers.Any(a => IsAnswerTo(a, parsed)))
        {
            answers.Add(await client.ExpectAsync(a => IsAnswerTo(a, parsed)));
        }

        Assert.Equal(WebSocketState.Open, client.State);
        var errors = answers.Where(a => a.BodyCase == Envelope.BodyOneofCase.Error).Select(a => a.Error).ToList();
        foreach (var error in errors)
        {
            Assert.False(string.IsNullOrWhiteSpace(error.Message), $"an Error without a message: {error}");
            // The handler's catch-all: an exception escaped the handling of this input.
            Assert.DoesNotContain("could not handle", error.Message);
        }
        // Refused, wholly or in part (frames of a FrameBatch): no session is created, ended or parked.
        bool refused = parsed is null || errors.Count > 0;
        if (parsed is null)
        {
            var error = Assert.Single(errors);
            Assert.Equal(ErrorCode.BadMessage, error.Code);
            Assert.StartsWith("not a protobuf Envelope", error.Message);
        }
        if (refused)
        {
            Assert.Equal(before, (bridge.Server.ActiveSessions, bridge.Platform.Sessions.Count, bridge.Server.ParkedSessions));
        }
    }

    private static bool IsAnswerTo(Envelope answer, Envelope request) =>
        answer.RequestId == request.RequestId
        && answer.BodyCase is Envelope.BodyOneofCase.SessionCreated or Envelope.BodyOneofCase.Error;
}

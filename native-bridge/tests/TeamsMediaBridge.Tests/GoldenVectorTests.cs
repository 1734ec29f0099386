using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Protobuf;
using TeamsMediaBridge.Protocol;

namespace TeamsMediaBridge.Tests;

/// <summary>
/// The committed protocol vectors in native-bridge/proto/golden: each .bin is an Envelope as this
/// side encodes it, and manifest.json gives its field values in the proto3 JSON mapping, so the
/// TypeScript side can encode the same values and compare bytes. Run with UPDATE_GOLDEN=1 to
/// rewrite them after a deliberate change.
/// </summary>
public sealed class GoldenVectorTests
{
    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(false));

    [Fact]
    public void Committed_vectors_equal_a_fresh_encoding()
    {
        var dir = GoldenDirectory();
        if (Environment.GetEnvironmentVariable("UPDATE_GOLDEN") == "1") Write(dir);
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "manifest.json")))!;
        var entries = manifest["vectors"]!.AsArray();
        Assert.Equal(GoldenVectors.All.Count, entries.Count);
        foreach (var (name, _, envelope) in GoldenVectors.All)
        {
            var committed = File.ReadAllBytes(Path.Combine(dir, name + ".bin"));
            Assert.True(committed.SequenceEqual(envelope.ToByteArray()), $"{name}.bin differs from a fresh encoding (UPDATE_GOLDEN=1 rewrites it)");
            var entry = entries.Single(e => e!["name"]!.GetValue<string>() == name)!;
            Assert.Equal(name + ".bin", entry["file"]!.GetValue<string>());
            Assert.Equal(committed.Length, entry["bytes"]!.GetValue<int>());
            Assert.Equal(Convert.ToHexString(committed).ToLowerInvariant(), entry["hex"]!.GetValue<string>());
        }
    }

    [Fact]
    public void The_manifest_values_encode_to_the_committed_bytes()
    {
        // What the TypeScript check will do, done here with the C# parser: JSON values -> bytes.
        var dir = GoldenDirectory();
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "manifest.json")))!;
        Assert.Equal("teamsbot.bridge.v1.Envelope", manifest["messageType"]!.GetValue<string>());
        foreach (var entry in manifest["vectors"]!.AsArray())
        {
            var json = entry!["json"]!.ToJsonString();
            var parsed = JsonParser.Default.Parse<Envelope>(json);
            var committed = File.ReadAllBytes(Path.Combine(dir, entry["file"]!.GetValue<string>()));
            Assert.True(committed.SequenceEqual(parsed.ToByteArray()), $"{entry["name"]}: manifest JSON does not encode to its .bin");
            Assert.Equal(parsed, Envelope.Parser.ParseFrom(committed));
        }
    }

    [Fact]
    public void Every_body_case_has_a_vector()
    {
        var covered = GoldenVectors.All.Select(v => v.Envelope.BodyCase).ToHashSet();
        foreach (var body in Enum.GetValues<Envelope.BodyOneofCase>().Where(b => b != Envelope.BodyOneofCase.None))
            Assert.Contains(body, covered);
    }

    private static void Write(string dir)
    {
        Directory.CreateDirectory(dir);
        foreach (var stale in Directory.GetFiles(dir, "*.bin")) File.Delete(stale);
        var vectors = new JsonArray();
        foreach (var (name, description, envelope) in GoldenVectors.All)
        {
            var bytes = envelope.ToByteArray();
            File.WriteAllBytes(Path.Combine(dir, name + ".bin"), bytes);
            vectors.Add(new JsonObject
            {
                ["name"] = name,
                ["file"] = name + ".bin",
                ["description"] = description,
                ["bytes"] = bytes.Length,
                ["hex"] = Convert.ToHexString(bytes).ToLowerInvariant(),
                ["json"] = JsonNode.Parse(Formatter.Format(envelope)),
            });
        }
        var manifest = new JsonObject
        {
            ["about"] = "Envelopes of native-bridge/proto/media_bridge.proto encoded by the C# generated code (Google.Protobuf). " +
                        "'json' is the proto3 JSON mapping (lowerCamelCase names, enum names, int64/uint64 as strings, bytes as base64, " +
                        "default values omitted); encoding it with any conforming proto3 implementation must give exactly the bytes of 'file' " +
                        "(fields in number order, packed repeated scalars, defaults not written).",
            ["protoFile"] = "native-bridge/proto/media_bridge.proto",
            ["messageType"] = "teamsbot.bridge.v1.Envelope",
            ["protocolVersion"] = 1,
            ["producer"] = "native-bridge/tests/TeamsMediaBridge.Tests/GoldenVectors.cs (UPDATE_GOLDEN=1 dotnet test)",
            ["vectors"] = vectors,
        };
        File.WriteAllText(Path.Combine(dir, "manifest.json"),
            manifest.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n");
    }

    internal static string GoldenDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var proto = Path.Combine(dir.FullName, "proto", "media_bridge.proto");
            if (File.Exists(proto)) return Path.Combine(dir.FullName, "proto", "golden");
        }
        throw new DirectoryNotFoundException("native-bridge/proto not found above " + AppContext.BaseDirectory);
    }
}

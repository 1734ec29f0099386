using Google.Protobuf;
using TeamsMediaBridge.Protocol;

namespace TeamsMediaBridge.Tests;

/// <summary>
/// The protocol vectors: every Envelope body at least once, with edge values (wrap-around
/// sequence, 0xFFFFFFFF speaker, max uint64 request id, negative int64, unknown enum value,
/// non-ASCII text, empty sub-message). Changing one is a protocol change: regenerate the files.
/// </summary>
internal static class GoldenVectors
{
    public static readonly IReadOnlyList<(string Name, string Description, Envelope Envelope)> All = Build();

    private static List<(string, string, Envelope)> Build()
    {
        var v = new List<(string, string, Envelope)>();

        var hello = new Hello { ProtocolVersion = 1, Peer = "teams-media-bot worker 0.1.0 — ünïcødé" };
        hello.Capabilities.Add("unmixed-audio");
        hello.Capabilities.Add("playout-marks");
        v.Add(("hello", "worker Hello: version 1, peer with non-ASCII text, two capabilities", new Envelope { RequestId = 1, Hello = hello }));

        var ack = new HelloAck { ProtocolVersion = 1, Peer = "teams-media-bridge dotnet 1.0.0", Health = PlatformHealth.Normal, MaxSessions = 500 };
        ack.Capabilities.Add("unmixed-audio");
        ack.Capabilities.Add("playout-marks");
        v.Add(("hello_ack", "host HelloAck answering request 1", new Envelope { RequestId = 1, HelloAck = ack }));

        v.Add(("health", "HealthChanged NORMAL -> OVERLOADED",
            new Envelope { Health = new HealthChanged { Previous = PlatformHealth.Normal, Current = PlatformHealth.Overloaded } }));

        v.Add(("create_session", "CreateSession with every field set",
            new Envelope
            {
                RequestId = 2,
                CreateSession = new CreateSession
                {
                    CallId = "491f0b00-ffff-4bc9-a43e-b226498ec22a",
                    MediaSessionId = "a5f3d7b2-1c4e-4f6a-9b8d-0e2c3f4a5b6c",
                    Direction = AudioDirection.SendRecv,
                    Format = AudioFormat.Pcm16K,
                    UnmixedAudio = true,
                },
            }));

        v.Add(("create_session_minimal", "CreateSession with defaults left out and the largest uint64 request id",
            new Envelope { RequestId = ulong.MaxValue, CreateSession = new CreateSession { CallId = "call-2", Direction = AudioDirection.RecvOnly } }));

        v.Add(("session_created", "SessionCreated with the platform's media configuration blob",
            new Envelope
            {
                RequestId = 2,
                SessionCreated = new SessionCreated
                {
                    Session = 1,
                    CallId = "491f0b00-ffff-4bc9-a43e-b226498ec22a",
                    MediaSessionId = "a5f3d7b2-1c4e-4f6a-9b8d-0e2c3f4a5b6c",
                    MpUri = "net.tcp://media.example.com:8445/MediaProcessor",
                    AudioRenderContextId = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
                    AudioSourceContextId = "1a2b3c4d-5e6f-7081-92a3-b4c5d6e7f809",
                    SkypeMediaBotsVersion = "1.33.0.258-preview",
                    MediaStackVersion = "2025.44.1.1",
                    MpVersion = "7.2.0.9000",
                    MediaConfigurationJson = "{\"mpUri\":\"net.tcp://media.example.com:8445/MediaProcessor\",\"audioRenderContexts\":[\"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0\"]}",
                },
            }));

        v.Add(("close_session", "CloseSession with a reason", new Envelope { RequestId = 3, CloseSession = new CloseSession { Session = 1, Reason = "call ended" } }));
        v.Add(("session_closed", "SessionClosed answering request 3",
            new Envelope { RequestId = 3, SessionClosed = new SessionClosed { Session = 1, CallId = "491f0b00-ffff-4bc9-a43e-b226498ec22a", Reason = "call ended" } }));

        var source = new FrameBatch { SentAtUs = 1_764_201_600_123_456 };
        var first = new AudioFrame
        {
            Session = 1,
            Context = MediaContext.AudioSource,
            Sequence = uint.MaxValue,
            TimestampTicks = 638_999_999_999_800_000,
            Pcm = ByteString.CopyFrom(Pattern(640, 7)),
            IsSilence = false,
        };
        first.ActiveSpeakers.Add(1001);
        first.ActiveSpeakers.Add(0xFFFF_FFFE);
        first.Unmixed.Add(new UnmixedAudio { SpeakerId = 1001, Pcm = ByteString.CopyFrom(Pattern(640, 11)), OriginalSenderTimestampTicks = 638_999_999_999_600_000 });
        first.Unmixed.Add(new UnmixedAudio { SpeakerId = 2002, Pcm = ByteString.CopyFrom(Pattern(640, 13)) });
        source.Frames.Add(first);
        source.Frames.Add(new AudioFrame
        {
            Session = 2,
            Context = MediaContext.AudioSource,
            Sequence = 0,
            TimestampTicks = 200_000,
            Pcm = ByteString.CopyFrom(new byte[640]),
            IsSilence = true,
        });
        v.Add(("frames_source", "received audio: two sessions in one batch, sequence at 2^32-1, two active speakers, two unmixed buffers (one without sender time), a silent frame",
            new Envelope { Frames = source }));

        var render = new FrameBatch { SentAtUs = 1_764_201_600_140_000 };
        render.Frames.Add(new AudioFrame { Session = 1, Context = MediaContext.AudioRender, Sequence = 42, Pcm = ByteString.CopyFrom(Pattern(640, 3)) });
        v.Add(("frames_render", "render audio: one frame, no timestamp (the host stamps it)", new Envelope { Frames = render }));

        v.Add(("frames_empty", "an empty FrameBatch: the body is present with no fields", new Envelope { Frames = new FrameBatch() }));

        v.Add(("send_status", "SendStatusChanged ACTIVE", new Envelope { SendStatus = new SendStatusChanged { Session = 1, Status = SendStatus.Active } }));
        v.Add(("dominant_speaker_none", "DominantSpeakerChanged to nobody (0xFFFFFFFF)",
            new Envelope { DominantSpeaker = new DominantSpeakerChanged { Session = 1, SpeakerId = 0xFFFF_FFFF } }));
        v.Add(("tone", "ToneReceived # with its platform timestamp",
            new Envelope { Tone = new ToneReceived { Session = 1, Tone = Tone.Pound, TimestampTicks = 639_000_000_000_000_000 } }));
        v.Add(("tone_unknown_value", "ToneReceived carrying an enum value this version does not know (99): receivers map it to TONE_UNSPECIFIED (rule 4)",
            new Envelope { Tone = new ToneReceived { Session = 1, Tone = (Tone)99 } }));
        v.Add(("mark", "PlayoutMark", new Envelope { Mark = new PlayoutMark { Session = 1, Name = "prompt-7" } }));
        v.Add(("mark_played", "MarkPlayed, played", new Envelope { MarkPlayed = new MarkPlayed { Session = 1, Name = "prompt-7", Played = true } }));
        v.Add(("clear", "ClearPlayout", new Envelope { Clear = new ClearPlayout { Session = 1 } }));
        v.Add(("ping", "Ping", new Envelope { Ping = new Ping { Id = 7, SentAtUs = 1_764_201_600_000_000 } }));
        v.Add(("pong_negative", "Pong with a negative int64 (ten-byte varint)",
            new Envelope { Pong = new Pong { Id = 7, PingSentAtUs = -1, RepliedAtUs = 1_764_201_600_000_250 } }));
        v.Add(("error", "Error for a session, answering no request",
            new Envelope { Error = new Error { Code = ErrorCode.BadFrame, Message = "frame pcm must be 640 bytes of PCM16K, got 100", Session = 3 } }));
        v.Add(("error_request", "Error answering a CreateSession",
            new Envelope { RequestId = 4, Error = new Error { Code = ErrorCode.DuplicateSession, Message = "call call-2 already has a session" } }));
        return v;
    }

    /// <summary>Deterministic bytes that are not all alike (so a shifted copy would show).</summary>
    private static byte[] Pattern(int length, int seed)
    {
        var bytes = new byte[length];
        uint state = (uint)seed;
        for (int i = 0; i < length; i++)
        {
            state = unchecked(state * 1_664_525 + 1_013_904_223);
            bytes[i] = (byte)(state >> 24);
        }
        return bytes;
    }
}

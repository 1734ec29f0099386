using TeamsMediaBridge.Platform;
using TeamsMediaBridge.Platform.Fake;
using TeamsMediaBridge.Protocol;

namespace TeamsMediaBridge.Tests;

public sealed class FakeRecordingTests
{
    private sealed class NoEvents : IPlatformSessionEvents
    {
        public void OnAudioReceived(in ReceivedAudio audio) { }
        public void OnSendStatusChanged(SendStatus status) { }
        public void OnDominantSpeakerChanged(uint speakerId) { }
        public void OnToneReceived(Tone tone, long timestampTicks) { }
        public void OnMediaStreamFailure(string reason) { }
    }

    [Fact]
    public async Task A_session_that_ends_writes_what_it_was_sent_as_a_WAV_once()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"fake-recording-{Guid.NewGuid():N}");
        int ended = 0;
        var writer = new FakeRecordingWriter(dir);
        await using var platform = new FakeMediaPlatform(new FakeMediaPlatformOptions
        {
            SendActiveDelay = TimeSpan.Zero,
            RecordFrames = 3,
            OnSessionEnded = session =>
            {
                Interlocked.Increment(ref ended);
                writer.OnSessionEnded(session);
            },
        });
        try
        {
            await platform.InitializeAsync(CancellationToken.None);
            var request = new PlatformSessionRequest("call/1 ü", Guid.NewGuid(), AudioDirection.SendRecv, false);
            var session = (FakePlatformSession)await platform.CreateSessionAsync(request, new NoEvents(), CancellationToken.None);
            session.RaiseSendStatus(SendStatus.Active);
            for (int i = 0; i < 4; i++) Assert.True(session.Send(Frames.Pcm(i), i * AudioFrameFormat.TicksPerFrame));

            await session.DisposeAsync();
            await platform.DisposeAsync(); // ends every session again: reported once only
            Assert.Equal(1, ended);

            string file = writer.PathFor("call/1 ü");
            Assert.Equal(Path.Combine(Path.GetFullPath(dir), "call_1__.wav"), file);
            Assert.False(File.Exists(file + ".partial"));
            // The last RecordFrames frames, in order, as a PCM16K mono WAV the WAV source reads back.
            var pcm = WavSource.ReadPcm16KMono(File.ReadAllBytes(file));
            Assert.Equal([.. Frames.Pcm(1), .. Frames.Pcm(2), .. Frames.Pcm(3)], pcm);
            Assert.False(session.Send(Frames.Pcm(9), 0)); // ended: refused, nothing more recorded
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void A_session_that_was_sent_nothing_writes_an_empty_WAV()
    {
        var wav = FakeRecordingWriter.Wav([]);
        Assert.Equal(44, wav.Length);
        Assert.Equal("RIFF", System.Text.Encoding.ASCII.GetString(wav, 0, 4));
        Assert.Empty(WavSource.ReadPcm16KMono(wav));
    }
}

namespace TeamsMediaBridge.Bridge;

/// <summary>What this host announces in HelloAck.</summary>
public static class ProtocolInfo
{
    public const uint Version = (uint)Protocol.ProtocolVersion.Current;

    public const string CapabilityUnmixedAudio = "unmixed-audio";
    public const string CapabilityPlayoutMarks = "playout-marks";

    public static readonly IReadOnlyList<string> Capabilities = [CapabilityUnmixedAudio, CapabilityPlayoutMarks];

    /// <summary>
    /// Protocol rule (proto header): a FrameBatch message is at most 256 KiB; senders split a
    /// tick's frames over several messages.
    /// </summary>
    public const int MaxFrameBatchBytes = 256 * 1024;

    /// <summary>Largest message a receiver accepts by default (the worker's default too): 1 MiB.</summary>
    public const int DefaultMaxMessageBytes = 1024 * 1024;
}

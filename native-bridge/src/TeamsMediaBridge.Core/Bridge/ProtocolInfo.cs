namespace TeamsMediaBridge.Bridge;

/// <summary>What this host announces in HelloAck.</summary>
public static class ProtocolInfo
{
    public const uint Version = (uint)Protocol.ProtocolVersion.Current;

    public const string CapabilityUnmixedAudio = "unmixed-audio";
    public const string CapabilityPlayoutMarks = "playout-marks";

    public static readonly IReadOnlyList<string> Capabilities = [CapabilityUnmixedAudio, CapabilityPlayoutMarks];
}

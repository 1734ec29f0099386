namespace TeamsMediaBridge.Bridge;

/// <summary>
/// The render frames of one FrameBatch refused for one error code, so the batch is answered
/// with at most one Error per code. One Error per frame would let a worker's 1 MiB batch of
/// 5-byte frames for an unknown session come back as 200,000 Errors (about 10 MiB): the host
/// would amplify the worker's mistake twentyfold into its own queue. Used on the receive loop
/// only; reused from batch to batch.
/// </summary>
internal sealed class FrameRefusals
{
    private int _count;
    private uint _session;
    private bool _oneSession;
    private string _firstReason = "";

    public int Count => _count;

    /// <summary>The session every refused frame named, else 0 (the connection).</summary>
    public uint Session => _oneSession ? _session : 0;

    /// <param name="reason">why this frame was refused; only the first is kept, so later callers may pass null.</param>
    public void Add(uint session, string? reason)
    {
        if (_count == 0)
        {
            _session = session;
            _oneSession = true;
            _firstReason = reason ?? "";
        }
        else if (session != _session)
        {
            _oneSession = false;
        }
        _count++;
    }

    /// <summary>The Error's text: the first frame's reason, and how many frames of the batch were refused alike.</summary>
    public string Describe() => _count == 1
        ? _firstReason
        : $"{_count} frames of this FrameBatch refused{(_oneSession ? "" : " (several sessions)")}; the first: {_firstReason}";

    public void Clear()
    {
        _count = 0;
        _firstReason = "";
    }
}

namespace TeamsMediaBridge.Platform.Fake;

/// <summary>
/// The platform-clock timestamp of each tick's buffers: the tick's own deadline, 20 ms apart
/// exactly. The deadlines' origin is read from a tick (clock now - lateness - index x period), a
/// reading late by however long the clock thread took to read the clock after its loop measured
/// the lateness (a preempted thread: milliseconds). While no buffer has been delivered yet the
/// lowest reading is kept: a late first reading would otherwise stamp every buffer ahead of the
/// moment it was produced (and make the bridge's forwarding wait look shorter than it is). Once
/// buffers go out the origin is fixed, so their timestamps stay whole frames apart.
/// Used by the clock thread only.
/// </summary>
public sealed class TickTimestamps
{
    private long _origin = -1;

    /// <param name="settling">true while no buffer has been delivered: the origin may still be lowered.</param>
    /// <returns>The timestamp of tick <paramref name="index"/>'s buffers.</returns>
    public long OnTick(long index, long clockNowTicks, long latenessTicks, bool settling)
    {
        long origin = clockNowTicks - latenessTicks - (index * AudioFrameFormat.TicksPerFrame);
        if (_origin < 0 || (settling && origin < _origin)) _origin = origin;
        return _origin + (index * AudioFrameFormat.TicksPerFrame);
    }
}

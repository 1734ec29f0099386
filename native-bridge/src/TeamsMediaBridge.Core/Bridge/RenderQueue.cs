namespace TeamsMediaBridge.Bridge;

/// <summary>
/// One session's bounded playout queue: preallocated 640-byte slots in a ring (no allocation per
/// frame), and playout marks placed between frames. A full queue drops the newest frame, as the
/// TypeScript worker's playout queue does (the worker paces; a full queue means it ran ahead).
/// Marks are bounded too: while sending is not ACTIVE no frame leaves, so none is reached.
/// Not thread-safe: the owning session locks around it.
/// </summary>
internal sealed class RenderQueue
{
    private readonly byte[][] _slots;
    private int _head;
    private int _count;
    // Absolute counts since the session began; a mark is reached when _removed >= its position.
    private long _enqueued;
    private long _removed;
    private readonly Queue<(string Name, long Position)> _marks = new();
    private readonly int _maxMarks;

    public RenderQueue(int capacity, int maxMarks = int.MaxValue)
    {
        _maxMarks = maxMarks;
        _slots = new byte[capacity][];
        for (int i = 0; i < capacity; i++) _slots[i] = new byte[Platform.AudioFrameFormat.BytesPerFrame];
    }

    public int Count => _count;
    public int Capacity => _slots.Length;
    public int PendingMarks => _marks.Count;

    /// <returns>false when the queue was full and the frame was dropped.</returns>
    public bool Enqueue(ReadOnlySpan<byte> pcm)
    {
        if (_count == _slots.Length) return false;
        pcm.CopyTo(_slots[(_head + _count) % _slots.Length]);
        _count++;
        _enqueued++;
        return true;
    }

    public bool TryDequeue(Span<byte> destination)
    {
        if (_count == 0) return false;
        _slots[_head].CopyTo(destination);
        _head = (_head + 1) % _slots.Length;
        _count--;
        _removed++;
        return true;
    }

    /// <summary>Places a mark after every frame queued so far.</summary>
    /// <returns>false when <c>maxMarks</c> marks are already pending (the mark is not placed).</returns>
    public bool AddMark(string name)
    {
        if (_marks.Count >= _maxMarks) return false;
        _marks.Enqueue((name, _enqueued));
        return true;
    }

    /// <summary>The next mark whose frames have all left the queue, if any.</summary>
    public bool TryTakeReachedMark(out string name)
    {
        if (_marks.TryPeek(out var mark) && mark.Position <= _removed)
        {
            _marks.Dequeue();
            name = mark.Name;
            return true;
        }
        name = "";
        return false;
    }

    /// <summary>Drops every queued frame; pending marks are moved to <paramref name="unplayedMarks"/>.</summary>
    /// <returns>How many frames were dropped.</returns>
    public int Clear(List<string> unplayedMarks)
    {
        int cleared = _count;
        _removed += _count;
        _head = 0;
        _count = 0;
        while (_marks.TryDequeue(out var mark)) unplayedMarks.Add(mark.Name);
        return cleared;
    }
}

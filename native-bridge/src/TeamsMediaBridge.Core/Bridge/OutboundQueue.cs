using System.Buffers;
using System.Net.WebSockets;
using System.Threading.Channels;
using Google.Protobuf;
using TeamsMediaBridge.Protocol;

namespace TeamsMediaBridge.Bridge;

/// <summary>What became of a control message given to <see cref="OutboundQueue.Enqueue"/>.</summary>
internal enum EnqueueResult
{
    Queued,
    /// <summary>The queue is completed (the connection is closing).</summary>
    Closed,
    /// <summary>Too many control bytes wait for the socket: the worker is not reading. Nothing more is queued.</summary>
    Full,
}

/// <summary>
/// The connection's only writer. Messages are serialized on the caller's thread into pooled
/// buffers and written in order by one task. Frame batches are dropped (and counted by the
/// caller) when too many ticks are already waiting; control messages are bounded in bytes, and
/// the first one over the bound turns the queue full for good: dropping one control message and
/// sending later ones would leave the worker with a hole it cannot see (a mark never answered),
/// so the caller closes the connection instead. Either way a worker that stops reading cannot
/// make the host's memory or latency grow.
/// </summary>
internal sealed class OutboundQueue
{
    /// <summary>What a queued control message costs besides its bytes (its pooled buffer's rounding, the queue entry).</summary>
    public const int PerMessageOverhead = 64;

    private readonly Channel<Outgoing> _channel = Channel.CreateUnbounded<Outgoing>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = false });
    private readonly int _maxPendingTicks;
    private readonly long _maxControlBytes;
    private int _pendingTicks;
    private long _pendingControlBytes;
    private volatile bool _full;

    /// <param name="EndsTick">the last message of a reserved tick: writing it frees the tick's room.</param>
    /// <param name="ControlCharge">what the message counts against the control bound (0 for frame batches).</param>
    private readonly record struct Outgoing(byte[] Buffer, int Length, bool EndsTick, int ControlCharge);

    public OutboundQueue(int maxPendingTicks, int maxControlBytes)
    {
        _maxPendingTicks = maxPendingTicks;
        _maxControlBytes = maxControlBytes;
    }

    /// <summary>Ticks of frame batches reserved and not yet fully written.</summary>
    public int PendingTicks => Volatile.Read(ref _pendingTicks);

    /// <summary>Control bytes (with their overhead) queued and not yet written.</summary>
    public long PendingControlBytes => Interlocked.Read(ref _pendingControlBytes);

    /// <summary>A control message went over the bound: nothing is queued any more.</summary>
    public bool IsFull => _full;

    /// <summary>Queues a control message (anything but a FrameBatch), within the byte bound.</summary>
    public EnqueueResult Enqueue(Envelope envelope)
    {
        if (_full) return EnqueueResult.Full;
        int size = envelope.CalculateSize();
        int charge = size + PerMessageOverhead;
        if (Interlocked.Add(ref _pendingControlBytes, charge) > _maxControlBytes)
        {
            Interlocked.Add(ref _pendingControlBytes, -charge);
            _full = true;
            return EnqueueResult.Full;
        }
        if (Write(envelope, size, endsTick: false, charge)) return EnqueueResult.Queued;
        Interlocked.Add(ref _pendingControlBytes, -charge);
        return EnqueueResult.Closed;
    }

    /// <summary>
    /// Makes room for one tick's frame batches, which go out as one or more messages (see
    /// <see cref="FrameBatchPacker"/>): a tick counts once against the limit however many messages
    /// it takes, so a late tick is not dropped for being split. Enqueue them with
    /// <see cref="EnqueueTickBatch"/>, the last with endsTick set, or give the room back with
    /// <see cref="ReleaseTick"/>.
    /// </summary>
    /// <returns>false when too many ticks are already waiting (the tick is dropped).</returns>
    public bool TryReserveTick()
    {
        if (Interlocked.Increment(ref _pendingTicks) <= _maxPendingTicks) return true;
        Interlocked.Decrement(ref _pendingTicks);
        return false;
    }

    /// <summary>Serializes one message of a reserved tick now; the tick's room is freed once its last message is written.</summary>
    /// <returns>false when closed or full (the reservation is released if this was the last message).</returns>
    public bool EnqueueTickBatch(Envelope envelope, bool endsTick)
    {
        if (!_full && Write(envelope, envelope.CalculateSize(), endsTick, controlCharge: 0)) return true;
        if (endsTick) ReleaseTick();
        return false;
    }

    /// <summary>Gives back a reservation whose last message will not be enqueued.</summary>
    public void ReleaseTick() => Interlocked.Decrement(ref _pendingTicks);

    /// <summary>No more messages; the writer finishes what is queued, then ends.</summary>
    public void Complete() => _channel.Writer.TryComplete();

    public async Task RunAsync(WebSocket socket, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var item in _channel.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                try
                {
                    if (socket.State == WebSocketState.Open)
                    {
                        await socket.SendAsync(item.Buffer.AsMemory(0, item.Length), WebSocketMessageType.Binary, true, cancellationToken)
                            .ConfigureAwait(false);
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(item.Buffer);
                    if (item.EndsTick) Interlocked.Decrement(ref _pendingTicks);
                    if (item.ControlCharge != 0) Interlocked.Add(ref _pendingControlBytes, -item.ControlCharge);
                }
            }
        }
        finally
        {
            // Return whatever is left when the socket died first.
            Complete();
            while (_channel.Reader.TryRead(out var left))
            {
                ArrayPool<byte>.Shared.Return(left.Buffer);
                if (left.ControlCharge != 0) Interlocked.Add(ref _pendingControlBytes, -left.ControlCharge);
            }
        }
    }

    private bool Write(Envelope envelope, int size, bool endsTick, int controlCharge)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(Math.Max(size, 1));
        envelope.WriteTo(buffer.AsSpan(0, size));
        if (_channel.Writer.TryWrite(new Outgoing(buffer, size, endsTick, controlCharge))) return true;
        ArrayPool<byte>.Shared.Return(buffer);
        return false;
    }
}

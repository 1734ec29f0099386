using System.Buffers;
using System.Net.WebSockets;
using System.Threading.Channels;
using Google.Protobuf;
using TeamsMediaBridge.Protocol;

namespace TeamsMediaBridge.Bridge;

/// <summary>
/// The connection's only writer. Messages are serialized on the caller's thread into pooled
/// buffers and written in order by one task. Control messages are never dropped; frame batches
/// are dropped (and counted by the caller) when too many are already waiting, so a slow worker
/// cannot make the host's memory or latency grow.
/// </summary>
internal sealed class OutboundQueue
{
    private readonly Channel<Outgoing> _channel = Channel.CreateUnbounded<Outgoing>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = false });
    private readonly int _maxPendingTicks;
    private int _pendingTicks;

    /// <param name="EndsTick">the last message of a reserved tick: writing it frees the tick's room.</param>
    private readonly record struct Outgoing(byte[] Buffer, int Length, bool EndsTick);

    public OutboundQueue(int maxPendingTicks) => _maxPendingTicks = maxPendingTicks;

    /// <summary>Ticks of frame batches reserved and not yet fully written.</summary>
    public int PendingTicks => Volatile.Read(ref _pendingTicks);

    /// <returns>false when the message could not be queued (closed).</returns>
    public bool Enqueue(Envelope envelope) => Write(envelope, endsTick: false);

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
    /// <returns>false when closed (the reservation is released if this was the last message).</returns>
    public bool EnqueueTickBatch(Envelope envelope, bool endsTick)
    {
        if (Write(envelope, endsTick)) return true;
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
                }
            }
        }
        finally
        {
            // Return whatever is left when the socket died first.
            Complete();
            while (_channel.Reader.TryRead(out var left)) ArrayPool<byte>.Shared.Return(left.Buffer);
        }
    }

    private bool Write(Envelope envelope, bool endsTick)
    {
        int size = envelope.CalculateSize();
        byte[] buffer = ArrayPool<byte>.Shared.Rent(Math.Max(size, 1));
        envelope.WriteTo(buffer.AsSpan(0, size));
        if (_channel.Writer.TryWrite(new Outgoing(buffer, size, endsTick))) return true;
        ArrayPool<byte>.Shared.Return(buffer);
        return false;
    }
}

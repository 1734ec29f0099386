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
    private readonly int _maxPendingBatches;
    private int _pendingBatches;

    private readonly record struct Outgoing(byte[] Buffer, int Length, bool IsBatch);

    public OutboundQueue(int maxPendingBatches) => _maxPendingBatches = maxPendingBatches;

    public int PendingBatches => Volatile.Read(ref _pendingBatches);

    /// <returns>false when the message could not be queued (closed).</returns>
    public bool Enqueue(Envelope envelope) => Write(envelope, isBatch: false);

    /// <returns>false when dropped: too many batches waiting, or closed.</returns>
    public bool TryEnqueueBatch(Envelope envelope)
    {
        if (Interlocked.Increment(ref _pendingBatches) > _maxPendingBatches)
        {
            Interlocked.Decrement(ref _pendingBatches);
            return false;
        }
        if (Write(envelope, isBatch: true)) return true;
        Interlocked.Decrement(ref _pendingBatches);
        return false;
    }

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
                    if (item.IsBatch) Interlocked.Decrement(ref _pendingBatches);
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

    private bool Write(Envelope envelope, bool isBatch)
    {
        int size = envelope.CalculateSize();
        byte[] buffer = ArrayPool<byte>.Shared.Rent(Math.Max(size, 1));
        envelope.WriteTo(buffer.AsSpan(0, size));
        if (_channel.Writer.TryWrite(new Outgoing(buffer, size, isBatch))) return true;
        ArrayPool<byte>.Shared.Return(buffer);
        return false;
    }
}

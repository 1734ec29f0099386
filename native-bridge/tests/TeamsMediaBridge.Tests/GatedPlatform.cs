using TeamsMediaBridge.Platform;
using TeamsMediaBridge.Platform.Fake;
using TeamsMediaBridge.Protocol;

namespace TeamsMediaBridge.Tests;

/// <summary>
/// The fake platform behind a gate: CreateSessionAsync waits until the test opens it, as a slow
/// real platform would (ignoring cancellation, like a synchronous native call), so a test can
/// act while a create is in flight.
/// </summary>
internal sealed class GatedPlatform(FakeMediaPlatform inner) : IMediaPlatform
{
    private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when a create reached the gate.</summary>
    public Task CreateEntered => _entered.Task;

    public void Open() => _open.TrySetResult();

    public PlatformHealth Health => inner.Health;

    public event Action<PlatformHealth, PlatformHealth>? HealthChanged
    {
        add => inner.HealthChanged += value;
        remove => inner.HealthChanged -= value;
    }

    public Task InitializeAsync(CancellationToken ct) => inner.InitializeAsync(ct);

    public long GetTimestampTicks() => inner.GetTimestampTicks();

    public async Task<IPlatformSession> CreateSessionAsync(PlatformSessionRequest request, IPlatformSessionEvents events, CancellationToken ct)
    {
        _entered.TrySetResult();
        await _open.Task.ConfigureAwait(false);
        return await inner.CreateSessionAsync(request, events, CancellationToken.None).ConfigureAwait(false);
    }

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}

namespace Pitrix.Agent.Tests;

/// <summary>A clock the test moves. It starts at the real time so certificates it dates are valid for TLS.</summary>
public sealed class ManualTimeProvider : TimeProvider
{
    private DateTimeOffset _now = DateTimeOffset.UtcNow;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}

using Pitrix.Drone.Health;

namespace Pitrix.Drone.Tests;

public sealed class HealthCheckerTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>A check that passes while the file <c>up</c> exists, so a test decides each check's result.</summary>
    private HealthCheckSpec Spec(int healthy = 2, int unhealthy = 3, double interval = 60) => new()
    {
        CheckCmd = _dir.Script("check.sh", $"test -e {_dir.File("up")}"),
        ActionCmd = $"{_dir.Script("action.sh", $"echo \"restart $NODE\" >> {_dir.File("actions")}")}",
        HealthyThreshold = healthy,
        UnhealthyThreshold = unhealthy,
        IntervalSec = interval,
        TimeoutSec = 5,
        Environment = new Dictionary<string, string> { ["NODE"] = "zk1" },
    };

    private void Up(bool up)
    {
        if (up)
        {
            File.WriteAllText(_dir.File("up"), "");
        }
        else
        {
            File.Delete(_dir.File("up"));
        }
    }

    private string[] Actions() => File.Exists(_dir.File("actions")) ? File.ReadAllLines(_dir.File("actions")) : [];

    [Fact]
    public async Task CheckOnce_ConsecutiveResults_FlipHealthOnlyAtTheThresholds()
    {
        using var checker = new HealthChecker(Spec(healthy: 2, unhealthy: 3));
        var changes = new List<(NodeHealth From, NodeHealth To)>();
        checker.HealthChanged += (_, e) => changes.Add((e.Previous, e.Current));

        Up(true);
        Assert.Equal(NodeHealth.Unknown, await checker.CheckOnceAsync());
        Assert.Equal(NodeHealth.Healthy, await checker.CheckOnceAsync());
        Up(false);
        Assert.Equal(NodeHealth.Healthy, await checker.CheckOnceAsync());
        Assert.Equal(NodeHealth.Healthy, await checker.CheckOnceAsync());
        Up(true);
        // A pass in between resets the failure count.
        Assert.Equal(NodeHealth.Healthy, await checker.CheckOnceAsync());
        Up(false);
        Assert.Equal(NodeHealth.Healthy, await checker.CheckOnceAsync());
        Assert.Equal(NodeHealth.Healthy, await checker.CheckOnceAsync());
        Assert.Empty(Actions());
        Assert.Equal(NodeHealth.Unhealthy, await checker.CheckOnceAsync());
        Assert.Equal(NodeHealth.Unhealthy, await checker.CheckOnceAsync());

        Assert.Equal([(NodeHealth.Unknown, NodeHealth.Healthy), (NodeHealth.Healthy, NodeHealth.Unhealthy)], changes);
        Assert.Equal(["restart zk1"], Actions());
        Assert.Equal(NodeHealth.Unhealthy, checker.Current);
    }

    [Fact]
    public async Task CheckOnce_RecoversAndFailsAgain_RunsTheActionEachTimeItTurnsUnhealthy()
    {
        using var checker = new HealthChecker(Spec(healthy: 1, unhealthy: 1));

        Up(false);
        await checker.CheckOnceAsync();
        await checker.CheckOnceAsync();
        Up(true);
        Assert.Equal(NodeHealth.Healthy, await checker.CheckOnceAsync());
        Up(false);
        Assert.Equal(NodeHealth.Unhealthy, await checker.CheckOnceAsync());

        Assert.Equal(["restart zk1", "restart zk1"], Actions());
    }

    [Fact]
    public async Task CheckOnce_CheckOutlivesItsTimeout_CountsAsAFailure()
    {
        using var checker = new HealthChecker(new HealthCheckSpec
        {
            CheckCmd = _dir.Script("hang.sh", "sleep 30"),
            TimeoutSec = 0.3,
            UnhealthyThreshold = 1,
        });
        HealthChangedEventArgs? change = null;
        checker.HealthChanged += (_, e) => change = e;

        Assert.Equal(NodeHealth.Unhealthy, await checker.CheckOnceAsync());
        Assert.Equal(ProcessOutcome.TimedOut, change!.LastCheck.Outcome);
    }

    [Fact]
    public async Task Run_ShortInterval_ReachesHealthyAndRaisesTheEvent()
    {
        Up(true);
        using var checker = new HealthChecker(Spec(healthy: 3, interval: 0.05));
        var healthy = new TaskCompletionSource<HealthChangedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        checker.HealthChanged += (_, e) => healthy.TrySetResult(e);
        using var cts = new CancellationTokenSource();

        var running = checker.RunAsync(cts.Token);
        var change = await healthy.Task.WaitAsync(TimeSpan.FromSeconds(20));
        await cts.CancelAsync();
        await running;

        Assert.Equal(NodeHealth.Healthy, change.Current);
        Assert.Equal(NodeHealth.Unknown, change.Previous);
    }

    [Fact]
    public void Constructor_CheckCommandNeedingAShell_IsRefused()
    {
        var error = Assert.Throws<ArgumentException>(() => new HealthChecker(new HealthCheckSpec { CheckCmd = "curl -sf localhost:8080 || exit 1" }));
        Assert.Contains("check_cmd", error.Message, StringComparison.Ordinal);
    }
}

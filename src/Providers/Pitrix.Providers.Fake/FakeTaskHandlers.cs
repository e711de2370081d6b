using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pitrix.Core.Cloud;
using Pitrix.Core.Engine;
using Pitrix.Persistence;

namespace Pitrix.Providers.Fake;

/// <summary>
/// FAKE task kinds for engine tests. Every input may carry <c>latency_ms</c> (how long the call takes)
/// and <c>fail</c>: <c>"always"</c> fails every attempt (not retryable), a number fails that many first
/// attempts with a retryable error.
/// </summary>
public abstract class FakeTaskHandler(string kind, TimeProvider time) : ITaskHandler
{
    public string Kind { get; } = kind;

    public async Task<TaskOutcome> RunAsync(TaskContext context, CancellationToken cancellationToken)
    {
        var input = JsonNode.Parse(context.Input)?.AsObject() ?? [];
        if (input["latency_ms"]?.GetValue<int>() is > 0 and var latency)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(latency), time, cancellationToken);
        }

        switch (input["fail"]?.ToString())
        {
            case "always":
                return TaskOutcome.Failure("fake.failed", $"{Kind} fails as the test asked.", retryable: false, output: $"{Kind} attempt {context.Attempt}: failing");
            case { } count when int.TryParse(count, out var failures) && context.Attempt <= failures:
                return TaskOutcome.Failure("fake.flaky", $"{Kind} attempt {context.Attempt} fails as the test asked.", retryable: true, output: $"{Kind} attempt {context.Attempt}: flaky");
        }

        return await RunFakeAsync(context, input, cancellationToken);
    }

    protected abstract Task<TaskOutcome> RunFakeAsync(TaskContext context, JsonObject input, CancellationToken cancellationToken);

    protected static string NodeId(JsonObject input) => input["node_id"]?.GetValue<string>() ?? throw new InvalidOperationException("The task input has no node_id.");
}

/// <summary>
/// FAKE: creates (or finds, by idempotency key) the node's instance through the <see cref="ICloudDriver"/>,
/// in the fake's one default network, and records it on the node.
/// </summary>
public sealed class FakeCreateInstanceHandler(ICloudDriver driver, IServiceScopeFactory scopes, TimeProvider time) : FakeTaskHandler("fake.create_instance", time)
{
    private static readonly CloudNetworkRequest DefaultNetwork = new("fake-default-network", "fake-default", "10.0.0.0/8");

    protected override async Task<TaskOutcome> RunFakeAsync(TaskContext context, JsonObject input, CancellationToken cancellationToken)
    {
        var nodeId = NodeId(input);
        CloudInstance instance;
        bool created;
        try
        {
            var network = await driver.EnsureNetworkAsync(DefaultNetwork, cancellationToken);
            var existing = await driver.FindInstanceAsync(context.IdempotencyKey, cancellationToken);
            created = existing is null;
            instance = existing ?? await driver.CreateInstanceAsync(
                new CloudInstanceRequest(context.IdempotencyKey, network.Id, nodeId, input["cpu"]?.GetValue<int>() ?? 1, input["memory"]?.GetValue<int>() ?? 1024, "fake-image")
                {
                    Labels = new Dictionary<string, string> { [FakeCloud.NodeIdLabel] = nodeId, ["pitrix.cluster_id"] = context.ClusterId },
                },
                cancellationToken);
        }
        catch (CloudException e)
        {
            return e.ToTaskOutcome();
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PitrixDbContext>();
        await db.ClusterNodes.Where(n => n.Id == nodeId).ExecuteUpdateAsync(
            u => u.SetProperty(n => n.InstanceId, instance.Id).SetProperty(n => n.PrivateIp, instance.PrivateIp),
            cancellationToken);
        return TaskOutcome.Success(JsonSerializer.Serialize(new { instance_id = instance.Id, private_ip = instance.PrivateIp, created }));
    }
}

/// <summary>FAKE: starts, stops, resizes or deletes (terminates) a node's instance through the <see cref="ICloudDriver"/>.</summary>
public sealed class FakeInstanceHandler : FakeTaskHandler
{
    private readonly FakeCloud _cloud;
    private readonly ICloudDriver _driver;
    private readonly string _op;

    private FakeInstanceHandler(string op, FakeCloud cloud, ICloudDriver driver, TimeProvider time)
        : base("fake." + op, time)
    {
        _cloud = cloud;
        _driver = driver;
        _op = op;
    }

    /// <summary>The handler of <c>fake.{op}</c>: the fake cloud finds the node's instance, and the operation goes through the driver contract.</summary>
    public static ITaskHandler Create(string op, FakeCloud cloud, TimeProvider time) => new FakeInstanceHandler(op, cloud, cloud, time);

    protected override async Task<TaskOutcome> RunFakeAsync(TaskContext context, JsonObject input, CancellationToken cancellationToken)
    {
        var nodeId = NodeId(input);
        var instanceId = await _cloud.FindInstanceIdOfNodeAsync(_op, nodeId, cancellationToken);
        if (instanceId is null)
        {
            // Deleting what is already gone is success (a retried delete, or a compensation after a failed create).
            return _op == "delete_instance"
                ? TaskOutcome.Success($"{_op} {nodeId}: already gone")
                : TaskOutcome.Failure("fake.instance_missing", $"Node {nodeId} has no instance to {_op.Replace('_', ' ')}.", retryable: false);
        }

        try
        {
            switch (_op)
            {
                case "start_instance":
                    await _driver.StartInstanceAsync(instanceId, cancellationToken);
                    break;
                case "stop_instance":
                    await _driver.StopInstanceAsync(instanceId, cancellationToken);
                    break;
                case "resize_instance":
                    var current = await _driver.DescribeInstanceAsync(instanceId, cancellationToken);
                    await _driver.ResizeInstanceAsync(instanceId, input["cpu"]?.GetValue<int>() ?? current.Cpu, input["memory"]?.GetValue<int>() ?? current.MemoryMib, cancellationToken);
                    break;
                default:
                    await _driver.TerminateInstanceAsync(instanceId, cancellationToken);
                    break;
            }
        }
        catch (CloudException e)
        {
            return e.ToTaskOutcome();
        }

        return TaskOutcome.Success($"{_op} {nodeId}: done");
    }
}

/// <summary>FAKE: "runs" a lifecycle command on a role's nodes (it only reports what it would run).</summary>
public sealed class FakeRunHandler(TimeProvider time) : FakeTaskHandler("fake.run", time)
{
    protected override Task<TaskOutcome> RunFakeAsync(TaskContext context, JsonObject input, CancellationToken cancellationToken) =>
        Task.FromResult(TaskOutcome.Success($"ran {input["command"]} on {input["role"]} ({input["nodes"]?.AsArray().Count ?? 0} node(s))"));
}

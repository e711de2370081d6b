using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
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

/// <summary>FAKE: creates (or finds, by idempotency key) the node's instance and records it on the node.</summary>
public sealed class FakeCreateInstanceHandler(FakeCloud cloud, IServiceScopeFactory scopes, TimeProvider time) : FakeTaskHandler("fake.create_instance", time)
{
    protected override async Task<TaskOutcome> RunFakeAsync(TaskContext context, JsonObject input, CancellationToken cancellationToken)
    {
        var nodeId = NodeId(input);
        var (instance, created) = await cloud.CreateInstanceAsync(context.IdempotencyKey, nodeId, input["cpu"]?.GetValue<int>() ?? 1, input["memory"]?.GetValue<int>() ?? 1024, cancellationToken);
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PitrixDbContext>();
        await db.ClusterNodes.Where(n => n.Id == nodeId).ExecuteUpdateAsync(
            u => u.SetProperty(n => n.InstanceId, instance.InstanceId).SetProperty(n => n.PrivateIp, instance.PrivateIp),
            cancellationToken);
        return TaskOutcome.Success(JsonSerializer.Serialize(new { instance_id = instance.InstanceId, private_ip = instance.PrivateIp, created }));
    }
}

/// <summary>FAKE: starts, stops, resizes or deletes a node's instance.</summary>
public sealed class FakeInstanceHandler : FakeTaskHandler
{
    private readonly FakeCloud _cloud;
    private readonly string _op;

    private FakeInstanceHandler(string op, FakeCloud cloud, TimeProvider time)
        : base("fake." + op, time)
    {
        _cloud = cloud;
        _op = op;
    }

    public static ITaskHandler Create(string op, FakeCloud cloud, TimeProvider time) => new FakeInstanceHandler(op, cloud, time);

    protected override async Task<TaskOutcome> RunFakeAsync(TaskContext context, JsonObject input, CancellationToken cancellationToken)
    {
        var nodeId = NodeId(input);
        var found = await _cloud.UpdateAsync(_op, nodeId, instance => _op switch
        {
            "start_instance" => instance with { State = "running" },
            "stop_instance" => instance with { State = "stopped" },
            "resize_instance" => instance with { Cpu = input["cpu"]?.GetValue<int>() ?? instance.Cpu, Memory = input["memory"]?.GetValue<int>() ?? instance.Memory },
            _ => null,
        }, cancellationToken);

        // Deleting what is already gone is success (a retried delete, or a compensation after a failed create).
        return found || _op == "delete_instance"
            ? TaskOutcome.Success($"{_op} {nodeId}: {(found ? "done" : "already gone")}")
            : TaskOutcome.Failure("fake.instance_missing", $"Node {nodeId} has no instance to {_op.Replace('_', ' ')}.", retryable: false);
    }
}

/// <summary>FAKE: "runs" a lifecycle command on a role's nodes (it only reports what it would run).</summary>
public sealed class FakeRunHandler(TimeProvider time) : FakeTaskHandler("fake.run", time)
{
    protected override Task<TaskOutcome> RunFakeAsync(TaskContext context, JsonObject input, CancellationToken cancellationToken) =>
        Task.FromResult(TaskOutcome.Success($"ran {input["command"]} on {input["role"]} ({input["nodes"]?.AsArray().Count ?? 0} node(s))"));
}

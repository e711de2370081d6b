using System.Collections.Concurrent;

namespace Pitrix.Pilot;

/// <summary>
/// Wakes waits for a command result in this process as soon as the result is stored. Results stored by
/// another server process are found by the waits' polling instead.
/// </summary>
internal sealed class CommandResultSignals
{
    private readonly ConcurrentDictionary<(string NodeId, string TaskId), TaskCompletionSource> _waiters = new();

    /// <summary>A task that completes when a result for the node and task is stored; pass it to <see cref="Forget"/> when done waiting.</summary>
    public Task WhenStored(string nodeId, string taskId) =>
        _waiters.GetOrAdd((nodeId, taskId), _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    public void Stored(string nodeId, string taskId)
    {
        if (_waiters.TryRemove((nodeId, taskId), out var waiter))
        {
            waiter.TrySetResult();
        }
    }

    /// <summary>
    /// Drops the signal a finished wait no longer needs. Another wait for the same result that shared it
    /// then falls back to polling, which is only slower.
    /// </summary>
    public void Forget(string nodeId, string taskId, Task signal)
    {
        if (_waiters.TryGetValue((nodeId, taskId), out var waiter) && waiter.Task == signal)
        {
            _waiters.TryRemove(KeyValuePair.Create((nodeId, taskId), waiter));
        }
    }
}

using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;

namespace Pitrix.Templates;

/// <summary>
/// Runs template executions on reusable threads with a large stack. Deeply recursive templates need more stack
/// than a thread-pool thread has, and a new thread per execution costs more than rendering a small template;
/// these workers are started on demand, kept for reuse, and the caller blocks until its work is done.
/// </summary>
internal static class DeepStackRunner
{
    private const int StackSize = 64 * 1024 * 1024;

    private static readonly BlockingCollection<WorkItem> _queue = [];
    private static readonly int _maxWorkers = Math.Max(4, Environment.ProcessorCount * 4);
    private static int _workers;
    private static int _idle;

    [ThreadStatic]
    private static bool _onWorker;

    public static void Run(Action action)
    {
        // An execution started from inside another one (a function calling Execute) already has the big stack.
        if (_onWorker)
        {
            action();
            return;
        }

        using var item = new WorkItem(action);
        if (!TryClaimIdleWorker())
        {
            TryStartWorker();
        }

        _queue.Add(item);
        item.Done.Wait();
        if (item.Failure != null)
        {
            ExceptionDispatchInfo.Capture(item.Failure).Throw();
        }
    }

    private static bool TryClaimIdleWorker()
    {
        while (true)
        {
            var idle = Volatile.Read(ref _idle);
            if (idle <= 0)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _idle, idle - 1, idle) == idle)
            {
                return true;
            }
        }
    }

    private static void TryStartWorker()
    {
        if (Interlocked.Increment(ref _workers) > _maxWorkers)
        {
            // Enough workers exist; the item waits in the queue for the next free one.
            Interlocked.Decrement(ref _workers);
            return;
        }

        var thread = new Thread(Work, StackSize) { Name = "pitrix-template", IsBackground = true };
        thread.Start();
    }

    private static void Work()
    {
        _onWorker = true;
        foreach (var item in _queue.GetConsumingEnumerable())
        {
            item.Execute();
            Interlocked.Increment(ref _idle);
        }
    }

    private sealed class WorkItem(Action action) : IDisposable
    {
        public ManualResetEventSlim Done { get; } = new();

        public Exception? Failure { get; private set; }

        public void Execute()
        {
            try
            {
                action();
            }
#pragma warning disable CA1031 // The failure is rethrown on the calling thread.
            catch (Exception e)
#pragma warning restore CA1031
            {
                Failure = e;
            }
            finally
            {
                Done.Set();
            }
        }

        public void Dispose() => Done.Dispose();
    }
}

namespace Pitrix.Web.Components.Pages.Clusters;

/// <summary>A task to draw: its key (unique in the graph), what it shows, and the keys it waits for.</summary>
public sealed record GraphTask(string Key, string Kind, string Status, IReadOnlyList<string> DependsOn, bool Compensation = false);

/// <summary>A task placed in the drawing: its column (the longest path from a root), its row, and its box.</summary>
public sealed record PlacedTask(GraphTask Task, int Column, int Row, double X, double Y);

/// <summary>An edge from a dependency to the task that waits for it, as a path from the right of one box to the left of the other.</summary>
public sealed record PlacedEdge(string From, string To, string Path);

/// <summary>
/// A layered drawing of a task DAG, laid out on the server: each task's column is the length of the longest
/// path to it from a task without dependencies, so every edge points right; within a column tasks are ordered
/// by where their dependencies sit (fewer crossings), then by their order in the job. Dependencies on keys
/// that are not in the graph are ignored. A cycle cannot be drawn left to right: its tasks go in one column
/// after all others, with <see cref="HasCycle"/> set, and their edges are left out, so a broken job still
/// renders.
/// </summary>
public sealed class TaskGraphLayout
{
    public const double NodeWidth = 168;
    public const double NodeHeight = 44;
    public const double ColumnGap = 56;
    public const double RowGap = 14;
    public const double Margin = 8;

    private TaskGraphLayout(IReadOnlyList<PlacedTask> tasks, IReadOnlyList<PlacedEdge> edges, bool hasCycle)
    {
        Tasks = tasks;
        Edges = edges;
        HasCycle = hasCycle;
        Columns = tasks.Count == 0 ? 0 : tasks.Max(t => t.Column) + 1;
        Rows = tasks.Count == 0 ? 0 : tasks.Max(t => t.Row) + 1;
        Width = Columns == 0 ? 0 : (2 * Margin) + (Columns * NodeWidth) + ((Columns - 1) * ColumnGap);
        Height = Rows == 0 ? 0 : (2 * Margin) + (Rows * NodeHeight) + ((Rows - 1) * RowGap);
    }

    public IReadOnlyList<PlacedTask> Tasks { get; }

    public IReadOnlyList<PlacedEdge> Edges { get; }

    public bool HasCycle { get; }

    public int Columns { get; }

    public int Rows { get; }

    public double Width { get; }

    public double Height { get; }

    public static TaskGraphLayout Build(IReadOnlyList<GraphTask> tasks)
    {
        var order = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var task in tasks)
        {
            order.TryAdd(task.Key, order.Count);
        }

        // One task per key (the first), and only dependencies on tasks that are drawn.
        var unique = tasks.Where((t, i) => order[t.Key] == i).ToList();
        var dependencies = unique.ToDictionary(
            t => t.Key,
            t => t.DependsOn.Where(d => order.ContainsKey(d) && d != t.Key).Distinct(StringComparer.Ordinal).ToList(),
            StringComparer.Ordinal);
        var dependents = unique.ToDictionary(t => t.Key, _ => new List<string>(), StringComparer.Ordinal);
        foreach (var (key, deps) in dependencies)
        {
            foreach (var dep in deps)
            {
                dependents[dep].Add(key);
            }
        }

        // Kahn's algorithm in job order: a task's column is one more than its deepest dependency's.
        var column = new Dictionary<string, int>(StringComparer.Ordinal);
        var waiting = dependencies.ToDictionary(d => d.Key, d => d.Value.Count, StringComparer.Ordinal);
        var ready = new Queue<string>(unique.Where(t => waiting[t.Key] == 0).Select(t => t.Key));
        while (ready.Count > 0)
        {
            var key = ready.Dequeue();
            column[key] = dependencies[key].Count == 0 ? 0 : dependencies[key].Max(d => column[d]) + 1;
            foreach (var next in dependents[key].OrderBy(k => order[k]))
            {
                if (--waiting[next] == 0)
                {
                    ready.Enqueue(next);
                }
            }
        }

        var hasCycle = column.Count < unique.Count;
        if (hasCycle)
        {
            var last = column.Count == 0 ? 0 : column.Values.Max() + 1;
            foreach (var task in unique.Where(t => !column.ContainsKey(t.Key)))
            {
                column[task.Key] = last;
            }
        }

        // Rows: column by column, each task near the mean row of its dependencies already placed.
        var row = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var group in unique.GroupBy(t => column[t.Key]).OrderBy(g => g.Key))
        {
            var ranked = group
                .Select(t => (Task: t, Rank: dependencies[t.Key].Where(row.ContainsKey).Select(d => (double)row[d]).DefaultIfEmpty(double.MaxValue).Average()))
                .OrderBy(x => x.Rank)
                .ThenBy(x => order[x.Task.Key])
                .ToList();
            for (var i = 0; i < ranked.Count; i++)
            {
                row[ranked[i].Task.Key] = i;
            }
        }

        var placed = unique
            .Select(t => new PlacedTask(t, column[t.Key], row[t.Key], Margin + (column[t.Key] * (NodeWidth + ColumnGap)), Margin + (row[t.Key] * (NodeHeight + RowGap))))
            .OrderBy(p => p.Column).ThenBy(p => p.Row)
            .ToList();
        var at = placed.ToDictionary(p => p.Task.Key, StringComparer.Ordinal);
        var edges = new List<PlacedEdge>();
        foreach (var task in placed)
        {
            foreach (var dep in dependencies[task.Task.Key])
            {
                var from = at[dep];
                if (from.Column >= task.Column)
                {
                    continue; // Part of a cycle: not drawable left to right.
                }

                edges.Add(new PlacedEdge(dep, task.Task.Key, EdgePath(from, task)));
            }
        }

        return new TaskGraphLayout(placed, edges, hasCycle);
    }

    private static string EdgePath(PlacedTask from, PlacedTask to)
    {
        var x1 = from.X + NodeWidth;
        var y1 = from.Y + (NodeHeight / 2);
        var x2 = to.X;
        var y2 = to.Y + (NodeHeight / 2);
        var bend = (x2 - x1) / 2;
        return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"M{x1:0.#},{y1:0.#} C{x1 + bend:0.#},{y1:0.#} {x2 - bend:0.#},{y2:0.#} {x2:0.#},{y2:0.#}");
    }
}

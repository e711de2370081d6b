using System.Globalization;
using System.Text;

namespace Pitrix.Core.Text;

/// <summary>What one line of an edit script does.</summary>
public enum DiffKind
{
    /// <summary>The line is in both texts.</summary>
    Equal,

    /// <summary>The line is only in the old text.</summary>
    Delete,

    /// <summary>The line is only in the new text.</summary>
    Insert,
}

/// <summary>One line of an edit script: kept, deleted from the old text, or inserted from the new one.</summary>
public readonly record struct DiffLine(DiffKind Kind, string Text)
{
    /// <summary>The line as a unified diff prints it: a space, <c>-</c> or <c>+</c>, then the text.</summary>
    public override string ToString() => Kind switch
    {
        DiffKind.Delete => "-" + Text,
        DiffKind.Insert => "+" + Text,
        _ => " " + Text,
    };
}

/// <summary>
/// One hunk of a unified diff: its lines (changes with their context) and where they are in each text.
/// Starts are 1-based line numbers as <c>diff -u</c> prints them; an empty range starts at the line before it.
/// </summary>
public sealed record DiffHunk(int OldStart, int OldCount, int NewStart, int NewCount, IReadOnlyList<DiffLine> Lines)
{
    /// <summary>The <c>@@ -l,s +l,s @@</c> line; a count of 1 is left out, as diff and git do.</summary>
    public string Header => $"@@ -{Range(OldStart, OldCount)} +{Range(NewStart, NewCount)} @@";

    private static string Range(int start, int count) =>
        count == 1 ? start.ToString(CultureInfo.InvariantCulture) : string.Create(CultureInfo.InvariantCulture, $"{start},{count}");
}

/// <summary>
/// A line diff: Myers' O(ND) algorithm in its linear-space form (the middle snake, recursively), so it is fast
/// when the texts are alike however long they are (thousands of manifest lines) and needs memory linear in their
/// length. The edit script is a shortest one; within a change, deletions come before insertions. Lines are
/// compared exactly (ordinal); a final newline is not significant.
/// </summary>
public static class LineDiff
{
    /// <summary>The lines of <paramref name="text"/>, any line ending accepted; a final line ending adds no empty line.</summary>
    public static IReadOnlyList<string> SplitLines(string text)
    {
        if (text.Length == 0)
        {
            return [];
        }

        var lines = text.ReplaceLineEndings("\n").Split('\n');
        return lines[^1].Length == 0 ? lines[..^1] : lines;
    }

    /// <summary>A shortest edit script turning <paramref name="oldLines"/> into <paramref name="newLines"/>.</summary>
    public static IReadOnlyList<DiffLine> Compute(IReadOnlyList<string> oldLines, IReadOnlyList<string> newLines)
    {
        // Lines become small integers, so the inner loop compares ints, not strings.
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        var a = Intern(oldLines, ids);
        var b = Intern(newLines, ids);
        var deleted = new bool[a.Length];
        var inserted = new bool[b.Length];
        Diff(a, 0, a.Length, b, 0, b.Length, deleted, inserted);

        var script = new List<DiffLine>(Math.Max(a.Length, b.Length));
        int i = 0, j = 0;
        while (i < a.Length || j < b.Length)
        {
            if (i < a.Length && deleted[i])
            {
                script.Add(new DiffLine(DiffKind.Delete, oldLines[i++]));
            }
            else if (j < b.Length && inserted[j])
            {
                script.Add(new DiffLine(DiffKind.Insert, newLines[j++]));
            }
            else
            {
                script.Add(new DiffLine(DiffKind.Equal, oldLines[i++]));
                j++;
            }
        }

        return script;
    }

    /// <summary>
    /// The hunks of <paramref name="script"/>: each change with up to <paramref name="context"/> equal lines around
    /// it; changes separated by at most twice that many equal lines share a hunk. None when nothing changed.
    /// </summary>
    public static IReadOnlyList<DiffHunk> Hunks(IReadOnlyList<DiffLine> script, int context = 3)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(context);

        // Lines of each text before each position of the script.
        var oldBefore = new int[script.Count + 1];
        var newBefore = new int[script.Count + 1];
        for (var p = 0; p < script.Count; p++)
        {
            oldBefore[p + 1] = oldBefore[p] + (script[p].Kind == DiffKind.Insert ? 0 : 1);
            newBefore[p + 1] = newBefore[p] + (script[p].Kind == DiffKind.Delete ? 0 : 1);
        }

        var hunks = new List<DiffHunk>();
        var next = 0;
        while (NextChange(script, next) is var change && change < script.Count)
        {
            var start = Math.Max(next, change - context);
            var end = change + 1;
            while (NextChange(script, end) is var following && following < script.Count && following - end <= 2 * context)
            {
                end = following + 1;
            }

            end = Math.Min(script.Count, end + context);
            int oldCount = oldBefore[end] - oldBefore[start], newCount = newBefore[end] - newBefore[start];
            hunks.Add(new DiffHunk(
                oldCount == 0 ? oldBefore[start] : oldBefore[start] + 1, oldCount,
                newCount == 0 ? newBefore[start] : newBefore[start] + 1, newCount,
                script.Skip(start).Take(end - start).ToList()));
            next = end;
        }

        return hunks;
    }

    /// <summary>
    /// A unified diff of two texts (<c>diff -u</c>'s format: <c>---</c>/<c>+++</c> labels, then hunks with
    /// <paramref name="context"/> lines of context); empty when their lines are equal.
    /// </summary>
    public static string Unified(string oldText, string newText, string oldLabel, string newLabel, int context = 3) =>
        Unified(SplitLines(oldText), SplitLines(newText), oldLabel, newLabel, context);

    /// <summary>As <see cref="Unified(string, string, string, string, int)"/>, of lines.</summary>
    public static string Unified(IReadOnlyList<string> oldLines, IReadOnlyList<string> newLines, string oldLabel, string newLabel, int context = 3)
    {
        var hunks = Hunks(Compute(oldLines, newLines), context);
        if (hunks.Count == 0)
        {
            return "";
        }

        var text = new StringBuilder();
        text.Append("--- ").Append(oldLabel).Append('\n');
        text.Append("+++ ").Append(newLabel).Append('\n');
        foreach (var hunk in hunks)
        {
            text.Append(hunk.Header).Append('\n');
            foreach (var line in hunk.Lines)
            {
                text.Append(line.ToString()).Append('\n');
            }
        }

        return text.ToString();
    }

    private static int NextChange(IReadOnlyList<DiffLine> script, int from)
    {
        while (from < script.Count && script[from].Kind == DiffKind.Equal)
        {
            from++;
        }

        return from;
    }

    private static int[] Intern(IReadOnlyList<string> lines, Dictionary<string, int> ids)
    {
        var result = new int[lines.Count];
        for (var i = 0; i < lines.Count; i++)
        {
            if (!ids.TryGetValue(lines[i], out var id))
            {
                id = ids.Count;
                ids.Add(lines[i], id);
            }

            result[i] = id;
        }

        return result;
    }

    /// <summary>Marks the lines of a[aLo..aHi) not in a longest common subsequence with b[bLo..bHi) as deleted, and those of b as inserted.</summary>
    private static void Diff(int[] a, int aLo, int aHi, int[] b, int bLo, int bHi, bool[] deleted, bool[] inserted)
    {
        while (aLo < aHi && bLo < bHi && a[aLo] == b[bLo])
        {
            aLo++;
            bLo++;
        }

        while (aLo < aHi && bLo < bHi && a[aHi - 1] == b[bHi - 1])
        {
            aHi--;
            bHi--;
        }

        if (aLo == aHi || bLo == bHi)
        {
            Array.Fill(deleted, true, aLo, aHi - aLo);
            Array.Fill(inserted, true, bLo, bHi - bLo);
            return;
        }

        if (MiddleSnake(a, aLo, aHi, b, bLo, bHi) is not var (x, y))
        {
            // Nothing in common.
            Array.Fill(deleted, true, aLo, aHi - aLo);
            Array.Fill(inserted, true, bLo, bHi - bLo);
            return;
        }

        // Each half needs fewer edits than the whole, so the recursion ends (and is about log D deep).
        Diff(a, aLo, x, b, bLo, y, deleted, inserted);
        Diff(a, x, aHi, b, y, bHi, deleted, inserted);
    }

    /// <summary>
    /// Where a shortest edit path crosses the middle (Myers 1986, section 4b): searched forward from the start and
    /// backward from the end at once until the two meet. Both ranges are non-empty and differ at both ends. The
    /// answer is a point (absolute indexes into a and b) on a shortest path, strictly inside it; null when the
    /// ranges have no line in common.
    /// </summary>
    private static (int X, int Y)? MiddleSnake(int[] a, int aLo, int aHi, int[] b, int bLo, int bHi)
    {
        int n = aHi - aLo, m = bHi - bLo;
        var maxD = (n + m + 1) / 2;
        var offset = maxD;
        var length = 2 * maxD + 2;
        var forward = new int[length];
        var backward = new int[length];
        Array.Fill(forward, -1);
        Array.Fill(backward, -1);
        forward[offset + 1] = 0;
        backward[offset + 1] = 0;
        var delta = n - m;

        // With an odd delta the paths meet during a forward step, with an even one during a backward step.
        var checkForward = (delta & 1) != 0;

        // Diagonals that ran off the edges are skipped from then on.
        int forwardStart = 0, forwardEnd = 0, backwardStart = 0, backwardEnd = 0;
        for (var d = 0; d < maxD; d++)
        {
            for (var k = -d + forwardStart; k <= d - forwardEnd; k += 2)
            {
                var index = offset + k;
                var x = k == -d || (k != d && forward[index - 1] < forward[index + 1]) ? forward[index + 1] : forward[index - 1] + 1;
                var y = x - k;
                while (x < n && y < m && a[aLo + x] == b[bLo + y])
                {
                    x++;
                    y++;
                }

                forward[index] = x;
                if (x > n)
                {
                    forwardEnd += 2;
                }
                else if (y > m)
                {
                    forwardStart += 2;
                }
                else if (checkForward)
                {
                    var other = offset + delta - k;
                    if (other >= 0 && other < length && backward[other] != -1 && x >= n - backward[other])
                    {
                        return (aLo + x, bLo + y);
                    }
                }
            }

            for (var k = -d + backwardStart; k <= d - backwardEnd; k += 2)
            {
                var index = offset + k;
                var x = k == -d || (k != d && backward[index - 1] < backward[index + 1]) ? backward[index + 1] : backward[index - 1] + 1;
                var y = x - k;
                while (x < n && y < m && a[aHi - x - 1] == b[bHi - y - 1])
                {
                    x++;
                    y++;
                }

                backward[index] = x;
                if (x > n)
                {
                    backwardEnd += 2;
                }
                else if (y > m)
                {
                    backwardStart += 2;
                }
                else if (!checkForward)
                {
                    var other = offset + delta - k;
                    if (other >= 0 && other < length && forward[other] != -1)
                    {
                        var forwardX = forward[other];
                        var forwardY = offset + forwardX - other;
                        if (forwardX >= n - x)
                        {
                            return (aLo + forwardX, bLo + forwardY);
                        }
                    }
                }
            }
        }

        return null;
    }
}

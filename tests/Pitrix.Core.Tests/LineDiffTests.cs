using System.Diagnostics;
using System.Globalization;
using Pitrix.Core.Text;
using Xunit;

namespace Pitrix.Core.Tests;

public sealed class LineDiffTests
{
    private static readonly string[] Ten = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"];

    [Fact]
    public void Compute_EqualTexts_KeepsEveryLine_AndUnifiedIsEmpty()
    {
        var script = LineDiff.Compute(Ten, Ten);
        Assert.Equal(Ten, script.Select(l => l.Text));
        Assert.All(script, l => Assert.Equal(DiffKind.Equal, l.Kind));
        Assert.Empty(LineDiff.Hunks(script));
        Assert.Equal("", LineDiff.Unified("x\ny\n", "x\ny", "a", "b"));
        Assert.Empty(LineDiff.Compute([], []));
    }

    [Fact]
    public void Compute_Insert_MarksOnlyTheNewLines()
    {
        var script = LineDiff.Compute(["a", "b", "c"], ["a", "x", "b", "c", "y"]);
        Assert.Equal([" a", "+x", " b", " c", "+y"], script.Select(l => l.ToString()));
    }

    [Fact]
    public void Compute_Delete_MarksOnlyTheRemovedLines()
    {
        var script = LineDiff.Compute(["a", "b", "c", "d"], ["b", "d"]);
        Assert.Equal(["-a", " b", "-c", " d"], script.Select(l => l.ToString()));
    }

    [Fact]
    public void Compute_Replace_DeletesBeforeItInserts()
    {
        var script = LineDiff.Compute(["spec:", "  replicas: 1", "  selector:"], ["spec:", "  replicas: 3", "  selector:"]);
        Assert.Equal([" spec:", "-  replicas: 1", "+  replicas: 3", "   selector:"], script.Select(l => l.ToString()));

        var nothingShared = LineDiff.Compute(["a", "b"], ["c"]);
        Assert.Equal(["-a", "-b", "+c"], nothingShared.Select(l => l.ToString()));
    }

    [Fact]
    public void Unified_PrintsLabelsAndHunksWithThreeLinesOfContext_AsDiffDoes()
    {
        var changed = Ten.Select(l => l == "e" ? "E" : l).ToArray();
        var unified = LineDiff.Unified(Lines(Ten), Lines(changed), "old", "new");
        Assert.Equal("--- old\n+++ new\n@@ -2,7 +2,7 @@\n b\n c\n d\n-e\n+E\n f\n g\n h\n", unified);

        // Ranges of one line leave out the count; an empty range starts at the line before it.
        Assert.Equal("--- old\n+++ new\n@@ -1 +1 @@\n-x\n+y\n", LineDiff.Unified("x\n", "y\n", "old", "new"));
        Assert.Equal("--- /dev/null\n+++ new\n@@ -0,0 +1,2 @@\n+x\n+y\n", LineDiff.Unified("", "x\ny\n", "/dev/null", "new"));
        Assert.Equal("--- old\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-x\n-y\n", LineDiff.Unified("x\r\ny", "", "old", "/dev/null"));
    }

    [Fact]
    public void Hunks_MergeChangesAtMostSixEqualLinesApart_AndSplitFurtherOnes()
    {
        var lines = Enumerable.Range(1, 40).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();

        // Lines 10 and 17 changed: six equal lines between them, one hunk.
        var near = LineDiff.Hunks(LineDiff.Compute(lines, Change(lines, 10, 17)));
        var hunk = Assert.Single(near);
        Assert.Equal("@@ -7,14 +7,14 @@", hunk.Header);

        // Lines 10 and 18: seven equal lines between them, two hunks.
        var far = LineDiff.Hunks(LineDiff.Compute(lines, Change(lines, 10, 18)));
        Assert.Equal(["@@ -7,7 +7,7 @@", "@@ -15,7 +15,7 @@"], far.Select(h => h.Header));

        // Context is cut at the ends of the text.
        var edges = LineDiff.Hunks(LineDiff.Compute(lines, Change(lines, 1, 40)));
        Assert.Equal(["@@ -1,4 +1,4 @@", "@@ -37,4 +37,4 @@"], edges.Select(h => h.Header));
        Assert.Equal("@@ -9,3 +9,3 @@", Assert.Single(LineDiff.Hunks(LineDiff.Compute(lines, Change(lines, 10)), context: 1)).Header);
    }

    [Fact]
    public void Compute_RandomTexts_IsAShortestScript_AndItsUnifiedDiffAppliesBack()
    {
        var random = new Random(7);
        for (var round = 0; round < 500; round++)
        {
            var old = RandomLines(random, random.Next(0, 30));
            var @new = random.Next(3) == 0 ? RandomLines(random, random.Next(0, 30)) : Mutate(random, old);
            var script = LineDiff.Compute(old, @new);

            Assert.Equal(old, script.Where(l => l.Kind != DiffKind.Insert).Select(l => l.Text));
            Assert.Equal(@new, script.Where(l => l.Kind != DiffKind.Delete).Select(l => l.Text));
            Assert.Equal(old.Length + @new.Length - (2 * LcsLength(old, @new)), script.Count(l => l.Kind != DiffKind.Equal));

            var context = random.Next(0, 4);
            Assert.Equal(@new, Apply(old, LineDiff.Hunks(script, context)));
        }
    }

    [Fact]
    public void Compute_LargeTextsWithFewChanges_IsFast_AndPatchAppliesTheUnifiedDiff()
    {
        // A manifest-sized text: 30,000 lines, many of them alike (as YAML's are), with scattered edits.
        var random = new Random(11);
        var old = Enumerable.Range(0, 30_000).Select(i => i % 7 == 0 ? "  labels:" : $"  key{i % 5000}: value{i}").ToArray();
        var @new = old.ToList();
        for (var edit = 0; edit < 60; edit++)
        {
            var at = random.Next(@new.Count);
            switch (edit % 3)
            {
                case 0: @new.Insert(at, $"  added{edit}: yes"); break;
                case 1: @new.RemoveAt(at); break;
                default: @new[at] = $"  changed{edit}: yes"; break;
            }
        }

        var watch = Stopwatch.StartNew();
        var unified = LineDiff.Unified(old, @new, "old.yaml", "new.yaml");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"took {watch.Elapsed}");
        Assert.Equal(@new, Apply(old, LineDiff.Hunks(LineDiff.Compute(old, @new))));

        // The real patch(1) accepts the output and rebuilds the new text exactly.
        var directory = Directory.CreateTempSubdirectory("pitrix-linediff-").FullName;
        try
        {
            File.WriteAllLines(Path.Combine(directory, "old.yaml"), old);
            File.WriteAllText(Path.Combine(directory, "change.diff"), unified);
            var start = new ProcessStartInfo("patch", ["--quiet", "--fuzz=0", "-o", "patched.yaml", "old.yaml", "change.diff"]) { WorkingDirectory = directory, RedirectStandardError = true, RedirectStandardOutput = true };
            using var patch = Process.Start(start) ?? throw new InvalidOperationException("patch(1) is needed: apt-get install patch");
            var errors = patch.StandardError.ReadToEnd() + patch.StandardOutput.ReadToEnd();
            patch.WaitForExit();
            Assert.True(patch.ExitCode == 0, errors);
            Assert.Equal(@new, File.ReadAllLines(Path.Combine(directory, "patched.yaml")));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }

        // Texts with nothing in common (D = N + M, the worst case) and very different ones still finish.
        watch.Restart();
        var disjoint = LineDiff.Compute(old[..5_000], old[..5_000].Select(l => l + "!").ToArray());
        Assert.Equal(Enumerable.Repeat(DiffKind.Delete, 5_000).Concat(Enumerable.Repeat(DiffKind.Insert, 5_000)), disjoint.Select(l => l.Kind));
        string[] before = RandomLines(random, 5_000), after = RandomLines(random, 5_000);
        var scrambled = LineDiff.Compute(before, after);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
        Assert.Equal(before, scrambled.Where(l => l.Kind != DiffKind.Insert).Select(l => l.Text));
        Assert.Equal(after, scrambled.Where(l => l.Kind != DiffKind.Delete).Select(l => l.Text));
    }

    private static string Lines(IEnumerable<string> lines) => string.Concat(lines.Select(l => l + "\n"));

    private static string[] Change(string[] lines, params int[] numbers) =>
        lines.Select((l, i) => numbers.Contains(i + 1) ? l + "!" : l).ToArray();

    private static string[] RandomLines(Random random, int count) =>
        Enumerable.Range(0, count).Select(_ => ((char)('a' + random.Next(6))).ToString()).ToArray();

    private static string[] Mutate(Random random, string[] lines)
    {
        var result = lines.ToList();
        for (var edits = random.Next(0, 6); edits > 0; edits--)
        {
            var at = random.Next(result.Count + 1);
            if (random.Next(2) == 0 || result.Count == 0)
            {
                result.Insert(at, ((char)('a' + random.Next(8))).ToString());
            }
            else
            {
                result.RemoveAt(Math.Min(at, result.Count - 1));
            }
        }

        return [.. result];
    }

    private static int LcsLength(string[] a, string[] b)
    {
        var table = new int[a.Length + 1, b.Length + 1];
        for (var i = a.Length - 1; i >= 0; i--)
        {
            for (var j = b.Length - 1; j >= 0; j--)
            {
                table[i, j] = a[i] == b[j] ? table[i + 1, j + 1] + 1 : Math.Max(table[i + 1, j], table[i, j + 1]);
            }
        }

        return table[0, 0];
    }

    /// <summary>Applies hunks strictly: every context and deleted line must be where the header says.</summary>
    private static List<string> Apply(string[] old, IReadOnlyList<DiffHunk> hunks)
    {
        var result = new List<string>();
        var position = 0;
        foreach (var hunk in hunks)
        {
            var start = hunk.OldCount == 0 ? hunk.OldStart : hunk.OldStart - 1;
            Assert.True(start >= position, $"hunk {hunk.Header} overlaps the one before");
            result.AddRange(old[position..start]);
            Assert.Equal(hunk.NewCount == 0 ? result.Count : result.Count + 1, hunk.NewStart);
            position = start;
            foreach (var line in hunk.Lines)
            {
                if (line.Kind != DiffKind.Insert)
                {
                    Assert.Equal(old[position], line.Text);
                    position++;
                }

                if (line.Kind != DiffKind.Delete)
                {
                    result.Add(line.Text);
                }
            }

            Assert.Equal(hunk.OldCount, hunk.Lines.Count(l => l.Kind != DiffKind.Insert));
            Assert.Equal(hunk.NewCount, hunk.Lines.Count(l => l.Kind != DiffKind.Delete));
        }

        result.AddRange(old[position..]);
        return result;
    }
}

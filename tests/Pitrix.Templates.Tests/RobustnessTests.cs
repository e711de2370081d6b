using Pitrix.Templates.Tests.GoReference;

namespace Pitrix.Templates.Tests;

public sealed class RobustnessTests
{
    /// <summary>Every prefix of every corpus template, and every copy with one character removed, either works or fails with a <see cref="TemplateException"/>.</summary>
    [Fact]
    public void ParseAndExecute_MangledCorpusTemplates_FailOnlyWithTemplateException()
    {
        var functions = new FunctionLibrary().AddSprig();
        var options = new TemplateOptions { MaxRangeIterations = 10_000, MaxOutputBytes = 100_000, Timeout = TimeSpan.FromSeconds(2) };
        var failures = new List<string>();
        foreach (var c in CorpusCase.LoadAll().Where(c => c.Funcs != "confd"))
        {
            var data = c.Data is { } d ? CorpusCase.ToValue(d) : null;
            var variants = Enumerable.Range(0, c.Template.Length + 1).Select(n => c.Template[..n])
                .Concat(Enumerable.Range(0, c.Template.Length).Select(n => c.Template.Remove(n, 1)));
            foreach (var text in variants)
            {
                try
                {
                    Template.Parse("t", text, options, functions).Execute(data);
                }
                catch (TemplateException)
                {
                }
#pragma warning disable CA1031 // The point of the test is to collect any other exception.
                catch (Exception e)
#pragma warning restore CA1031
                {
                    failures.Add($"{c.Name} [{text}]: {e.GetType().Name}: {e.Message}");
                }
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(20)));
    }
}

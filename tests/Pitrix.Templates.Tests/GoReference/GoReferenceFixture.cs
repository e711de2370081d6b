using System.Diagnostics;
using System.Text.Json;

namespace Pitrix.Templates.Tests.GoReference;

/// <summary>
/// Runs the Go reference renderer (gotmplref, built by GoReference/build.sh) over the corpus once.
/// Its path comes from PITRIX_GO_TEMPLATE_REF; without it every corpus test fails with instructions.
/// </summary>
public sealed class GoReferenceFixture
{
    public const string EnvironmentVariable = "PITRIX_GO_TEMPLATE_REF";

    private readonly Lazy<(IReadOnlyDictionary<string, RenderResult>? Results, string? Problem)> _results = new(Run);

    public IReadOnlyDictionary<string, RenderResult> Results =>
        _results.Value.Results ?? throw new InvalidOperationException(_results.Value.Problem);

    private static (IReadOnlyDictionary<string, RenderResult>?, string?) Run()
    {
        var binary = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (string.IsNullOrEmpty(binary) || !File.Exists(binary))
        {
            return (null, $"{EnvironmentVariable} is not set to the Go template reference binary (was '{binary}'). " +
                "Run tests/Pitrix.Templates.Tests/GoReference/build.sh and export its last output line as " +
                $"{EnvironmentVariable}, or run ./test.sh which does both.");
        }

        var start = new ProcessStartInfo(binary, [CorpusCase.CorpusDirectory])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
#pragma warning disable VSTHRD002 // The process has exited; the read completes synchronously.
        var output = stdout.GetAwaiter().GetResult();
#pragma warning restore VSTHRD002
        if (process.ExitCode != 0)
        {
            return (null, $"{binary} failed with exit code {process.ExitCode}: {stderr}");
        }

        using var doc = JsonDocument.Parse(output);
        var results = doc.RootElement.EnumerateObject()
            .ToDictionary(p => p.Name, p => RenderResult.FromJson(p.Value), StringComparer.Ordinal);
        return (results, null);
    }
}

[CollectionDefinition(Name)]
public sealed class GoReferenceGroup : ICollectionFixture<GoReferenceFixture>
{
    public const string Name = "Go reference";
}

using System.Text;
using Pitrix.Drone.Metadata;
using Pitrix.Templates;

namespace Pitrix.Drone.Confd;

/// <summary>What rendering one resource did.</summary>
public enum ConfdOutcome
{
    /// <summary>The output equals the file on disk; nothing was written and nothing reloaded.</summary>
    Unchanged,

    /// <summary>The file was replaced and its reload command (if any) succeeded.</summary>
    Updated,

    /// <summary>The toml file is malformed.</summary>
    InvalidResource,

    /// <summary>The template is missing, does not parse, or failed to execute (a missing key, say).</summary>
    TemplateFailed,

    /// <summary>check_cmd refused the staged file; the old file was kept.</summary>
    CheckFailed,

    /// <summary>The staged file could not be written or moved into place.</summary>
    WriteFailed,

    /// <summary>The file was replaced but reload_cmd failed.</summary>
    ReloadFailed,
}

/// <summary>The result of rendering one resource.</summary>
public sealed record ConfdResourceResult(string Resource, string? Dest, ConfdOutcome Outcome)
{
    /// <summary>Why it failed, for humans; null when it did not.</summary>
    public string? Error { get; init; }

    /// <summary>The check command's run, when one ran.</summary>
    public ProcessRunResult? Check { get; init; }

    /// <summary>The reload command's run, when one ran.</summary>
    public ProcessRunResult? Reload { get; init; }

    public bool Succeeded => Outcome is ConfdOutcome.Unchanged or ConfdOutcome.Updated;
}

/// <summary>Options of <see cref="ConfdRenderer"/>.</summary>
public sealed class ConfdRendererOptions
{
    /// <summary>The confd directory holding <c>conf.d/*.toml</c> and <c>templates/</c>. Required.</summary>
    public required string ConfDirectory { get; init; }

    /// <summary>Timeout of each check and reload command. Default: 60 seconds.</summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Bytes of check/reload output kept. Default: 8 KiB.</summary>
    public int TailBytes { get; init; } = 8 * 1024;

    /// <summary>Limits for template execution. Default: <see cref="TemplateOptions.Default"/>.</summary>
    public TemplateOptions TemplateOptions { get; init; } = TemplateOptions.Default;

    /// <summary>
    /// The node's root: each resource's absolute <c>dest</c> is written under it, and an absolute check or reload
    /// command existing under it runs from there. Default: <see cref="NodeRoot.System"/>.
    /// </summary>
    public NodeRoot Root { get; init; } = NodeRoot.System;

    /// <summary>
    /// The node's <c>PITRIX_*</c> variables: what templates read with <c>getenv</c> (see <see cref="ConfdFunctions.AddConfd"/>),
    /// also passed to check and reload commands. Default: none.
    /// </summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();
}

/// <summary>
/// Renders confd resources against a metadata snapshot with the confd template functions. A file is written only
/// when its content changed, through a staged file that check_cmd validates and a rename that replaces the old file
/// atomically; reload_cmd runs only after a change. Each resource succeeds or fails on its own.
/// </summary>
public sealed class ConfdRenderer
{
    private const UnixFileMode DefaultMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    private readonly ConfdRendererOptions _options;
    private readonly TimeProvider _timeProvider;

    public ConfdRenderer(ConfdRendererOptions options, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(options.ConfDirectory);
        _options = options;
        _timeProvider = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Renders every <c>conf.d/*.toml</c> resource, in file name order.</summary>
    public async Task<IReadOnlyList<ConfdResourceResult>> RenderAllAsync(MetadataSnapshot snapshot, CancellationToken cancellationToken = default)
    {
        var confD = Path.Combine(_options.ConfDirectory, "conf.d");
        if (!Directory.Exists(confD))
        {
            return [];
        }

        var results = new List<ConfdResourceResult>();
        foreach (var file in Directory.GetFiles(confD, "*.toml").Order(StringComparer.Ordinal))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var name = Path.GetFileNameWithoutExtension(file);
            try
            {
                var resource = ConfdResource.Parse(name, await File.ReadAllTextAsync(file, cancellationToken).ConfigureAwait(false), out var error);
                results.Add(resource is null
                    ? new ConfdResourceResult(name, null, ConfdOutcome.InvalidResource) { Error = $"{Path.GetFileName(file)}: {error}" }
                    : await RenderAsync(resource, snapshot, cancellationToken).ConfigureAwait(false));
            }
            catch (IOException ex)
            {
                results.Add(new ConfdResourceResult(name, null, ConfdOutcome.InvalidResource) { Error = ex.Message });
            }
        }

        return results;
    }

    /// <summary>Renders one resource.</summary>
    public async Task<ConfdResourceResult> RenderAsync(ConfdResource resource, MetadataSnapshot snapshot, CancellationToken cancellationToken = default)
    {
        string output;
        try
        {
            var text = await File.ReadAllTextAsync(Path.Combine(_options.ConfDirectory, "templates", resource.Src), cancellationToken).ConfigureAwait(false);
            var functions = new FunctionLibrary().AddConfd(snapshot.Restrict(resource.Keys), _options.Environment);
            var set = new TemplateSet(functions, _options.TemplateOptions);
            set.Parse(resource.Src, text);
            output = set.Execute(resource.Src, null, cancellationToken);
        }
        catch (Exception ex) when (ex is TemplateException or IOException or UnauthorizedAccessException)
        {
            return Fail(resource, _options.Root.Map(resource.Dest), ConfdOutcome.TemplateFailed, ex.Message);
        }

        var dest = _options.Root.Map(resource.Dest);
        var bytes = Encoding.UTF8.GetBytes(output);
        if (IsUnchanged(resource, dest, bytes))
        {
            return new ConfdResourceResult(resource.Name, dest, ConfdOutcome.Unchanged);
        }

        var directory = Path.GetDirectoryName(dest)!;
        var staged = Path.Combine(directory, $".{Path.GetFileName(dest)}.pitrix-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(directory);
            await File.WriteAllBytesAsync(staged, bytes, cancellationToken).ConfigureAwait(false);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(staged, resource.Mode ?? (File.Exists(dest) ? File.GetUnixFileMode(dest) : DefaultMode));
            }
            if (await ChownAsync(resource, staged, cancellationToken).ConfigureAwait(false) is { } chownError)
            {
                return Discard(staged, Fail(resource, dest, ConfdOutcome.WriteFailed, chownError));
            }

            if (resource.CheckCmd is not null)
            {
                var check = await RunAsync(resource.CheckCmd, staged, cancellationToken).ConfigureAwait(false);
                if (check.Outcome != ProcessOutcome.Succeeded)
                {
                    return Discard(staged, Fail(resource, dest, ConfdOutcome.CheckFailed, $"check_cmd: {check.Error}") with { Check = check });
                }
            }

            File.Move(staged, dest, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return Discard(staged, Fail(resource, dest, ConfdOutcome.WriteFailed, ex.Message));
        }

        if (resource.ReloadCmd is null)
        {
            return new ConfdResourceResult(resource.Name, dest, ConfdOutcome.Updated);
        }

        var reload = await RunAsync(resource.ReloadCmd, dest, cancellationToken).ConfigureAwait(false);
        return reload.Outcome == ProcessOutcome.Succeeded
            ? new ConfdResourceResult(resource.Name, dest, ConfdOutcome.Updated) { Reload = reload }
            : Fail(resource, dest, ConfdOutcome.ReloadFailed, $"reload_cmd: {reload.Error}") with { Reload = reload };
    }

    private static bool IsUnchanged(ConfdResource resource, string dest, byte[] bytes)
    {
        try
        {
            var info = new FileInfo(dest);
            return info.Exists
                && info.Length == bytes.Length
                && (resource.Mode is null || info.UnixFileMode == resource.Mode)
                && File.ReadAllBytes(dest).AsSpan().SequenceEqual(bytes);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static ConfdResourceResult Fail(ConfdResource resource, string dest, ConfdOutcome outcome, string error) =>
        new(resource.Name, dest, outcome) { Error = error };

    private static ConfdResourceResult Discard(string staged, ConfdResourceResult result)
    {
        try
        {
            File.Delete(staged);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A leftover staged file is harmless: it is hidden and never read.
        }

        return result;
    }

    /// <summary>Splits the command first and substitutes <c>{{.src}}</c> per word, so a path can never become syntax.</summary>
    private Task<ProcessRunResult> RunAsync(string command, string src, CancellationToken cancellationToken)
    {
        if (!CommandLine.TrySplit(command, out var argv, out var error))
        {
            return Task.FromResult(new ProcessRunResult { Outcome = ProcessOutcome.NotStarted, Error = $"invalid command: {error}" });
        }

        var words = _options.Root.ResolveCommand([.. argv.Select(w => w.Replace("{{.src}}", src, StringComparison.Ordinal))]);
        return ProcessRunner.RunAsync(words, _options.Environment, _options.ConfDirectory, _options.CommandTimeout, _options.TailBytes, _timeProvider, cancellationToken);
    }

    private async Task<string?> ChownAsync(ConfdResource resource, string path, CancellationToken cancellationToken)
    {
        // Ownership can only be given away by root; confd ignores uid/gid otherwise, and so do we.
        if ((resource.Uid is null && resource.Gid is null) || !Environment.IsPrivilegedProcess)
        {
            return null;
        }

        var owner = $"{resource.Uid}:{resource.Gid}".TrimEnd(':');
        var run = await ProcessRunner.RunAsync(["chown", owner, path], null, null, _options.CommandTimeout, _options.TailBytes, _timeProvider, cancellationToken).ConfigureAwait(false);
        return run.Outcome == ProcessOutcome.Succeeded ? null : $"chown {owner}: {run.Error} {run.StderrTail}".Trim();
    }
}

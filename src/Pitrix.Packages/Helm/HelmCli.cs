using System.Diagnostics;
using System.Text;

namespace Pitrix.Packages.Helm;

/// <summary>
/// Runs the real <c>helm</c> binary (3.17+ or 4.x) for what must have Helm's exact semantics: template previews
/// and releases. Arguments are passed as an argv list, never through a shell. The few flags that differ between
/// helm 3 and helm 4 follow <see cref="MajorVersionAsync"/>, read once per instance.
/// </summary>
public sealed class HelmCli(string helmPath, TimeSpan? defaultTimeout = null)
{
    /// <summary>Largest output kept from one invocation. Default: 16 MiB.</summary>
    public const int MaxOutputChars = 16 * 1024 * 1024;

    /// <summary>helm's major version once read (0 until then); the binary at <see cref="HelmPath"/> does not change under a running server.</summary>
    private int _majorVersion;

    public string HelmPath { get; } = helmPath;

    /// <summary>Used when a call gives no timeout of its own.</summary>
    public TimeSpan DefaultTimeout { get; } = defaultTimeout ?? TimeSpan.FromMinutes(2);

    /// <summary>Renders a chart directory or archive with <c>helm template</c>; values are passed as a file.</summary>
    public async Task<string> TemplateAsync(string chartPath, string releaseName, string @namespace, string? valuesYaml, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        var valuesFile = Path.Combine(Path.GetTempPath(), $"pitrix-values-{Guid.NewGuid():N}.yaml");
        try
        {
            var args = new List<string> { "template", releaseName, chartPath, "--namespace", @namespace };
            if (valuesYaml is not null)
            {
                await File.WriteAllTextAsync(valuesFile, valuesYaml, cancellationToken);
                if (!OperatingSystem.IsWindows())
                {
                    File.SetUnixFileMode(valuesFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                }

                args.AddRange(["--values", valuesFile]);
            }

            var (exitCode, stdout, stderr) = await RunAsync(args, timeout ?? DefaultTimeout, cancellationToken);
            return exitCode == 0
                ? stdout
                : throw new PackageException("helm.template_failed", stderr.Trim().Length > 0 ? stderr.Trim() : $"helm exited with code {exitCode}.", chartPath);
        }
        finally
        {
            File.Delete(valuesFile);
        }
    }

    /// <summary>What <c>helm version --short</c> prints, such as <c>v3.17.3+ge4da497</c> or <c>v4.1.4+g05fa379</c>.</summary>
    public async Task<string> VersionAsync(CancellationToken cancellationToken)
    {
        var (exitCode, stdout, stderr) = await RunAsync(["version", "--short"], TimeSpan.FromSeconds(30), cancellationToken);
        return exitCode == 0 ? stdout.Trim() : throw new PackageException("helm.unavailable", stderr.Trim());
    }

    /// <summary>
    /// helm's major version: 3 or 4 (a later one is taken as 4). Read with <see cref="VersionAsync"/> on first use and
    /// remembered; a failed read is not, so the next call tries again. helm 2 and anything unreadable are refused
    /// with <c>helm.unsupported_version</c>.
    /// </summary>
    public async Task<int> MajorVersionAsync(CancellationToken cancellationToken)
    {
        var known = Volatile.Read(ref _majorVersion);
        if (known > 0)
        {
            return known;
        }

        var version = await VersionAsync(cancellationToken);
        var major = ParseMajorVersion(version);
        if (major < 3)
        {
            throw new PackageException("helm.unsupported_version", $"helm at '{HelmPath}' reports version '{version}'; Pitrix needs helm 3.17+ or 4.x. Set Helm:Path.");
        }

        Volatile.Write(ref _majorVersion, major);
        return major;
    }

    /// <summary>The major version in <c>helm version --short</c> output (<c>v4.1.4+g05fa379</c> gives 4); 0 when there is none.</summary>
    public static int ParseMajorVersion(string version)
    {
        var text = version.AsSpan().Trim();
        if (text.Length < 2 || text[0] != 'v')
        {
            return 0;
        }

        var digits = text[1..];
        var dot = digits.IndexOf('.');
        return int.TryParse(dot < 0 ? digits : digits[..dot], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var major) ? major : 0;
    }

    /// <summary>
    /// Runs helm with <paramref name="args"/> (an argv list, never a shell) and returns its exit code and output.
    /// <paramref name="kubeconfigPath"/> is the only kubeconfig helm sees (none: <c>/dev/null</c>); its own
    /// configuration, cache and data directories are Pitrix's, never the user's. On timeout or cancellation the
    /// whole helm process tree is killed.
    /// </summary>
    public async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(IEnumerable<string> args, TimeSpan timeout, CancellationToken cancellationToken, string? kubeconfigPath = null)
    {
        var start = new ProcessStartInfo(HelmPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        // Keep helm away from the user's own Helm configuration and caches.
        var home = Path.Combine(Path.GetTempPath(), "pitrix-helm-home");
        start.Environment["HELM_CONFIG_HOME"] = Path.Combine(home, "config");
        start.Environment["HELM_CACHE_HOME"] = Path.Combine(home, "cache");
        start.Environment["HELM_DATA_HOME"] = Path.Combine(home, "data");
        start.Environment["KUBECONFIG"] = kubeconfigPath ?? "/dev/null";

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new PackageException("helm.unavailable", $"Could not start '{HelmPath}'.");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new PackageException("helm.unavailable", $"Could not start helm at '{HelmPath}': {ex.Message}. Set Helm:Path.");
        }

        using (process)
        {
            var stdout = ReadBoundedAsync(process.StandardOutput);
            var stderr = ReadBoundedAsync(process.StandardError);
            using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeoutSource.CancelAfter(timeout);
            try
            {
                await process.WaitForExitAsync(timeoutSource.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                cancellationToken.ThrowIfCancellationRequested();
                throw new PackageException("helm.timeout", $"helm did not finish within {timeout.TotalSeconds:0} seconds.");
            }

            return (process.ExitCode, await stdout, await stderr);
        }
    }

    private static async Task<string> ReadBoundedAsync(StreamReader reader)
    {
        var builder = new StringBuilder();
        var buffer = new char[8192];
        int read;
        while ((read = await reader.ReadAsync(buffer)) > 0)
        {
            if (builder.Length < MaxOutputChars)
            {
                builder.Append(buffer, 0, Math.Min(read, MaxOutputChars - builder.Length));
            }
        }

        return builder.ToString();
    }
}

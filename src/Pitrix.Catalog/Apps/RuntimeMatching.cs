using Pitrix.Core;
using Pitrix.Core.Catalog;
using Pitrix.Core.Runtimes;

namespace Pitrix.Catalog.Apps;

/// <summary>
/// Which runtimes an app version can deploy to: the runtime's provider is among the repo's providers
/// (or, for a repo that names none, those of the package's format) and its labels satisfy every one of
/// the repo's selectors.
/// </summary>
public static class RuntimeMatching
{
    public const string Kubernetes = "kubernetes";

    /// <summary>The providers a version targets. Helm charts run on Kubernetes; vmcluster packages on every VM provider.</summary>
    public static IReadOnlyList<string> ProvidersOf(Repo repo, string format, IEnumerable<string> registeredProviders) =>
        repo.Providers.Count > 0
            ? repo.Providers
            : format == "helm"
                ? [Kubernetes]
                : registeredProviders.Where(p => p != Kubernetes).Order(StringComparer.Ordinal).ToList();

    public static bool Matches(Runtime runtime, IReadOnlyList<string> providers, IReadOnlyList<LabelSelector> selectors) =>
        providers.Contains(runtime.Provider, StringComparer.Ordinal) && selectors.All(s => s.Matches(runtime.Labels));

    /// <summary>Parses the repo's selectors; they were validated when saved, so a failure here is a stored-data error.</summary>
    public static IReadOnlyList<LabelSelector> SelectorsOf(Repo repo) =>
        repo.Selectors.Select(s => LabelSelector.Parse(s) is { IsSuccess: true } parsed ? parsed.Value! : throw new InvalidOperationException($"Repo {repo.Id} has an invalid stored selector '{s}'.")).ToList();
}

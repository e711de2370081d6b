namespace Pitrix.Core.Runtimes;

/// <summary>The registered runtime providers, indexed by their stable name.</summary>
public sealed class ProviderRegistry
{
    private readonly Dictionary<string, IRuntimeProvider> _providers = new(StringComparer.Ordinal);

    public ProviderRegistry(IEnumerable<IRuntimeProvider> providers)
    {
        foreach (var provider in providers)
        {
            if (!_providers.TryAdd(provider.Name, provider))
            {
                throw new InvalidOperationException($"Runtime provider '{provider.Name}' is registered twice.");
            }
        }
    }

    public IReadOnlyCollection<IRuntimeProvider> All => _providers.Values;

    public IRuntimeProvider? Find(string name) => _providers.GetValueOrDefault(name);
}

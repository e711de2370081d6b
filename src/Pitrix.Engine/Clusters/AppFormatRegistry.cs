using Pitrix.Core;
using Pitrix.Core.Clusters;

namespace Pitrix.Engine.Clusters;

/// <summary>The app formats this host can plan for, by package format name.</summary>
public sealed class AppFormatRegistry(IEnumerable<IAppFormat> formats)
{
    // The first registration of a name wins: a host's own registrations (a test server's fake cloud format,
    // added before the server's defaults) replace the defaults.
    private readonly Dictionary<string, IAppFormat> _formats = formats.GroupBy(f => f.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);

    public IReadOnlyCollection<string> Names => _formats.Keys;

    public Result<IAppFormat> Find(string format) =>
        _formats.TryGetValue(format, out var found)
            ? Result.Success(found)
            : Error.Validation("format.unavailable", $"This server cannot deploy '{format}' packages yet (formats available: {(_formats.Count == 0 ? "none" : string.Join(", ", _formats.Keys.Order(StringComparer.Ordinal)))}).");
}

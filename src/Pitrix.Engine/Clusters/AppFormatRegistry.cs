using Pitrix.Core;
using Pitrix.Core.Clusters;

namespace Pitrix.Engine.Clusters;

/// <summary>The app formats this host can plan for, by package format name.</summary>
public sealed class AppFormatRegistry(IEnumerable<IAppFormat> formats)
{
    private readonly Dictionary<string, IAppFormat> _formats = formats.ToDictionary(f => f.Name, StringComparer.Ordinal);

    public IReadOnlyCollection<string> Names => _formats.Keys;

    public Result<IAppFormat> Find(string format) =>
        _formats.TryGetValue(format, out var found)
            ? Result.Success(found)
            : Error.Validation("format.unavailable", $"This server cannot deploy '{format}' packages yet (formats available: {(_formats.Count == 0 ? "none" : string.Join(", ", _formats.Keys.Order(StringComparer.Ordinal)))}).");
}

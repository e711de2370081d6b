using System.Globalization;

namespace Pitrix.Web.Components.Pages.Deploy;

/// <summary>Chooses which of a package's <c>locale/</c> files to label the form with, from the browser's Accept-Language.</summary>
public static class DeployLocale
{
    /// <summary>
    /// The available language (lower case, <c>zh-cn</c>) the browser prefers most: languages in the order of their
    /// quality, each matched exactly, then by its primary subtag (<c>zh</c> ↔ <c>zh-cn</c>); null when none matches.
    /// </summary>
    public static string? Pick(string? acceptLanguage, IEnumerable<string> available)
    {
        var languages = available.Select(a => a.Replace('_', '-').ToLowerInvariant()).Distinct(StringComparer.Ordinal).ToList();
        if (string.IsNullOrWhiteSpace(acceptLanguage) || languages.Count == 0)
        {
            return null;
        }

        var wanted = acceptLanguage.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select((entry, index) =>
            {
                var parts = entry.Split(';', StringSplitOptions.TrimEntries);
                var quality = 1.0;
                foreach (var parameter in parts.Skip(1))
                {
                    if (parameter.StartsWith("q=", StringComparison.OrdinalIgnoreCase)
                        && double.TryParse(parameter[2..], NumberStyles.Float, CultureInfo.InvariantCulture, out var q))
                    {
                        quality = q;
                    }
                }

                return (Tag: parts[0].Replace('_', '-').ToLowerInvariant(), Quality: quality, Index: index);
            })
            .Where(w => w.Quality > 0 && w.Tag.Length > 0 && w.Tag != "*")
            .OrderByDescending(w => w.Quality).ThenBy(w => w.Index);
        foreach (var (tag, _, _) in wanted)
        {
            if (languages.Contains(tag))
            {
                return tag;
            }

            var primary = tag.Split('-')[0];
            if (languages.FirstOrDefault(l => l == primary || l.Split('-')[0] == primary) is { } related)
            {
                return related;
            }
        }

        return null;
    }
}

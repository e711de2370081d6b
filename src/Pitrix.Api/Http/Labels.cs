using System.Text.RegularExpressions;

namespace Pitrix.Api.Http;

/// <summary>Kubernetes label syntax: <c>[prefix/]name</c> keys and short values, so runtime selectors work alike everywhere.</summary>
public static partial class Labels
{
    public const int MaxLabels = 64;

    public static void Check(FieldErrors errors, string field, IReadOnlyDictionary<string, string>? labels)
    {
        if (labels is null)
        {
            return;
        }

        if (labels.Count > MaxLabels)
        {
            errors.Add(field, $"At most {MaxLabels} labels.");
        }

        foreach (var (key, value) in labels)
        {
            var slash = key.LastIndexOf('/');
            var prefix = slash >= 0 ? key[..slash] : null;
            var name = slash >= 0 ? key[(slash + 1)..] : key;
            if ((prefix is not null && (prefix.Length > 253 || !PrefixPattern().IsMatch(prefix))) || name.Length > 63 || !NamePattern().IsMatch(name))
            {
                errors.Add($"{field}.{key}", "A label key is an optional DNS prefix and '/', then 1-63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit.");
            }

            if (value.Length > 63 || (value.Length > 0 && !NamePattern().IsMatch(value)))
            {
                errors.Add($"{field}.{key}", "A label value is empty or 1-63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit.");
            }
        }
    }

    [GeneratedRegex("^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")]
    private static partial Regex NamePattern();

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex PrefixPattern();
}

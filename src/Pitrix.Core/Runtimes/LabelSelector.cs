using System.Globalization;
using System.Text.RegularExpressions;

namespace Pitrix.Core.Runtimes;

/// <summary>
/// A Kubernetes label selector: comma-separated requirements, all of which must hold —
/// <c>k=v</c> (or <c>k==v</c>), <c>k!=v</c>, <c>k in (a,b)</c>, <c>k notin (a,b)</c>, <c>k</c>,
/// <c>!k</c>, <c>k&gt;n</c>, <c>k&lt;n</c>. As in Kubernetes, <c>!=</c> and <c>notin</c> also match
/// when the label is absent.
/// </summary>
public sealed partial class LabelSelector
{
    private readonly List<Requirement> _requirements;

    private LabelSelector(string text, List<Requirement> requirements)
    {
        Text = text;
        _requirements = requirements;
    }

    public string Text { get; }

    public static Result<LabelSelector> Parse(string? text)
    {
        if (text is null || text.Length > 4096)
        {
            return Invalid(text ?? "", "A selector is 1 to 4096 characters.");
        }

        var requirements = new List<Requirement>();
        foreach (var part in SplitTopLevel(text))
        {
            var item = part.Trim();
            if (item.Length == 0)
            {
                return Invalid(text, "Empty requirement (two commas in a row, or a trailing comma).");
            }

            var match = RequirementPattern().Match(item);
            if (!match.Success)
            {
                return Invalid(text, $"'{item}' is not a requirement: use k=v, k!=v, k in (a,b), k notin (a,b), k, !k, k>n or k<n.");
            }

            var key = match.Groups["nkey"].Success ? match.Groups["nkey"].Value : match.Groups["key"].Value;
            if (!IsKey(key))
            {
                return Invalid(text, $"'{key}' is not a valid label key.");
            }

            var op = match.Groups["nkey"].Success ? "!exists"
                : match.Groups["setop"].Success ? match.Groups["setop"].Value
                : match.Groups["op"].Success ? match.Groups["op"].Value
                : "exists";
            var values = new List<string>();
            if (match.Groups["set"].Success)
            {
                values.AddRange(match.Groups["set"].Value.Split(',').Select(v => v.Trim()));
            }
            else if (match.Groups["value"].Success)
            {
                values.Add(match.Groups["value"].Value);
            }

            if (op is "in" or "notin" && values.Count == 1 && values[0].Length == 0)
            {
                return Invalid(text, $"'{item}' needs at least one value in the parentheses.");
            }

            if (values.FirstOrDefault(v => !IsValue(v)) is { } bad)
            {
                return Invalid(text, $"'{bad}' is not a valid label value.");
            }

            if (op is ">" or "<" && !long.TryParse(values[0], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
            {
                return Invalid(text, $"'{item}' compares with a number; '{values[0]}' is not one.");
            }

            requirements.Add(new Requirement(key, op == "==" ? "=" : op, values));
        }

        return new LabelSelector(text, requirements);
    }

    public bool Matches(IReadOnlyDictionary<string, string> labels) => _requirements.TrueForAll(r => r.Matches(labels));

    private static Error Invalid(string text, string message) =>
        Error.Validation("selector.invalid", $"Selector '{text}': {message}");

    private static IEnumerable<string> SplitTopLevel(string text)
    {
        var depth = 0;
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            depth += text[i] switch { '(' => 1, ')' => -1, _ => 0 };
            if (text[i] == ',' && depth == 0)
            {
                yield return text[start..i];
                start = i + 1;
            }
        }

        yield return text[start..];
    }

    private static bool IsKey(string key)
    {
        var slash = key.LastIndexOf('/');
        var prefix = slash >= 0 ? key[..slash] : null;
        var name = slash >= 0 ? key[(slash + 1)..] : key;
        return (prefix is null || (prefix.Length <= 253 && PrefixPattern().IsMatch(prefix))) && name.Length <= 63 && NamePattern().IsMatch(name);
    }

    private static bool IsValue(string value) => value.Length == 0 || (value.Length <= 63 && NamePattern().IsMatch(value));

    private sealed record Requirement(string Key, string Op, List<string> Values)
    {
        public bool Matches(IReadOnlyDictionary<string, string> labels)
        {
            var has = labels.TryGetValue(Key, out var value);
            return Op switch
            {
                "exists" => has,
                "!exists" => !has,
                "=" => has && value == Values[0],
                "!=" => !has || value != Values[0],
                "in" => has && Values.Contains(value!),
                "notin" => !has || !Values.Contains(value!),
                ">" => has && long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var g) && g > long.Parse(Values[0], CultureInfo.InvariantCulture),
                "<" => has && long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) && l < long.Parse(Values[0], CultureInfo.InvariantCulture),
                _ => false,
            };
        }
    }

    [GeneratedRegex(@"^(?:!\s*(?<nkey>[^\s!=<>(),]+)|(?<key>[^\s!=<>(),]+)(?:\s+(?<setop>in|notin)\s*\((?<set>[^()]*)\)|\s*(?<op>==|!=|=|>|<)\s*(?<value>[^\s!=<>(),]*))?)$")]
    private static partial Regex RequirementPattern();

    [GeneratedRegex("^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")]
    private static partial Regex NamePattern();

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex PrefixPattern();
}

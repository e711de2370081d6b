using System.Text.RegularExpressions;
using Pitrix.Core;

namespace Pitrix.Api.Http;

/// <summary>Collects validation failures by field and turns them into one <see cref="Error"/>.</summary>
public sealed partial class FieldErrors
{
    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);

    public bool Any => _errors.Count > 0;

    public FieldErrors Add(string field, string message)
    {
        if (!_errors.TryGetValue(field, out var list))
        {
            _errors[field] = list = [];
        }

        list.Add(message);
        return this;
    }

    public FieldErrors Required(string field, string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            Add(field, "Required.");
        }

        return this;
    }

    /// <summary>Checks a resource name: 1–63 characters, letters, digits, '.', '_' or '-', starting with a letter or digit.</summary>
    public FieldErrors Name(string field, string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return Add(field, "Required.");
        }

        if (!NamePattern().IsMatch(value))
        {
            Add(field, "Must be 1-63 characters: letters, digits, '.', '_' or '-', starting with a letter or digit.");
        }

        return this;
    }

    public FieldErrors MaxLength(string field, string? value, int max)
    {
        if (value is not null && value.Length > max)
        {
            Add(field, $"At most {max} characters.");
        }

        return this;
    }

    public Error? ToError() => Any
        ? Error.Validation("validation.failed", "One or more fields are invalid.", _errors.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal))
        : null;

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")]
    private static partial Regex NamePattern();
}

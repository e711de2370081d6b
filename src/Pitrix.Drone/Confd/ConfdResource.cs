using System.Globalization;
using Tomlyn;
using Tomlyn.Model;

namespace Pitrix.Drone.Confd;

/// <summary>One confd template resource: a <c>conf.d/*.toml</c> file's <c>[template]</c> table.</summary>
public sealed record ConfdResource
{
    /// <summary>The toml file's name without extension, used in results and logs.</summary>
    public required string Name { get; init; }

    /// <summary>The template, relative to <c>templates/</c>.</summary>
    public required string Src { get; init; }

    /// <summary>The absolute path of the rendered file.</summary>
    public required string Dest { get; init; }

    /// <summary>Key prefixes the template may read; the template sees no other key.</summary>
    public IReadOnlyList<string> Keys { get; init; } = [];

    /// <summary>The file mode of the rendered file; null keeps the existing file's mode, or 0644 for a new file.</summary>
    public UnixFileMode? Mode { get; init; }

    /// <summary>Owner to give the file when the drone runs as root; ignored otherwise.</summary>
    public int? Uid { get; init; }

    /// <summary>Group to give the file when the drone runs as root; ignored otherwise.</summary>
    public int? Gid { get; init; }

    /// <summary>Validates the staged file before it replaces <see cref="Dest"/>; <c>{{.src}}</c> names the staged file.</summary>
    public string? CheckCmd { get; init; }

    /// <summary>Runs after <see cref="Dest"/> changed.</summary>
    public string? ReloadCmd { get; init; }

    /// <summary>
    /// Reads a confd resource file. Returns null with a reason when the TOML is malformed or a field is missing or of
    /// the wrong type.
    /// </summary>
    public static ConfdResource? Parse(string name, string toml, out string? error)
    {
        TomlTable root;
        try
        {
            root = TomlSerializer.Deserialize<TomlTable>(toml) ?? new TomlTable();
        }
        catch (TomlException ex)
        {
            error = $"invalid TOML: {ex.Message}";
            return null;
        }

        error = null;
        if (!root.TryGetValue("template", out var section) || section is not TomlTable table)
        {
            error = "missing [template] table";
            return null;
        }

        try
        {
            var src = RequiredString(table, "src");
            var dest = RequiredString(table, "dest");
            if (!Path.IsPathFullyQualified(dest))
            {
                throw new FormatException($"dest must be an absolute path, got '{dest}'");
            }

            if (Path.IsPathRooted(src) || src.Split('/', '\\').Contains(".."))
            {
                throw new FormatException($"src must be a path inside templates/, got '{src}'");
            }

            return new ConfdResource
            {
                Name = name,
                Src = src,
                Dest = dest,
                Keys = table.TryGetValue("keys", out var keys)
                    ? keys is TomlArray array && array.All(k => k is string)
                        ? [.. array.Cast<string>()]
                        : throw new FormatException("keys must be an array of strings")
                    : [],
                Mode = ParseMode(table),
                Uid = OptionalInt(table, "uid"),
                Gid = OptionalInt(table, "gid"),
                CheckCmd = OptionalString(table, "check_cmd"),
                ReloadCmd = OptionalString(table, "reload_cmd"),
            };
        }
        catch (FormatException ex)
        {
            error = ex.Message;
            return null;
        }
    }

    private static string RequiredString(TomlTable table, string key) =>
        OptionalString(table, key) is { Length: > 0 } value ? value : throw new FormatException($"{key} is required");

    private static string? OptionalString(TomlTable table, string key) =>
        !table.TryGetValue(key, out var value) ? null
        : value as string ?? throw new FormatException($"{key} must be a string");

    private static int? OptionalInt(TomlTable table, string key) =>
        !table.TryGetValue(key, out var value) ? null
        : value is long number and >= 0 and <= int.MaxValue ? (int)number
        : throw new FormatException($"{key} must be a non-negative integer");

    /// <summary>confd reads <c>mode</c> as a string in Go's base-0 syntax ("0644" is octal); a TOML integer is taken as is.</summary>
    private static UnixFileMode? ParseMode(TomlTable table)
    {
        if (!table.TryGetValue("mode", out var value))
        {
            return null;
        }

        long mode = value switch
        {
            long number => number,
            string text when text.StartsWith("0o", StringComparison.OrdinalIgnoreCase) => ParseOctal(text[2..]),
            string text when text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
                && long.TryParse(text[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var hex) => hex,
            string text when text.Length > 1 && text[0] == '0' => ParseOctal(text[1..]),
            string text when long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var dec) => dec,
            _ => throw new FormatException($"mode must be a file mode such as \"0644\", got '{value}'"),
        };
        return mode is >= 0 and <= 0xFFF ? (UnixFileMode)mode : throw new FormatException($"mode {value} is out of range");
    }

    private static long ParseOctal(string digits) =>
        digits.Length > 0 && digits.All(c => c is >= '0' and <= '7')
            ? digits.Aggregate(0L, (acc, c) => (acc * 8) + (c - '0'))
            : throw new FormatException($"mode '{digits}' is not octal");
}

using System.Globalization;
using System.Text.RegularExpressions;

namespace Pitrix.Core.Versioning;

/// <summary>
/// A Semantic Versioning 2.0 version, ordered by SemVer precedence (build metadata ignored).
/// <see cref="TryParse"/> accepts a leading <c>v</c>, as Helm does.
/// </summary>
public sealed partial class SemVersion : IComparable<SemVersion>, IEquatable<SemVersion>
{
    private SemVersion(long major, long minor, long patch, string[] prerelease, string? build, string original)
    {
        Major = major;
        Minor = minor;
        Patch = patch;
        Prerelease = prerelease;
        Build = build;
        Original = original;
    }

    public long Major { get; }

    public long Minor { get; }

    public long Patch { get; }

    public IReadOnlyList<string> Prerelease { get; }

    public string? Build { get; }

    /// <summary>The text it was parsed from.</summary>
    public string Original { get; }

    public bool IsPrerelease => Prerelease.Count > 0;

    public static bool TryParse(string? text, out SemVersion version)
    {
        version = null!;
        if (text is null)
        {
            return false;
        }

        var match = Pattern().Match(text.Trim());
        if (!match.Success)
        {
            return false;
        }

        var prerelease = match.Groups["pre"].Success ? match.Groups["pre"].Value.Split('.') : [];
        if (prerelease.Any(p => p.Length > 1 && p[0] == '0' && p.All(char.IsAsciiDigit)))
        {
            return false;
        }

        version = new SemVersion(
            long.Parse(match.Groups["major"].Value, CultureInfo.InvariantCulture),
            long.Parse(match.Groups["minor"].Value, CultureInfo.InvariantCulture),
            long.Parse(match.Groups["patch"].Value, CultureInfo.InvariantCulture),
            prerelease,
            match.Groups["build"].Success ? match.Groups["build"].Value : null,
            text);
        return true;
    }

    public int CompareTo(SemVersion? other)
    {
        if (other is null)
        {
            return 1;
        }

        var result = Major.CompareTo(other.Major);
        result = result != 0 ? result : Minor.CompareTo(other.Minor);
        result = result != 0 ? result : Patch.CompareTo(other.Patch);
        if (result != 0)
        {
            return result;
        }

        // A version without pre-release fields ranks above one with them.
        if (Prerelease.Count == 0 || other.Prerelease.Count == 0)
        {
            return (Prerelease.Count == 0, other.Prerelease.Count == 0) switch
            {
                (true, true) => 0,
                (true, false) => 1,
                _ => -1,
            };
        }

        for (var i = 0; i < Math.Min(Prerelease.Count, other.Prerelease.Count); i++)
        {
            var a = Prerelease[i];
            var b = other.Prerelease[i];
            var aNumeric = long.TryParse(a, NumberStyles.None, CultureInfo.InvariantCulture, out var an);
            var bNumeric = long.TryParse(b, NumberStyles.None, CultureInfo.InvariantCulture, out var bn);
            var part = (aNumeric, bNumeric) switch
            {
                (true, true) => an.CompareTo(bn),
                (true, false) => -1,
                (false, true) => 1,
                _ => string.CompareOrdinal(a, b),
            };
            if (part != 0)
            {
                return Math.Sign(part);
            }
        }

        return Prerelease.Count.CompareTo(other.Prerelease.Count);
    }

    public bool Equals(SemVersion? other) => other is not null && CompareTo(other) == 0;

    public override bool Equals(object? obj) => obj is SemVersion other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(Major, Minor, Patch, string.Join('.', Prerelease));

    public static bool operator ==(SemVersion? left, SemVersion? right) => left is null ? right is null : left.Equals(right);

    public static bool operator !=(SemVersion? left, SemVersion? right) => !(left == right);

    public static bool operator <(SemVersion left, SemVersion right) => left.CompareTo(right) < 0;

    public static bool operator <=(SemVersion left, SemVersion right) => left.CompareTo(right) <= 0;

    public static bool operator >(SemVersion left, SemVersion right) => left.CompareTo(right) > 0;

    public static bool operator >=(SemVersion left, SemVersion right) => left.CompareTo(right) >= 0;

    /// <summary>
    /// A string whose ordinal order is this version's precedence, so a database can sort versions:
    /// numbers zero-padded, a release after its pre-releases, numeric identifiers before alphanumeric ones.
    /// </summary>
    public string SortKey()
    {
        var key = new System.Text.StringBuilder(80);
        key.Append(CultureInfo.InvariantCulture, $"{Major:D19}.{Minor:D19}.{Patch:D19}");
        if (Prerelease.Count == 0)
        {
            return key.Append('~').ToString();
        }

        key.Append('!');
        for (var i = 0; i < Prerelease.Count; i++)
        {
            // A space separates identifiers because it sorts below every identifier character, so a
            // shorter list of otherwise equal identifiers ranks first, as semver requires.
            key.Append(i == 0 ? "" : " ");
            var id = Prerelease[i];
            key.Append(long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? $"0{n:D19}" : "1" + id);
        }

        return key.ToString();
    }

    /// <summary>The sort key of <paramref name="text"/>; text that is not semver sorts before every version.</summary>
    public static string SortKeyOf(string text) => TryParse(text, out var version) ? version.SortKey() : "#" + text;

    public override string ToString() =>
        $"{Major}.{Minor}.{Patch}" + (Prerelease.Count > 0 ? "-" + string.Join('.', Prerelease) : "") + (Build is null ? "" : "+" + Build);

    [GeneratedRegex(@"^v?(?<major>0|[1-9]\d*)\.(?<minor>0|[1-9]\d*)\.(?<patch>0|[1-9]\d*)(?:-(?<pre>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+(?<build>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$")]
    private static partial Regex Pattern();
}

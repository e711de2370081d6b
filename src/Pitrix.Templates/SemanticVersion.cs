using System.Globalization;
using System.Text.RegularExpressions;

namespace Pitrix.Templates;

/// <summary>A semantic version as Masterminds/semver v3 parses it (lenient: "v1.2" is 1.2.0). Prints as its normalized form.</summary>
public sealed partial class SemanticVersion : IGoStringer
{
    private SemanticVersion(ulong major, ulong minor, ulong patch, string prerelease, string metadata, string original)
    {
        Major = major;
        Minor = minor;
        Patch = patch;
        Prerelease = prerelease;
        Metadata = metadata;
        Original = original;
    }

    public ulong Major { get; }

    public ulong Minor { get; }

    public ulong Patch { get; }

    public string Prerelease { get; }

    public string Metadata { get; }

    public string Original { get; }

    public string GoString() => ToString();

    public override string ToString()
    {
        var s = $"{Major}.{Minor}.{Patch}";
        if (Prerelease.Length > 0)
        {
            s += "-" + Prerelease;
        }

        if (Metadata.Length > 0)
        {
            s += "+" + Metadata;
        }

        return s;
    }

    /// <summary>semver.NewVersion; throws <see cref="TemplateFunctionException"/> for an invalid version.</summary>
    public static SemanticVersion Parse(string version)
    {
        var m = VersionRegex().Match(version);
        if (!m.Success)
        {
            throw new TemplateFunctionException("Invalid Semantic Version");
        }

        return new SemanticVersion(
            Segment(m.Groups[1].Value),
            m.Groups[2].Success ? Segment(m.Groups[2].Value[1..]) : 0,
            m.Groups[3].Success ? Segment(m.Groups[3].Value[1..]) : 0,
            m.Groups[5].Value,
            m.Groups[8].Value,
            version);
    }

    private static ulong Segment(string s) =>
        ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw new TemplateFunctionException($"Error parsing version segment: strconv.ParseUint: parsing {GoFormatter.Quote(s)}: value out of range");

    public int CompareTo(SemanticVersion o)
    {
        var d = Major.CompareTo(o.Major);
        if (d == 0)
        {
            d = Minor.CompareTo(o.Minor);
        }

        if (d == 0)
        {
            d = Patch.CompareTo(o.Patch);
        }

        if (d != 0)
        {
            return Math.Sign(d);
        }

        if (Prerelease.Length == 0 && o.Prerelease.Length == 0)
        {
            return 0;
        }

        if (Prerelease.Length == 0)
        {
            return 1;
        }

        if (o.Prerelease.Length == 0)
        {
            return -1;
        }

        return ComparePrerelease(Prerelease, o.Prerelease);
    }

    private static int ComparePrerelease(string v, string o)
    {
        var sparts = v.Split('.');
        var oparts = o.Split('.');
        var l = Math.Max(sparts.Length, oparts.Length);
        for (var i = 0; i < l; i++)
        {
            var d = ComparePrePart(i < sparts.Length ? sparts[i] : string.Empty, i < oparts.Length ? oparts[i] : string.Empty);
            if (d != 0)
            {
                return d;
            }
        }

        return 0;
    }

    private static int ComparePrePart(string s, string o)
    {
        if (s == o)
        {
            return 0;
        }

        if (s.Length == 0)
        {
            return -1;
        }

        if (o.Length == 0)
        {
            return 1;
        }

        var oNum = ulong.TryParse(o, NumberStyles.None, CultureInfo.InvariantCulture, out var oi);
        var sNum = ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var si);
        if (!oNum && !sNum)
        {
            return string.CompareOrdinal(s, o) > 0 ? 1 : -1;
        }

        if (!oNum)
        {
            return -1;
        }

        if (!sNum)
        {
            return 1;
        }

        return si > oi ? 1 : -1;
    }

    /// <summary>semverCompare: whether <paramref name="version"/> satisfies <paramref name="constraint"/>.</summary>
    public static bool Satisfies(string constraint, string version)
    {
        var groups = ParseConstraints(constraint);
        var v = Parse(version);
        return groups.Any(g => g.All(c => c.Check(v)));
    }

    private static List<List<Constraint>> ParseConstraints(string text)
    {
        text = RangeRegex().Replace(text, m => $">= {m.Groups[1].Value}, <= {m.Groups[11].Value}", 1);
        var result = new List<List<Constraint>>();
        foreach (var or in text.Split("||"))
        {
            if (!ValidConstraintRegex().IsMatch(or))
            {
                throw new TemplateFunctionException($"improper constraint: {or}");
            }

            var found = FindConstraintRegex().Matches(or).Select(m => m.Value).ToList();
            if (found.Count == 0)
            {
                found.Add(or);
            }

            result.Add([.. found.Select(ParseConstraint)]);
        }

        return result;
    }

    private static Constraint ParseConstraint(string c)
    {
        var m = ConstraintRegex().Match(c);
        if (!m.Success)
        {
            throw new TemplateFunctionException($"improper constraint: {c}");
        }

        var op = m.Groups[1].Value;
        var ver = m.Groups[2].Value;
        var major = m.Groups[3].Value;
        var minor = m.Groups[4].Value;
        var patch = m.Groups[5].Value;
        var pre = m.Groups[6].Value;
        bool dirty = false, minorDirty = false, patchDirty = false;
        if (IsX(major) || major.Length == 0)
        {
            ver = "0.0.0" + pre;
            dirty = true;
        }
        else if (IsX(minor.TrimStart('.')) || minor.Length == 0)
        {
            minorDirty = true;
            dirty = true;
            ver = major + ".0.0" + pre;
        }
        else if (IsX(patch.TrimStart('.')) || patch.Length == 0)
        {
            dirty = true;
            patchDirty = true;
            ver = major + minor + ".0" + pre;
        }

        SemanticVersion con;
        try
        {
            con = Parse(ver);
        }
        catch (TemplateFunctionException)
        {
            throw new TemplateFunctionException("constraint Parser Error");
        }

        return new Constraint(op, con, dirty, minorDirty, patchDirty);
    }

    private static bool IsX(string x) => x is "x" or "*" or "X";

    private sealed record Constraint(string Op, SemanticVersion Con, bool Dirty, bool MinorDirty, bool PatchDirty)
    {
        public bool Check(SemanticVersion v)
        {
            var preBlocked = v.Prerelease.Length > 0 && Con.Prerelease.Length == 0;
            switch (Op)
            {
                case "" or "=":
                    if (preBlocked)
                    {
                        return false;
                    }

                    return Dirty ? Tilde(v) : v.CompareTo(Con) == 0;
                case "!=":
                    return NotEqual(v);
                case ">":
                    if (preBlocked)
                    {
                        return false;
                    }

                    if (!Dirty)
                    {
                        return v.CompareTo(Con) == 1;
                    }

                    if (v.Major > Con.Major)
                    {
                        return true;
                    }

                    if (v.Major < Con.Major || MinorDirty)
                    {
                        return false;
                    }

                    if (PatchDirty)
                    {
                        return v.Minor > Con.Minor;
                    }

                    return v.CompareTo(Con) == 1;
                case "<":
                    return !preBlocked && v.CompareTo(Con) < 0;
                case ">=" or "=>":
                    return !preBlocked && v.CompareTo(Con) >= 0;
                case "<=" or "=<":
                    if (preBlocked)
                    {
                        return false;
                    }

                    if (!Dirty)
                    {
                        return v.CompareTo(Con) <= 0;
                    }

                    return !(v.Major > Con.Major || (v.Major == Con.Major && v.Minor > Con.Minor && !MinorDirty));
                case "~" or "~>":
                    return !preBlocked && Tilde(v);
                default:
                    return !preBlocked && Caret(v);
            }
        }

        private bool Tilde(SemanticVersion v)
        {
            if (v.Prerelease.Length > 0 && Con.Prerelease.Length == 0)
            {
                return false;
            }

            if (v.CompareTo(Con) < 0)
            {
                return false;
            }

            if (Con.Major == 0 && Con.Minor == 0 && Con.Patch == 0 && !MinorDirty && !PatchDirty)
            {
                return true;
            }

            if (v.Major != Con.Major)
            {
                return false;
            }

            return v.Minor == Con.Minor || MinorDirty;
        }

        private bool Caret(SemanticVersion v)
        {
            if (v.CompareTo(Con) < 0)
            {
                return false;
            }

            if (Con.Major > 0 || MinorDirty)
            {
                return v.Major == Con.Major;
            }

            if (Con.Major == 0 && v.Major > 0)
            {
                return false;
            }

            if (Con.Minor > 0 || PatchDirty)
            {
                return v.Minor == Con.Minor;
            }

            return v.Patch == Con.Patch;
        }

        private bool NotEqual(SemanticVersion v)
        {
            if (Dirty)
            {
                if (v.Prerelease.Length > 0 && Con.Prerelease.Length == 0)
                {
                    return false;
                }

                if (Con.Major != v.Major)
                {
                    return true;
                }

                if (Con.Minor != v.Minor && !MinorDirty)
                {
                    return true;
                }

                if (MinorDirty)
                {
                    return false;
                }

                if (Con.Patch != v.Patch && !PatchDirty)
                {
                    return true;
                }

                if (PatchDirty)
                {
                    if (v.Prerelease.Length > 0 || Con.Prerelease.Length > 0)
                    {
                        return ComparePrerelease(v.Prerelease, Con.Prerelease) != 0;
                    }

                    return false;
                }
            }

            return v.CompareTo(Con) != 0;
        }
    }

    private const string Cv = @"v?([0-9|x|X|\*]+)(\.[0-9|x|X|\*]+)?(\.[0-9|x|X|\*]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?";
    private const string Ops = @"=||!=|>|<|>=|=>|<=|=<|~|~>|\^";

    [GeneratedRegex(@"^v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?$")]
    private static partial Regex VersionRegex();

    [GeneratedRegex(@"^\s*(" + Ops + @")\s*(" + Cv + @")\s*$")]
    private static partial Regex ConstraintRegex();

    [GeneratedRegex(@"\s*(" + Cv + @")\s+-\s+(" + Cv + @")\s*")]
    private static partial Regex RangeRegex();

    [GeneratedRegex(@"(" + Ops + @")\s*(" + Cv + @")")]
    private static partial Regex FindConstraintRegex();

    [GeneratedRegex(@"^(\s*(" + Ops + @")\s*(" + Cv + @")\s*)((?:\s+|,\s*)(" + Ops + @")\s*(" + Cv + @")\s*)*$")]
    private static partial Regex ValidConstraintRegex();
}

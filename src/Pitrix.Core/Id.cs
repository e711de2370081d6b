using System.Security.Cryptography;

namespace Pitrix.Core;

/// <summary>
/// Creates resource ids of the form <c>prefix-xxxxxxxxxxxx</c>: a short type prefix and twelve random
/// lower-case base-32 characters, so an id tells what it names and cannot be guessed from another.
/// </summary>
public static class Id
{
    private const string Alphabet = "0123456789abcdefghjkmnpqrstvwxyz";

    /// <summary>Returns a new id with the given prefix (for example <c>usr</c>, <c>rt</c>).</summary>
    public static string New(string prefix)
    {
        Span<byte> bytes = stackalloc byte[12];
        RandomNumberGenerator.Fill(bytes);
        Span<char> chars = stackalloc char[12];
        for (var i = 0; i < chars.Length; i++)
        {
            chars[i] = Alphabet[bytes[i] & 31];
        }

        return string.Concat(prefix, "-", chars);
    }
}

/// <summary>The id prefixes of every resource type.</summary>
public static class IdPrefix
{
    public const string User = "usr";
    public const string Group = "grp";
    public const string Session = "ses";
    public const string ApiToken = "tok";
    public const string Runtime = "rt";
    public const string Credential = "cred";
    public const string Audit = "aud";
    public const string Repo = "repo";
    public const string RepoSync = "rsync";
    public const string App = "app";
    public const string AppVersion = "appv";
    public const string AppVersionEvent = "avev";
    public const string Category = "ctg";
    public const string Job = "job";
    public const string JobTask = "task";
    public const string JobTaskAttempt = "att";
    public const string Cluster = "cl";
    public const string ClusterNode = "cln";
}

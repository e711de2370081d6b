namespace Pitrix.Web;

/// <summary>Return URLs after sign-in: only paths of this console, never another site (no open redirect).</summary>
public static class LocalUrl
{
    /// <summary><paramref name="url"/> when it is a local path (<c>/…</c>, not <c>//host</c> or <c>/\host</c>); otherwise <c>/</c>.</summary>
    public static string OrHome(string? url) => IsLocal(url) ? url! : "/";

    public static bool IsLocal(string? url) =>
        !string.IsNullOrEmpty(url)
        && url[0] == '/'
        && (url.Length == 1 || (url[1] != '/' && url[1] != '\\'))
        && !url.Any(char.IsControl)
        && !url.StartsWith("/signin", StringComparison.OrdinalIgnoreCase);
}

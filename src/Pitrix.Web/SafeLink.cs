namespace Pitrix.Web;

/// <summary>Links taken from packages (home, sources, maintainers, screenshots) become links only when they are http(s).</summary>
public static class SafeLink
{
    public static bool IsWeb(string? url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https";

    public static bool IsMail(string? email) =>
        email is { Length: > 2 and < 255 } && email.Contains('@', StringComparison.Ordinal) && !email.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c is '<' or '>' or '"' or '?' or '&');
}

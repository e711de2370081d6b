namespace Pitrix.Web.Session;

/// <summary>
/// What the session cookie carries (encrypted): the API's token pair of one sign-in and who it is.
/// <see cref="Key"/> names the sign-in for its whole life; <see cref="Generation"/> counts refreshes, so a
/// cookie older than the pair this server holds for the same sign-in is recognised and replaced.
/// <see cref="Roles"/> only decides what the console offers (menus); the API decides what is allowed.
/// </summary>
public sealed record SessionTokens(
    string Key,
    int Generation,
    string AccessToken,
    DateTimeOffset AccessExpiresAt,
    string RefreshToken,
    string UserId,
    string UserName,
    IReadOnlyList<string>? Roles = null)
{
    public bool HasRole(string role) => Roles?.Contains(role, StringComparer.Ordinal) == true;
}

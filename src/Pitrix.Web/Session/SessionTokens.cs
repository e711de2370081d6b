namespace Pitrix.Web.Session;

/// <summary>
/// What the session cookie carries (encrypted): the API's token pair of one sign-in and who it is.
/// <see cref="Key"/> names the sign-in for its whole life; <see cref="Generation"/> counts refreshes, so a
/// cookie older than the pair this server holds for the same sign-in is recognised and replaced.
/// </summary>
public sealed record SessionTokens(
    string Key,
    int Generation,
    string AccessToken,
    DateTimeOffset AccessExpiresAt,
    string RefreshToken,
    string UserId,
    string UserName);

namespace Pitrix.Web.Client;

/// <summary>
/// A call the API refused, with its problem details: <see cref="Exception.Message"/> is the detail (or the
/// title), the text the console shows; <see cref="Fields"/> the per-field validation messages.
/// Status 0 means the API could not be reached at all.
/// </summary>
public sealed class ApiException(int status, string code, string title, string? detail, IReadOnlyDictionary<string, string[]>? fields, Exception? inner = null)
    : Exception(detail ?? title, inner)
{
    public int Status { get; } = status;

    public string Code { get; } = code;

    public string Title { get; } = title;

    public IReadOnlyDictionary<string, string[]> Fields { get; } = fields ?? new Dictionary<string, string[]>();
}

/// <summary>
/// The page needs a signed-in user and there is none: never signed in, or the sign-in ended (expired,
/// revoked, the account disabled); <see cref="Expired"/> tells the two apart for the sign-in page's message.
/// </summary>
public sealed class SignInRequiredException(bool expired)
    : Exception(expired ? "Your session expired; sign in again." : "Sign in to continue.")
{
    public bool Expired { get; } = expired;
}

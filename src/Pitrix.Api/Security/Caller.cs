using Microsoft.AspNetCore.Http;
using Pitrix.Core.Access;

namespace Pitrix.Api.Security;

/// <summary>
/// The authenticated caller of a request, bound as a handler parameter. Set by
/// <see cref="PitrixAuthenticationHandler"/>, which loads roles and groups from the database on
/// every request, so a change of roles takes effect at once and not when a token expires.
/// </summary>
public sealed class Caller
{
    private const string ItemKey = "pitrix.caller";

    public Caller(Principal principal, string? sessionId, string? apiTokenId)
    {
        Principal = principal;
        SessionId = sessionId;
        ApiTokenId = apiTokenId;
    }

    public Principal Principal { get; }

    public string UserId => Principal.UserId;

    /// <summary>The sign-in session when the caller used an access token.</summary>
    public string? SessionId { get; }

    /// <summary>The personal API token when the caller used one.</summary>
    public string? ApiTokenId { get; }

    public static Caller? Find(HttpContext context) => context.Items.TryGetValue(ItemKey, out var value) ? value as Caller : null;

    public static ValueTask<Caller?> BindAsync(HttpContext context) =>
        ValueTask.FromResult<Caller?>(Find(context) ?? throw new InvalidOperationException("Endpoint takes a Caller but allows anonymous access."));

    internal void Attach(HttpContext context) => context.Items[ItemKey] = this;
}

using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;
using Pitrix.Web.Client;

namespace Pitrix.Web.Session;

/// <summary>
/// The sign-in of the browser behind the current request, read from the session cookie and reconciled with
/// <see cref="SessionStore"/>. An interactive circuit has no request of its own to read or write a cookie on:
/// its component is handed the pair by the page that rendered it and calls <see cref="Adopt"/>; from then on
/// this session never touches an HTTP context, and what a refresh in the circuit obtains reaches the
/// browser's cookie on its next request (<see cref="SessionStore"/> hands the newer pair to that request).
/// </summary>
public sealed class WebSession(IHttpContextAccessor accessor, SessionCookie cookie, SessionStore store)
{
    private readonly Lock _gate = new();
    private bool _loaded;
    private bool _adopted;
    private SessionTokens? _tokens;

    /// <summary>The current token pair; null when nobody is signed in.</summary>
    public SessionTokens? Tokens
    {
        get
        {
            Load();
            return _tokens;
        }
    }

    public bool IsSignedIn => Tokens is not null;

    /// <summary>True when the browser had a sign-in that has ended (expired, revoked, refused by the API).</summary>
    public bool Ended { get; private set; }

    public string? UserName => Tokens?.UserName;

    /// <summary>Whether the signed-in user holds a platform role (for what the console offers; the API enforces).</summary>
    public bool HasRole(string role) => Tokens?.HasRole(role) == true;

    /// <summary>True in an interactive circuit that took its sign-in through <see cref="Adopt"/>: no cookie is read or written.</summary>
    public bool IsAdopted => _adopted;

    /// <summary>Starts a sign-in with the pair the API issued at login, and sets the cookie.</summary>
    public void Start(TokenPair pair)
    {
        _loaded = true;
        Ended = false;
        _tokens = new SessionTokens(
            Convert.ToHexString(RandomNumberGenerator.GetBytes(16)), 0, pair.AccessToken, pair.ExpiresAt, pair.RefreshToken, pair.User.Id, pair.User.Name, pair.User.Roles);
        if (Context is { } context)
        {
            cookie.Write(context, _tokens);
        }
    }

    /// <summary>
    /// Takes the sign-in of an interactive circuit: the pair the statically rendered page handed its component
    /// (inside Blazor's data-protected component descriptor), reconciled with <see cref="SessionStore"/> so a
    /// pair refreshed since (by another request or circuit) is used instead. From now on this session reads and
    /// writes no cookie. False when that sign-in has ended (<see cref="Ended"/> is then true).
    /// </summary>
    public bool Adopt(SessionTokens tokens)
    {
        lock (_gate)
        {
            _adopted = true;
            _loaded = true;

            // A pair this session already holds for the same sign-in may be newer than the one handed over.
            if (_tokens is { } held && held.Key == tokens.Key && held.Generation > tokens.Generation)
            {
                tokens = held;
            }

            var latest = store.Latest(tokens);
            _tokens = latest;
            Ended = latest is null;
            return latest is not null;
        }
    }

    /// <summary>Takes a refreshed pair; the cookie follows when this is still an HTTP request whose headers are unsent.</summary>
    public void Replace(SessionTokens tokens)
    {
        lock (_gate)
        {
            _loaded = true;
            _tokens = tokens;
            if (Context is { } context)
            {
                cookie.Write(context, tokens);
            }
        }
    }

    /// <summary>Ends the sign-in here: forgets the pair and clears the cookie.</summary>
    public void End(bool expired)
    {
        Load();
        if (_tokens is { } tokens)
        {
            store.End(tokens.Key);
        }

        _tokens = null;
        Ended = expired;
        if (Context is { } context)
        {
            SessionCookie.Clear(context);
        }
    }

    /// <summary>The HTTP request this session may read and set the cookie on; none in an adopted circuit.</summary>
    private HttpContext? Context => _adopted ? null : accessor.HttpContext;

    private void Load()
    {
        if (_loaded)
        {
            return;
        }

        _loaded = true;
        if (Context is not { } context || cookie.Read(context) is not { } fromCookie)
        {
            return;
        }

        var latest = store.Latest(fromCookie);
        if (latest is null)
        {
            Ended = true;
            SessionCookie.Clear(context);
            return;
        }

        if (!ReferenceEquals(latest, fromCookie))
        {
            cookie.Write(context, latest);
        }

        _tokens = latest;
    }
}

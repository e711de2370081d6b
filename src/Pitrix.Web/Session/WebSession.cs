using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;
using Pitrix.Web.Client;

namespace Pitrix.Web.Session;

/// <summary>
/// The sign-in of the browser behind the current request (or interactive circuit), read from the session
/// cookie and reconciled with <see cref="SessionStore"/>. A circuit reads the cookie of the request that
/// opened it and cannot write cookies; what it refreshes reaches the browser's cookie on the next request.
/// </summary>
public sealed class WebSession(IHttpContextAccessor accessor, SessionCookie cookie, SessionStore store)
{
    private readonly Lock _gate = new();
    private bool _loaded;
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

    /// <summary>Starts a sign-in with the pair the API issued at login, and sets the cookie.</summary>
    public void Start(TokenPair pair)
    {
        _loaded = true;
        Ended = false;
        _tokens = new SessionTokens(
            Convert.ToHexString(RandomNumberGenerator.GetBytes(16)), 0, pair.AccessToken, pair.ExpiresAt, pair.RefreshToken, pair.User.Id, pair.User.Name, pair.User.Roles);
        if (accessor.HttpContext is { } context)
        {
            cookie.Write(context, _tokens);
        }
    }

    /// <summary>Takes a refreshed pair; the cookie follows when this is still an HTTP request whose headers are unsent.</summary>
    public void Replace(SessionTokens tokens)
    {
        lock (_gate)
        {
            _loaded = true;
            _tokens = tokens;
            if (accessor.HttpContext is { } context)
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
        if (accessor.HttpContext is { } context)
        {
            SessionCookie.Clear(context);
        }
    }

    private void Load()
    {
        if (_loaded)
        {
            return;
        }

        _loaded = true;
        if (accessor.HttpContext is not { } context || cookie.Read(context) is not { } fromCookie)
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

using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;

namespace Pitrix.Web.Session;

/// <summary>
/// The session cookie: the token pair encrypted and signed with ASP.NET Data Protection (the server's key
/// ring, so every replica sharing it can read it), HttpOnly so no script sees it, SameSite=Strict so no other
/// site can send it, Secure when the console is served over https. It lives as long as the browser session;
/// the API decides how long the sign-in itself is valid.
/// </summary>
public sealed class SessionCookie(IDataProtectionProvider protection)
{
    public const string Name = "pitrix_session";

    private readonly IDataProtector _protector = protection.CreateProtector("Pitrix.Web.Session.v1");

    public SessionTokens? Read(HttpContext context)
    {
        if (!context.Request.Cookies.TryGetValue(Name, out var value) || string.IsNullOrEmpty(value))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<SessionTokens>(_protector.Unprotect(value));
        }
        catch (Exception ex) when (ex is CryptographicException or JsonException or FormatException)
        {
            // A cookie from a lost key ring, or tampered with: as good as none.
            return null;
        }
    }

    /// <summary>Sets the cookie; false when the response has already started and it can no longer be sent.</summary>
    public bool Write(HttpContext context, SessionTokens tokens)
    {
        if (context.Response.HasStarted)
        {
            return false;
        }

        context.Response.Cookies.Append(Name, _protector.Protect(JsonSerializer.Serialize(tokens)), Options(context));
        return true;
    }

    public static void Clear(HttpContext context)
    {
        if (!context.Response.HasStarted)
        {
            context.Response.Cookies.Delete(Name, Options(context));
        }
    }

    private static CookieOptions Options(HttpContext context) => new()
    {
        HttpOnly = true,
        SameSite = SameSiteMode.Strict,
        Secure = context.Request.IsHttps,
        Path = "/",
        IsEssential = true,
    };
}

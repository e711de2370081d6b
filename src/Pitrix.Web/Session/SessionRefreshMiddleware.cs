using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Pitrix.Web.Client;

namespace Pitrix.Web.Session;

/// <summary>
/// Before a console page renders, exchanges an access token about to expire, so the refreshed pair goes out
/// in this response's cookie even when the page then streams its body.
/// </summary>
public sealed class SessionRefreshMiddleware(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext context)
    {
        if (PitrixWebExtensions.IsConsoleRequest(context.Request) && context.Request.Cookies.ContainsKey(SessionCookie.Name))
        {
            var api = context.RequestServices.GetRequiredService<PitrixApi>();
            try
            {
                await api.EnsureFreshAsync(context.RequestAborted);
            }
            catch (SignInRequiredException)
            {
                // The session has ended; the page asked for sends the browser to sign in, with the reason.
            }
            catch (ApiException)
            {
                // The API is unreachable for now; the page shows that error when it calls the API itself.
            }
        }

        await next(context);
    }
}

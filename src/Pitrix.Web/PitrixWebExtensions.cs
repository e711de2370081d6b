using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MudBlazor.Services;
using Pitrix.Web.Client;
using Pitrix.Web.Components;
using Pitrix.Web.Session;

namespace Pitrix.Web;

/// <summary>Registers and serves the web console: Blazor pages at <c>/</c> that call the server's own REST API.</summary>
public static class PitrixWebExtensions
{
    /// <summary>Paths the console never answers: the API, health, OpenAPI and the framework's own assets.</summary>
    /// <summary>Room for an upload form's other fields and multipart framing beside the package.</summary>
    private const long UploadFormOverhead = 64 * 1024;

    private static readonly string[] ReservedPrefixes = ["/api", "/healthz", "/readyz", "/openapi", "/_framework", "/_content", "/_blazor"];

    /// <summary>Registers the console's components, its API client and its session handling.</summary>
    public static IServiceCollection AddPitrixWeb(this IServiceCollection services)
    {
        services.AddOptions<WebOptions>().BindConfiguration(WebOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<WebOptions>, WebOptionsValidator>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddRazorComponents().AddInteractiveServerComponents();
        services.AddMudServices();
        services.AddHttpContextAccessor();
        services.AddAntiforgery(o => o.Cookie.SameSite = SameSiteMode.Strict);
        services.Configure<Microsoft.AspNetCore.Routing.RouteOptions>(o => o.SetParameterPolicy<ConsolePathConstraint>(ConsolePathConstraint.Name));
        services.AddSingleton<ApiAddress>();
        services.AddSingleton<SessionCookie>();
        services.AddSingleton<SessionStore>();
        services.AddScoped<WebSession>();
        services.AddTransient<ClientAddressHandler>();
        services.AddHttpClient<PitrixApi>(http => http.Timeout = TimeSpan.FromSeconds(60))
            .AddHttpMessageHandler<ClientAddressHandler>()

            // The API is this server (or one named by Web:ApiBaseUrl): never through an HTTP proxy from the
            // environment, and never followed elsewhere by a redirect.
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false });
        return services;
    }

    /// <summary>
    /// Maps the console's pages, assets and endpoints. Call after the API's pipeline (authentication, routing):
    /// every route here is anonymous to ASP.NET authorization, because the console's pages check the web session
    /// themselves and send the browser to <c>/signin</c>; what a user may see is decided by the API they call.
    /// </summary>
    /// <param name="app">The server.</param>
    /// <param name="staticAssetsManifest">The static web assets endpoints manifest; default: the one named after the application beside its assembly.</param>
    public static WebApplication MapPitrixWeb(this WebApplication app, string? staticAssetsManifest = null)
    {
        // A package upload form carries a package larger than the server's general body limit: raised for those
        // posts only, before the antiforgery check reads the form.
        var uploadLimit = app.Services.GetRequiredService<IOptions<WebOptions>>().Value.MaxPackageBytes + UploadFormOverhead;
        app.Use((context, next) =>
        {
            if (HttpMethods.IsPost(context.Request.Method) && context.Request.Path.StartsWithSegments("/developer", StringComparison.OrdinalIgnoreCase)
                && context.Request.HasFormContentType && context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            {
                limit.MaxRequestBodySize = uploadLimit;
            }

            return next(context);
        });
        app.UseAntiforgery();
        app.Use(static (context, next) =>
        {
            if (IsConsoleRequest(context.Request))
            {
                // No other site may frame the console (clickjacking its buttons) or read where its users were.
                var headers = context.Response.Headers;
                // (Pages also carry Blazor's Content-Security-Policy frame-ancestors, set to 'none' below.)
                headers.XFrameOptions = "DENY";
                headers.XContentTypeOptions = "nosniff";
                headers["Referrer-Policy"] = "same-origin";

                // Scripts and everything else only from the console itself (no inline script: an injected
                // <script> does not run); inline styles are allowed because MudBlazor sets style attributes.
                headers.ContentSecurityPolicy = ContentSecurityPolicy;

                // The console answers its own misses with its page; the API's JSON status pages are for the API.
                context.Features.Get<IStatusCodePagesFeature>()?.Enabled = false;
            }

            return next(context);
        });
        app.UseMiddleware<SessionRefreshMiddleware>();
        // The manifest is written beside the host's assembly by the build (or publish); a host without it (a
        // process that embeds the server but was built differently) still serves the API and working pages, unstyled.
        var manifest = staticAssetsManifest ?? Path.Combine(AppContext.BaseDirectory, app.Environment.ApplicationName + ".staticwebassets.endpoints.json");
        if (File.Exists(manifest))
        {
            app.MapStaticAssets(manifest).AllowAnonymous();
        }
        else
        {
            WebLog.AssetsMissing(app.Logger, manifest);
        }

        app.MapRazorComponents<App>()
            .AddInteractiveServerRenderMode(o => o.ContentSecurityFrameAncestorsPolicy = "'none'")
            .AllowAnonymous();
        app.MapPost("/signout", SignOutAsync).AllowAnonymous().DisableAntiforgery();

        // Any other console address is the console's "not found" page, with status 404; the API's, health's and
        // the framework's paths are not console paths, so their misses keep the API's JSON answers.
        // Only for GET and HEAD, so a wrong method on an API path still gets its 405.
        app.MapMethods("{*path:" + ConsolePathConstraint.Name + "}", [HttpMethods.Get, HttpMethods.Head], static () => new RazorComponentResult<App> { StatusCode = StatusCodes.Status404NotFound })
            .WithOrder(int.MaxValue)
            .AllowAnonymous();
        app.MapGet("/apps/{id}/icon", IconAsync).AllowAnonymous();
        return app;
    }

    /// <summary>The console's page-wide Content-Security-Policy.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; " +
        "connect-src 'self'; form-action 'self'; base-uri 'self'; object-src 'none'; frame-ancestors 'none'";

    /// <summary>True for requests the console may answer (anything outside the API's and the framework's paths).</summary>
    public static bool IsConsoleRequest(HttpRequest request) => IsConsolePath(request.Path);

    internal static bool IsConsolePath(PathString path) =>
        !ReservedPrefixes.Any(p => path.StartsWithSegments(p, StringComparison.OrdinalIgnoreCase));

    private static async Task<IResult> SignOutAsync(HttpContext context, IAntiforgery antiforgery, PitrixApi api)
    {
        // Checked here rather than by the middleware so a stale form (an old page) gets a clear answer.
        if (!await antiforgery.IsRequestValidAsync(context))
        {
            return Results.Redirect("/signin");
        }

        await api.SignOutAsync(context.RequestAborted);
        return Results.Redirect("/signin?signedout=1");
    }

    /// <summary>An app's icon through the API with the user's token, since the browser's own request carries none.</summary>
    private static async Task<IResult> IconAsync(string id, HttpContext context, PitrixApi api)
    {
        IconContent? icon;
        try
        {
            icon = await api.GetIconAsync(id, context.RequestAborted);
        }
        catch (SignInRequiredException)
        {
            return Results.StatusCode(StatusCodes.Status401Unauthorized);
        }
        catch (ApiException ex) when (ex.Status is >= 400 and < 500)
        {
            return Results.StatusCode(ex.Status);
        }

        if (icon is null)
        {
            return Results.NotFound();
        }

        // An SVG opened directly must not run script in the console's origin.
        context.Response.Headers.ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; sandbox";
        context.Response.Headers.XContentTypeOptions = "nosniff";
        context.Response.Headers.CacheControl = "private, max-age=3600";
        return Results.File(icon.Content, icon.MediaType);
    }
}

internal static partial class WebLog
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "The web console's assets manifest {Manifest} is missing: pages are served without their styles and scripts")]
    public static partial void AssetsMissing(ILogger logger, string manifest);
}

/// <summary>Matches a catch-all route value only on console paths (not the API's, health's or the framework's).</summary>
internal sealed class ConsolePathConstraint : IRouteConstraint
{
    public const string Name = "pitrixconsole";

    public bool Match(HttpContext? httpContext, IRouter? route, string routeKey, RouteValueDictionary values, RouteDirection routeDirection) =>
        PitrixWebExtensions.IsConsolePath(new PathString("/" + (values.TryGetValue(routeKey, out var value) ? value as string : null)));
}

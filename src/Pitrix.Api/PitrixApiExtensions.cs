using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Pitrix.Api.Auditing;
using Pitrix.Api.Endpoints;
using Pitrix.Api.Http;
using Pitrix.Api.Security;
using Pitrix.Core;
using Pitrix.Core.Hosting;
using Pitrix.Core.Runtimes;
using Pitrix.Persistence;

namespace Pitrix.Api;

public static class PitrixApiExtensions
{
    /// <summary>The JSON conventions of the whole API: snake_case names, enums as snake_case strings, unknown fields rejected.</summary>
    public static void ConfigureJson(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false));
        options.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
    }

    /// <summary>Registers the REST API: authentication, authorization, problem details, rate limiting, OpenAPI, health checks.</summary>
    public static IServiceCollection AddPitrixApi(this IServiceCollection services, DataDirectory dataDirectory)
    {
        services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AuthOptions>, AuthOptionsValidator>();
        services.AddOptions<ApiOptions>().BindConfiguration(ApiOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ApiOptions>, ApiOptionsValidator>();

        services.ConfigureHttpJsonOptions(o => ConfigureJson(o.SerializerOptions));
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddProblemDetails(o => o.CustomizeProblemDetails = CustomizeProblem);

        services.AddDataProtection().SetApplicationName("pitrix").PersistKeysToFileSystem(new DirectoryInfo(dataDirectory.KeysPath));
        services.AddSingleton<SecretProtector>();
        services.AddSingleton<Core.Security.ISecretProtector>(sp => sp.GetRequiredService<SecretProtector>());
        services.AddSingleton<SigningKeyProvider>();
        services.AddSingleton<TokenService>();
        services.AddSingleton<PasswordPolicy>();
        services.AddSingleton<ProviderRegistry>();
        services.AddHostedService<SessionJanitor>();

        services.AddAuthentication(PitrixAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, PitrixAuthenticationHandler>(PitrixAuthenticationHandler.SchemeName, null);
        services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new Microsoft.AspNetCore.Authorization.AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build())
            .AddPolicy(ApiPolicies.Admin, p => p.RequireAuthenticatedUser().RequireRole(Core.Identity.Role.Admin));

        services.AddRateLimiter(o =>
        {
            o.AddPolicy(AuthEndpoints.LoginRateLimitPolicy, http =>
            {
                var limit = http.RequestServices.GetRequiredService<IOptions<AuthOptions>>().Value.LoginAttemptsPerMinute;
                return RateLimitPartition.GetFixedWindowLimiter(
                    http.Connection.RemoteIpAddress?.ToString() ?? "unknown",
                    _ => new FixedWindowRateLimiterOptions { PermitLimit = limit, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 });
            });
            o.OnRejected = async (context, _) =>
            {
                if (context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter))
                {
                    context.HttpContext.Response.Headers.RetryAfter = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
                }

                await Problems.WriteAsync(context.HttpContext, new Error(ErrorKind.RateLimited, "request.rate_limited", "Too many attempts; wait a minute and try again."));
            };
        });

        services.AddOpenApi(o => o.AddDocumentTransformer<BearerSecurityTransformer>().AddOperationTransformer<ConventionsOperationTransformer>());
        services.AddHealthChecks().AddDbContextCheck<PitrixDbContext>("database");
        return services;
    }

    private static void CustomizeProblem(ProblemDetailsContext context)
    {
        var problem = context.ProblemDetails;
        var status = problem.Status ?? context.HttpContext.Response.StatusCode;
        if (context.Exception is { } exception)
        {
            var (exceptionStatus, exceptionCode) = Problems.ForException(exception);
            status = exceptionStatus;
            problem.Status = status;
            problem.Title = Problems.TitleOf(status);
            problem.Extensions["code"] = exceptionCode;
            problem.Detail = exceptionCode switch
            {
                "request.malformed_json" => JsonProblemDetail(exception.InnerException!.Message),
                "request.too_large" => "The request body is larger than this server accepts.",
                "server.internal_error" => "An unexpected error occurred; the server log has the details under this trace id.",
                "request.conflict" => "Another request changed the same resource at the same moment; nothing was saved. Retry.",
                _ => exception.Message,
            };
        }

        if (!problem.Extensions.TryGetValue("code", out var code) || code is not string)
        {
            code = Problems.DefaultCode(status);
            problem.Extensions["code"] = code;
        }

        problem.Type ??= Problems.TypeBase + code;
        if (problem.Type.StartsWith("https://tools.ietf.org", StringComparison.Ordinal))
        {
            problem.Type = Problems.TypeBase + code;
        }

        if (context.HttpContext.Features.Get<AuditFeature>() is { } audit)
        {
            audit.ErrorCode = (string)code;
        }
    }

    private static string JsonProblemDetail(string message)
    {
        // System.Text.Json names the .NET type of the body; say only which field was wrong.
        var unknown = System.Text.RegularExpressions.Regex.Match(message, "property '([^']*)' could not be mapped", System.Text.RegularExpressions.RegexOptions.None, TimeSpan.FromSeconds(1));
        if (unknown.Success)
        {
            return $"Unknown field '{unknown.Groups[1].Value}' in the request body.";
        }

        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        var where = System.Text.RegularExpressions.Regex.Match(message, @"Path: (\S+) \| LineNumber: (\d+) \| BytePositionInLine: (\d+)", System.Text.RegularExpressions.RegexOptions.None, TimeSpan.FromSeconds(1));
        var head = (cut > 0 ? message[..cut] : message).Replace("Pitrix.", "", StringComparison.Ordinal);
        return where.Success
            ? $"The request body is not valid JSON at {where.Groups[1].Value} (line {int.Parse(where.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture) + 1}, byte {where.Groups[3].Value}): {head}"
            : $"The request body is not valid JSON: {head}";
    }

    /// <summary>Adds the middleware pipeline and maps every endpoint of the API.</summary>
    public static WebApplication UsePitrixApi(this WebApplication app, bool serveApi = true)
    {
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            StatusCodeSelector = ex => Problems.ForException(ex).Status,
            SuppressDiagnosticsCallback = ctx => ctx.Exception is BadHttpRequestException || Persistence.DbErrors.IsUniqueViolation(ctx.Exception),
        });
        app.UseStatusCodePages();

        // Before the rate limiter and the audit: both key on the caller's address.
        app.UseMiddleware<ConsoleClientAddress>();
        if (serveApi)
        {
            app.UseSwaggerUI(o =>
        {
                o.SwaggerEndpoint("/openapi/v1.json", "Pitrix API v1");
                o.RoutePrefix = "api/docs";
                o.DocumentTitle = "Pitrix API reference";
            });
        }

        app.UseRouting();
        app.UseAuthentication();
        app.UseMiddleware<AuditMiddleware>();
        app.UseRateLimiter();
        app.UseAuthorization();

        app.MapOpenApi().AllowAnonymous();
        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false }).AllowAnonymous();
        app.MapHealthChecks("/readyz").AllowAnonymous();

        if (!serveApi)
        {
            return app;
        }

        var api = app.MapGroup("/api/v1").AddEndpointFilter<AuditResultFilter>();
        api.MapAuthEndpoints();
        api.MapUserEndpoints();
        api.MapGroupEndpoints();
        api.MapCredentialEndpoints();
        api.MapRuntimeEndpoints();
        api.MapAuditEndpoints();
        api.MapRepoEndpoints();
        api.MapHelmRepoEndpoints();
        api.MapAppEndpoints();
        api.MapReviewEndpoints();
        api.MapCategoryEndpoints();
        api.MapClusterEndpoints();
        api.MapJobEndpoints();
        api.MapEventEndpoints();
        return app;
    }
}

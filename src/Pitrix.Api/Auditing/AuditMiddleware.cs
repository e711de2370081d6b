using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Pitrix.Api.Http;
using Pitrix.Api.Security;
using Pitrix.Core;
using Pitrix.Core.Audit;
using Pitrix.Persistence;

namespace Pitrix.Api.Auditing;

/// <summary>
/// Records every mutating API request (POST, PUT, PATCH, DELETE) with its outcome, including those
/// refused before reaching a handler (401, 403, 413, 429) and those that threw.
/// </summary>
public sealed partial class AuditMiddleware(RequestDelegate next, IServiceScopeFactory scopes, TimeProvider time, ILogger<AuditMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        if (!IsAudited(context.Request))
        {
            await next(context);
            return;
        }

        var feature = new AuditFeature();
        context.Features.Set(feature);
        var status = 500;
        try
        {
            await next(context);
            status = context.Response.StatusCode;
        }
        catch (Exception ex)
        {
            (status, feature.ErrorCode) = Problems.ForException(ex);
            throw;
        }
        finally
        {
            await RecordAsync(context, feature, status);
        }
    }

    private static bool IsAudited(HttpRequest request) =>
        request.Path.StartsWithSegments("/api", StringComparison.Ordinal)
        && (HttpMethods.IsPost(request.Method) || HttpMethods.IsPut(request.Method) || HttpMethods.IsPatch(request.Method) || HttpMethods.IsDelete(request.Method));

    private async Task RecordAsync(HttpContext context, AuditFeature feature, int status)
    {
        var endpoint = context.GetEndpoint();
        var caller = Caller.Find(context);
        var entry = new AuditEntry
        {
            Id = Id.New(IdPrefix.Audit),
            At = time.GetUtcNow(),
            UserId = caller?.UserId ?? feature.UserId,
            UserName = caller?.Principal.Name ?? feature.UserName,
            Action = endpoint?.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName ?? "unmatched",
            ResourceType = endpoint?.Metadata.GetMetadata<ResourceTypeMetadata>()?.ResourceType,
            ResourceId = feature.ResourceId ?? context.GetRouteValue("id") as string,
            Address = context.Connection.RemoteIpAddress?.ToString(),
            Method = context.Request.Method,
            Path = Truncate(context.Request.Path.Value ?? "/", 512),
            StatusCode = status,
            Outcome = status < 400 ? "success" : "failure",
            ErrorCode = status < 400 ? null : feature.ErrorCode ?? Problems.DefaultCode(status),
        };
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<PitrixDbContext>();
            db.AuditEntries.Add(entry);
            await db.SaveChangesAsync(CancellationToken.None);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogAuditWriteFailed(logger, ex, entry.Action, entry.Path);
        }
    }

    private static string Truncate(string value, int max) => value.Length <= max ? value : value[..max];

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not write the audit entry for {Action} {Path}")]
    private static partial void LogAuditWriteFailed(ILogger logger, Exception exception, string action, string path);
}

/// <summary>Tells the audit middleware which resource a handler created.</summary>
public sealed class AuditResultFilter : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var result = await next(context);
        var inner = result is INestedHttpResult nested ? nested.Result : result;
        if (inner is IValueHttpResult { Value: IHasId resource } && context.HttpContext.Features.Get<AuditFeature>() is { } feature)
        {
            feature.ResourceId ??= resource.Id;
        }

        return result;
    }
}

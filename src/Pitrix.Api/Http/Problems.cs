using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Pitrix.Core;

namespace Pitrix.Api.Http;

/// <summary>Turns <see cref="Error"/> values into RFC 9457 problem responses with a stable <c>code</c>.</summary>
public static class Problems
{
    public const string TypeBase = "https://pitrix.dev/problems/";

    public static int StatusOf(ErrorKind kind) => kind switch
    {
        ErrorKind.Validation => StatusCodes.Status400BadRequest,
        ErrorKind.Unauthenticated => StatusCodes.Status401Unauthorized,
        ErrorKind.Forbidden => StatusCodes.Status403Forbidden,
        ErrorKind.NotFound => StatusCodes.Status404NotFound,
        ErrorKind.Conflict => StatusCodes.Status409Conflict,
        ErrorKind.Unprocessable => StatusCodes.Status422UnprocessableEntity,
        ErrorKind.PayloadTooLarge => StatusCodes.Status413PayloadTooLarge,
        ErrorKind.RateLimited => StatusCodes.Status429TooManyRequests,
        ErrorKind.Unavailable => StatusCodes.Status503ServiceUnavailable,
        _ => StatusCodes.Status500InternalServerError,
    };

    public static ProblemHttpResult From(Error error) => TypedResults.Problem(ToProblemDetails(error));

    public static ProblemDetails ToProblemDetails(Error error)
    {
        var status = StatusOf(error.Kind);
        var problem = error.Fields is null
            ? new ProblemDetails()
            : new HttpValidationProblemDetails(error.Fields.ToDictionary(f => f.Key, f => f.Value));
        problem.Status = status;
        problem.Type = TypeBase + error.Code;
        problem.Title = TitleOf(status);
        problem.Detail = error.Message;
        problem.Extensions["code"] = error.Code;
        foreach (var (key, value) in error.Extensions ?? new Dictionary<string, object?>())
        {
            problem.Extensions[key] = value;
        }
        return problem;
    }

    /// <summary>The default code for a status that was produced without a specific one (routing, Kestrel).</summary>
    public static string DefaultCode(int status) => status switch
    {
        400 => "request.invalid",
        401 => "auth.unauthenticated",
        403 => "access.forbidden",
        404 => "route.not_found",
        405 => "route.method_not_allowed",
        409 => "request.conflict",
        413 => "request.too_large",
        415 => "request.unsupported_media_type",
        422 => "request.unprocessable",
        429 => "request.rate_limited",
        503 => "server.unavailable",
        _ when status >= 500 => "server.internal_error",
        _ => "request.failed",
    };

    /// <summary>The status and code for an exception that reached the exception handler.</summary>
    public static (int Status, string Code) ForException(Exception exception) => exception switch
    {
        BadHttpRequestException { StatusCode: 413 } => (413, "request.too_large"),
        BadHttpRequestException { InnerException: System.Text.Json.JsonException } => (400, "request.malformed_json"),
        BadHttpRequestException bad when bad.Message.Contains("Content-Type", StringComparison.OrdinalIgnoreCase) && bad.StatusCode == 415 => (415, "request.unsupported_media_type"),
        BadHttpRequestException bad => (bad.StatusCode, bad.StatusCode == 400 ? "request.invalid" : DefaultCode(bad.StatusCode)),
        OperationCanceledException => (499, "request.cancelled"),
        _ when Pitrix.Persistence.DbErrors.IsUniqueViolation(exception) => (409, "request.conflict"),
        _ => (500, "server.internal_error"),
    };

    public static string TitleOf(int status) => status switch
    {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        413 => "Payload Too Large",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Content",
        429 => "Too Many Requests",
        503 => "Service Unavailable",
        _ => "Internal Server Error",
    };

    /// <summary>Writes a problem response outside an endpoint (middleware, authentication, rate limiter).</summary>
    public static async Task WriteAsync(HttpContext context, Error error)
    {
        var problem = ToProblemDetails(error);
        context.Response.StatusCode = problem.Status!.Value;
        var service = context.RequestServices.GetService(typeof(IProblemDetailsService)) as IProblemDetailsService;
        if (service is null || !await service.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem }))
        {
            await context.Response.WriteAsJsonAsync(problem);
        }
    }
}

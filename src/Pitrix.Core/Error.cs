namespace Pitrix.Core;

/// <summary>The class of an expected failure; front ends map it to a status code.</summary>
public enum ErrorKind
{
    Validation,
    Unauthenticated,
    Forbidden,
    NotFound,
    Conflict,

    /// <summary>The request is well formed but cannot be carried out as asked (a chart that does not render with the values).</summary>
    Unprocessable,
    PayloadTooLarge,
    RateLimited,
    Unavailable,
    Internal,
}

/// <summary>
/// An expected failure as a value: a stable dotted <see cref="Code"/> (for example <c>cluster.busy</c>)
/// that clients may depend on, a human message, and for validation failures the offending fields.
/// </summary>
public sealed record Error(ErrorKind Kind, string Code, string Message)
{
    /// <summary>Field name to messages, for <see cref="ErrorKind.Validation"/> errors.</summary>
    public IReadOnlyDictionary<string, string[]>? Fields { get; init; }

    /// <summary>Extra members of the problem response (for example the <c>job_id</c> a busy cluster is running).</summary>
    public IReadOnlyDictionary<string, object?>? Extensions { get; init; }

    public static Error Validation(string code, string message, IReadOnlyDictionary<string, string[]>? fields = null) =>
        new(ErrorKind.Validation, code, message) { Fields = fields };

    public static Error NotFound(string resourceType, string id) =>
        new(ErrorKind.NotFound, $"{resourceType}.not_found", $"No {resourceType.Replace('_', ' ')} '{id}' exists or you may not see it.");

    public static Error Conflict(string code, string message) => new(ErrorKind.Conflict, code, message);

    public static Error Forbidden(string code, string message) => new(ErrorKind.Forbidden, code, message);

    public override string ToString() => $"{Code}: {Message}";
}

/// <summary>Either a value or an <see cref="Error"/>.</summary>
public readonly struct Result<T>
{
    internal Result(T? value, Error? error)
    {
        Value = value;
        Error = error;
    }

    public T? Value { get; }

    public Error? Error { get; }

    public bool IsSuccess => Error is null;

    public static implicit operator Result<T>(T value) => new(value, null);

    public static implicit operator Result<T>(Error error) => new(default, error);
}

public static class Result
{
    /// <summary>A success, for values the implicit conversion cannot take (interfaces).</summary>
    public static Result<T> Success<T>(T value) => new(value, null);
}

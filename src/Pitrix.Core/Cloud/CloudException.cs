using Pitrix.Core.Engine;

namespace Pitrix.Core.Cloud;

/// <summary>The stable codes of <see cref="CloudException"/>; clients and task outcomes may depend on them.</summary>
public static class CloudErrorCodes
{
    /// <summary>No such network, instance or volume (never, or no longer). Not retryable.</summary>
    public const string NotFound = "cloud.not_found";

    /// <summary>The request itself is wrong (an empty key, a negative size, a shrinking volume). Not retryable.</summary>
    public const string InvalidRequest = "cloud.invalid_request";

    /// <summary>The resource cannot do this now (start a terminated instance, delete an attached volume). Not retryable.</summary>
    public const string InvalidState = "cloud.invalid_state";

    /// <summary>The account has no room (instances, cores, volume space). Not retryable: someone must free or raise the quota.</summary>
    public const string QuotaExceeded = "cloud.quota_exceeded";

    /// <summary>The cloud refused the credential or the permission. Not retryable.</summary>
    public const string Unauthorized = "cloud.unauthorized";

    /// <summary>The cloud asked us to slow down. Retryable, after <see cref="CloudException.RetryAfter"/> when it said.</summary>
    public const string RateLimited = "cloud.rate_limited";

    /// <summary>The cloud could not be reached or failed inside (timeouts, 5xx). Retryable.</summary>
    public const string Unavailable = "cloud.unavailable";
}

/// <summary>
/// A cloud operation failed. <see cref="Code"/> is one of <see cref="CloudErrorCodes"/>;
/// <see cref="IsRetryable"/> says whether the same call may succeed later (the engine retries the task under
/// its retry policy), and <see cref="RetryAfter"/> how long to wait at least, when the cloud said.
/// </summary>
public sealed class CloudException : Exception
{
    public CloudException()
        : this(CloudErrorCodes.Unavailable, "The cloud operation failed.", retryable: true)
    {
    }

    public CloudException(string message)
        : this(CloudErrorCodes.Unavailable, message, retryable: true)
    {
    }

    public CloudException(string message, Exception innerException)
        : this(CloudErrorCodes.Unavailable, message, retryable: true, innerException: innerException)
    {
    }

    public CloudException(string code, string message, bool retryable, TimeSpan? retryAfter = null, Exception? innerException = null)
        : base(message, innerException)
    {
        Code = code;
        IsRetryable = retryable;
        RetryAfter = retryAfter;
    }

    /// <summary>The stable dotted code, one of <see cref="CloudErrorCodes"/>.</summary>
    public string Code { get; }

    /// <summary>True when the same call may succeed later.</summary>
    public bool IsRetryable { get; }

    /// <summary>The least wait before a retry, when the cloud said (a rate limit's Retry-After).</summary>
    public TimeSpan? RetryAfter { get; }

    public static CloudException NotFound(string resource, string id) =>
        new(CloudErrorCodes.NotFound, $"No {resource} '{id}' exists.", retryable: false);

    public static CloudException InvalidRequest(string message) => new(CloudErrorCodes.InvalidRequest, message, retryable: false);

    public static CloudException InvalidState(string message) => new(CloudErrorCodes.InvalidState, message, retryable: false);

    public static CloudException QuotaExceeded(string message) => new(CloudErrorCodes.QuotaExceeded, message, retryable: false);

    public static CloudException Unauthorized(string message) => new(CloudErrorCodes.Unauthorized, message, retryable: false);

    public static CloudException RateLimited(string message, TimeSpan? retryAfter = null) => new(CloudErrorCodes.RateLimited, message, retryable: true, retryAfter);

    public static CloudException Unavailable(string message, Exception? innerException = null) => new(CloudErrorCodes.Unavailable, message, retryable: true, innerException: innerException);

    /// <summary>The failed task outcome this error makes: same code and message, retried when retryable.</summary>
    public TaskOutcome ToTaskOutcome(string? output = null) => TaskOutcome.Failure(Code, Message, IsRetryable, output);
}

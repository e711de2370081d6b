namespace Pitrix.Cli;

/// <summary>The CLI's exit codes; scripts may depend on them.</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    public const int Failure = 1;
    public const int Usage = 2;
    public const int Invalid = 3;
    public const int Unauthenticated = 4;
    public const int Forbidden = 5;
    public const int NotFound = 6;
    public const int Conflict = 7;
    public const int Unavailable = 8;
    public const int RateLimited = 9;

    /// <summary>A job waited for with <c>--wait</c> failed.</summary>
    public const int JobFailed = 10;

    /// <summary>A job waited for with <c>--wait</c> was cancelled.</summary>
    public const int JobCancelled = 11;

    public static int FromStatus(int status) => status switch
    {
        400 or 413 or 415 or 422 => Invalid,
        401 => Unauthenticated,
        403 => Forbidden,
        404 => NotFound,
        409 => Conflict,
        429 => RateLimited,
        >= 500 => Unavailable,
        _ => Failure,
    };
}

namespace Pitrix.Drone;

/// <summary>Stable codes of the drone's expected failures, as reported in command results and agent errors.</summary>
public static class DroneErrorCodes
{
    /// <summary>The command line is empty or needs a shell (see <see cref="CommandLine"/>).</summary>
    public const string CommandInvalid = "drone.command_invalid";

    /// <summary>The command's executable does not exist or cannot be executed.</summary>
    public const string CommandNotFound = "drone.command_not_found";

    /// <summary>The drone stopped while the command ran; it is not run again, since it may have had effects.</summary>
    public const string CommandInterrupted = "drone.command_interrupted";

    /// <summary>The command was cancelled because the drone shut down.</summary>
    public const string CommandCancelled = "drone.command_cancelled";

    /// <summary>The node refused a request, for example an unsafe archive; the message says why. Not retryable.</summary>
    public const string Rejected = "agent.rejected";

    /// <summary>
    /// Starting config watching rendered a template with an error, or no metadata arrived in time; the message
    /// names the template. Retryable: the metadata may still be on its way.
    /// </summary>
    public const string ConfigNotRendered = "drone.config_not_rendered";

    /// <summary>The request is of a kind this drone does not know (a newer frontgate).</summary>
    public const string Unsupported = "drone.unsupported_request";
}

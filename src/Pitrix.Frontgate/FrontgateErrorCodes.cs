namespace Pitrix.Frontgate;

/// <summary>
/// Stable codes of the frontgate's expected failures, carried in <c>AgentError.code</c> on the Pilot
/// stream and in the <c>pitrix-error-code</c> trailer on calls from drones. The node codes are the ones
/// Pilot's callers already know (<see cref="Core.Agents.AgentNetworkErrors"/>).
/// </summary>
public static class FrontgateErrorCodes
{
    /// <summary>The node's drone holds no stream to this frontgate now. Retryable.</summary>
    public const string NodeNotConnected = Core.Agents.AgentNetworkErrors.NodeNotConnected;

    /// <summary>The drone did not answer within the relay deadline. Retryable.</summary>
    public const string Timeout = Core.Agents.AgentNetworkErrors.Timeout;

    /// <summary>The frontgate holds no stream to Pilot now, so a drone's enrollment cannot be relayed. Retryable.</summary>
    public const string PilotNotConnected = "frontgate.pilot_not_connected";

    /// <summary>The request is malformed (a missing field, an unknown request kind). Not retryable.</summary>
    public const string InvalidRequest = "frontgate.invalid_request";

    /// <summary>A cluster id or metadata key is not acceptable (empty segment, `..`, control characters). Not retryable.</summary>
    public const string MetadataInvalidKey = "metadata.invalid_key";

    /// <summary>The metadata backend could not be reached or failed. Retryable.</summary>
    public const string MetadataUnavailable = "metadata.unavailable";
}

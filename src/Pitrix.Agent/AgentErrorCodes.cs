namespace Pitrix.Agent;

/// <summary>
/// Stable codes of the agent network's expected failures. Over gRPC they travel in the
/// <see cref="AgentErrorCodes.TrailerName"/> trailer beside a proper status code.
/// </summary>
public static class AgentErrorCodes
{
    /// <summary>The gRPC trailer that carries the code.</summary>
    public const string TrailerName = "pitrix-error-code";

    /// <summary>The join token was never issued (or was mistyped).</summary>
    public const string JoinTokenInvalid = "join_token.invalid";

    /// <summary>The join token's lifetime ended before it was used.</summary>
    public const string JoinTokenExpired = "join_token.expired";

    /// <summary>The join token was already exchanged for a certificate; tokens are good for one use.</summary>
    public const string JoinTokenUsed = "join_token.used";

    /// <summary>The certificate signing request is malformed, badly signed or uses a weak key.</summary>
    public const string CsrInvalid = "enrollment.csr_invalid";

    /// <summary>The call carries no validated client certificate naming an agent.</summary>
    public const string Unauthenticated = "agent.unauthenticated";

    /// <summary>The caller is an agent, but not of the kind this call is for.</summary>
    public const string WrongKind = "agent.wrong_kind";
}

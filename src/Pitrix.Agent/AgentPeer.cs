using Grpc.Core;

namespace Pitrix.Agent;

/// <summary>Who is calling a gRPC service of the agent network, from its validated client certificate.</summary>
public static class AgentPeer
{
    /// <summary>
    /// The caller's identity, or null when it presented no certificate. The certificate was validated
    /// against our CA by the listener (<see cref="AgentTrust.UseAgentTls"/>) before the call got here;
    /// services must only be served on such listeners.
    /// </summary>
    public static AgentIdentity? GetIdentity(ServerCallContext context)
    {
        var certificate = context.GetHttpContext().Connection.ClientCertificate;
        return certificate is null ? null : AgentIdentity.FromCertificate(certificate);
    }

    /// <summary>
    /// The caller's identity when it is an agent of <paramref name="kind"/>; otherwise throws an
    /// <see cref="RpcException"/>: UNAUTHENTICATED without a certificate, PERMISSION_DENIED for another kind.
    /// </summary>
    public static AgentIdentity Require(ServerCallContext context, AgentKind kind)
    {
        var identity = GetIdentity(context)
            ?? throw AgentRpc.Exception(StatusCode.Unauthenticated, AgentErrorCodes.Unauthenticated, "This call needs a client certificate issued by the Pitrix CA.");
        if (identity.Kind != kind)
        {
            throw AgentRpc.Exception(StatusCode.PermissionDenied, AgentErrorCodes.WrongKind, $"This call is for {kind.ToString().ToLowerInvariant()} agents; the caller is {identity}.");
        }

        return identity;
    }
}

/// <summary>gRPC errors that carry a stable Pitrix error code.</summary>
public static class AgentRpc
{
    /// <summary>An exception whose trailers carry <paramref name="code"/> in <see cref="AgentErrorCodes.TrailerName"/>.</summary>
    public static RpcException Exception(StatusCode status, string code, string message) =>
        new(new Status(status, message), new Metadata { { AgentErrorCodes.TrailerName, code } });

    /// <summary>The stable code a failed call carried, or null.</summary>
    public static string? ErrorCode(RpcException exception) => exception.Trailers.GetValue(AgentErrorCodes.TrailerName);
}

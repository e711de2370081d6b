using Grpc.Core;
using Microsoft.Extensions.Options;
using Pitrix.Agent.Protocol.V1;
using Pitrix.Core;

namespace Pitrix.Agent;

/// <summary>
/// The server side of <c>Enrollment</c>: exchanges a one-time join token and a signing request for a
/// client certificate naming the identity the token was issued for, and renews an enrolled agent's
/// certificate. Serve it on a listener configured with <see cref="AgentClientCertificates.Allow"/>.
/// </summary>
public sealed class EnrollmentService(CertificateAuthority ca, JoinTokens joinTokens, IOptions<AgentPkiOptions> options)
    : Enrollment.EnrollmentBase
{
    public override async Task<EnrollResponse> Enroll(EnrollRequest request, ServerCallContext context)
    {
        // The request is checked before the token is consumed, so a malformed request does not burn it.
        if (CertificateAuthority.CheckSigningRequest(request.CsrPem) is { } csrError)
        {
            throw ToRpcException(csrError);
        }

        var redeemed = await joinTokens.RedeemAsync(request.JoinToken, context.CancellationToken);
        if (!redeemed.IsSuccess)
        {
            throw ToRpcException(redeemed.Error!);
        }

        return Issue(request.CsrPem, redeemed.Value!);
    }

    public override Task<EnrollResponse> Renew(RenewRequest request, ServerCallContext context)
    {
        var identity = AgentPeer.GetIdentity(context)
            ?? throw AgentRpc.Exception(StatusCode.Unauthenticated, AgentErrorCodes.Unauthenticated, "Renewal needs the current client certificate.");
        return Task.FromResult(Issue(request.CsrPem, identity));
    }

    private static RpcException ToRpcException(Error error) => AgentRpc.Exception(
        error.Kind switch
        {
            ErrorKind.Validation => StatusCode.InvalidArgument,
            ErrorKind.Unauthenticated => StatusCode.PermissionDenied,
            _ => StatusCode.Internal,
        },
        error.Code,
        error.Message);

    private EnrollResponse Issue(string csrPem, AgentIdentity identity)
    {
        var issued = ca.IssueClientCertificate(csrPem, identity, options.Value.ClientCertificateLifetime);
        if (!issued.IsSuccess)
        {
            throw ToRpcException(issued.Error!);
        }

        using var certificate = issued.Value!;
        return new EnrollResponse
        {
            CertificatePem = certificate.ExportCertificatePem(),
            CaPem = ca.CertificatePem,
            Identity = identity.Uri,
        };
    }
}

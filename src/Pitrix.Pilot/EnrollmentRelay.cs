using Microsoft.Extensions.Options;
using Pitrix.Agent;
using Pitrix.Agent.Protocol.V1;
using Pitrix.Core;

namespace Pitrix.Pilot;

/// <summary>
/// Enrollment and renewal of drones, relayed by their frontgate (drones have no route to Pilot). A
/// relayed enrollment must carry a node's join token; the node is then bound to the frontgate it came
/// through, and only that frontgate may renew its certificate or report about it.
/// </summary>
internal sealed class EnrollmentRelay(CertificateAuthority ca, JoinTokens joinTokens, PilotStore store, IOptions<AgentPkiOptions> pki)
{
    public async Task<PilotResponse> EnrollAsync(string frontgateId, EnrollRequest request, CancellationToken cancellationToken)
    {
        // The request is checked before the token is consumed, so a malformed request does not burn it.
        if (CertificateAuthority.CheckSigningRequest(request.CsrPem) is { } csrError)
        {
            return Refused(csrError.Code, csrError.Message);
        }

        // A frontgate's token presented here is consumed like any other: it has reached a place it
        // should never be, and the frontgate it was meant for must get a new one.
        var redeemed = await joinTokens.RedeemAsync(request.JoinToken, cancellationToken);
        if (!redeemed.IsSuccess)
        {
            return Refused(redeemed.Error!.Code, redeemed.Error.Message);
        }

        var identity = redeemed.Value!;
        if (identity.Kind != AgentKind.Node)
        {
            return Refused(PilotErrorCodes.NodeTokenRequired, $"The join token was issued for {identity}; only node tokens enroll through a frontgate, frontgates enroll with Pilot directly.");
        }

        // Bound before the certificate exists: a node holding a certificate is always bound to its frontgate.
        await store.NodeEnrolledAsync(identity.Id, frontgateId, cancellationToken);
        return Issue(request.CsrPem, identity);
    }

    public async Task<PilotResponse> RenewAsync(string frontgateId, NodeRenewRequest request, CancellationToken cancellationToken)
    {
        if (!AgentIdentity.TryParse($"{AgentIdentity.Scheme}://node/{request.NodeId}", out var identity))
        {
            return Refused(PilotErrorCodes.NotYourNode, $"'{request.NodeId}' is not a node id.");
        }

        if (CertificateAuthority.CheckSigningRequest(request.CsrPem) is { } csrError)
        {
            return Refused(csrError.Code, csrError.Message);
        }

        var node = await store.FindNodeAsync(identity.Id, cancellationToken);
        if (node?.FrontgateId != frontgateId)
        {
            return Refused(PilotErrorCodes.NotYourNode, $"Node '{identity.Id}' did not enroll through frontgate '{frontgateId}'; only the frontgate a node enrolled through may renew its certificate.");
        }

        return Issue(request.CsrPem, identity);
    }

    private PilotResponse Issue(string csrPem, AgentIdentity identity)
    {
        var issued = ca.IssueClientCertificate(csrPem, identity, pki.Value.ClientCertificateLifetime);
        if (!issued.IsSuccess)
        {
            return Refused(issued.Error!.Code, issued.Error.Message);
        }

        using var certificate = issued.Value!;
        return new PilotResponse
        {
            Enrolled = new EnrollResponse
            {
                CertificatePem = certificate.ExportCertificatePem(),
                CaPem = ca.CertificatePem,
                Identity = identity.Uri,
            },
        };
    }

    private static PilotResponse Refused(string code, string message) =>
        new() { Error = new AgentError { Code = code, Message = message, Retryable = false } };

    /// <summary>The <see cref="Error"/> a refusal stands for, for logs.</summary>
    public static Error? ErrorOf(PilotResponse response) =>
        response.ResultCase == PilotResponse.ResultOneofCase.Error
            ? new Error(ErrorKind.Forbidden, response.Error.Code, response.Error.Message)
            : null;
}

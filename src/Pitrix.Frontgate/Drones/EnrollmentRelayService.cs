using Grpc.Core;
using Microsoft.Extensions.Options;
using Pitrix.Agent;
using Pitrix.Agent.Protocol.V1;
using Pitrix.Frontgate.Pilot;

namespace Pitrix.Frontgate.Drones;

/// <summary>
/// The <c>Enrollment</c> service on the drone listener: drones cannot reach Pilot, so each enrollment (no
/// certificate needed) and renewal (the node's current certificate names who renews) goes up the Pilot
/// stream as <c>enroll</c> / <c>renew_node</c>, and Pilot's answer comes back as the call's result, or as
/// the error Pilot gave with its code in the <c>pitrix-error-code</c> trailer.
/// </summary>
public sealed class EnrollmentRelayService(PilotLink pilot, IOptions<FrontgateOptions> options) : Enrollment.EnrollmentBase
{
    public override async Task<EnrollResponse> Enroll(EnrollRequest request, ServerCallContext context)
    {
        var answer = await pilot.RequestAsync(new FrontgateMessage { Enroll = request }, options.Value.EnrollmentRelayTimeout, context.CancellationToken);
        return Unwrap(answer);
    }

    public override async Task<EnrollResponse> Renew(RenewRequest request, ServerCallContext context)
    {
        var node = AgentPeer.Require(context, AgentKind.Node);
        var answer = await pilot.RequestAsync(
            new FrontgateMessage { RenewNode = new NodeRenewRequest { NodeId = node.Id, CsrPem = request.CsrPem } },
            options.Value.EnrollmentRelayTimeout,
            context.CancellationToken);
        return Unwrap(answer);
    }

    private static EnrollResponse Unwrap(PilotResponse answer) => answer.ResultCase switch
    {
        PilotResponse.ResultOneofCase.Enrolled => answer.Enrolled,
        PilotResponse.ResultOneofCase.Error => throw AgentRpc.Exception(StatusFor(answer.Error), answer.Error.Code, answer.Error.Message),
        _ => throw AgentRpc.Exception(StatusCode.Internal, FrontgateErrorCodes.InvalidRequest, "Pilot gave an empty answer."),
    };

    /// <summary>The gRPC status the enrollment service itself would have used for the code.</summary>
    private static StatusCode StatusFor(AgentError error) => error.Code switch
    {
        AgentErrorCodes.JoinTokenInvalid or AgentErrorCodes.JoinTokenExpired or AgentErrorCodes.JoinTokenUsed or AgentErrorCodes.WrongKind => StatusCode.PermissionDenied,
        AgentErrorCodes.CsrInvalid => StatusCode.InvalidArgument,
        AgentErrorCodes.Unauthenticated => StatusCode.Unauthenticated,
        FrontgateErrorCodes.Timeout => StatusCode.DeadlineExceeded,
        _ when error.Retryable => StatusCode.Unavailable,
        _ => StatusCode.FailedPrecondition,
    };
}

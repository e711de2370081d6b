namespace Pitrix.Pilot;

/// <summary>Stable codes of Pilot's own refusals, sent to frontgates in <c>AgentError</c> or the <c>pitrix-error-code</c> trailer.</summary>
public static class PilotErrorCodes
{
    /// <summary>A stream's first message was not <c>hello</c> (or none came in time).</summary>
    public const string HelloExpected = "pilot.hello_expected";

    /// <summary>The frontgate opened a newer stream; this one is closed.</summary>
    public const string ConnectionReplaced = "pilot.connection_replaced";

    /// <summary>Pilot is stopping; the frontgate should reconnect (to this or another server).</summary>
    public const string ShuttingDown = "pilot.shutting_down";

    /// <summary>A relayed enrollment carried a join token issued for something other than a node.</summary>
    public const string NodeTokenRequired = "enrollment.node_token_required";

    /// <summary>A frontgate asked for something about a node that did not enroll through it.</summary>
    public const string NotYourNode = "agent.not_your_node";

    /// <summary>A frontgate answered a request with a result of the wrong kind.</summary>
    public const string UnexpectedResponse = "agent.unexpected_response";
}

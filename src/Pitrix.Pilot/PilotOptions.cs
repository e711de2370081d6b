using System.Net;
using Microsoft.Extensions.Options;

namespace Pitrix.Pilot;

/// <summary>Settings of Pilot, the endpoint frontgates dial.</summary>
public sealed class PilotOptions
{
    public const string SectionName = "Agent:Pilot";

    /// <summary>
    /// Where Pilot's own TLS listener binds, as <c>address:port</c> (an IP address, not a host name).
    /// Port 0 takes a free port (tests); <see cref="PilotEndpoint"/> tells which. Default: <c>127.0.0.1:9114</c>.
    /// </summary>
    public string Listen { get; set; } = "127.0.0.1:9114";

    /// <summary>
    /// The address frontgates dial, handed out in join tickets, like <c>https://pilot.example.net:9114</c>.
    /// Default: <c>https://</c> and the listen address with the port actually bound; required when listening on all addresses.
    /// </summary>
    public string? PublicAddress { get; set; }

    /// <summary>
    /// Extra DNS names and IP addresses Pilot's server certificate names, besides <c>127.0.0.1</c>,
    /// <c>localhost</c>, the listen address and the host of <see cref="PublicAddress"/>. Default: none.
    /// </summary>
    public List<string> ServerNames { get; set; } = [];

    /// <summary>How long a request to a frontgate may wait for its answer before failing with <c>agent.timeout</c>. Default: 30 seconds.</summary>
    public TimeSpan CallTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a new stream may take to send its <c>hello</c>. Default: 10 seconds.</summary>
    public TimeSpan HelloTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The least time between two writes of a frontgate's last-seen time (heartbeats arrive more often). Default: 15 seconds.</summary>
    public TimeSpan LastSeenWriteInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// How often a wait for a command result reads the database, for results stored by another server
    /// process; results stored by this one wake the wait at once. Default: 1 second.
    /// </summary>
    public TimeSpan ResultPollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Lifetime of the server certificate Pilot issues itself from the CA at every start. Default: 365 days.</summary>
    public TimeSpan ServerCertificateLifetime { get; set; } = TimeSpan.FromDays(365);

    /// <summary>The parsed <see cref="Listen"/>; call only on validated options.</summary>
    public IPEndPoint ListenEndPoint => IPEndPoint.Parse(Listen);
}

/// <summary>Checks <see cref="PilotOptions"/>; messages name the configuration key.</summary>
public sealed class PilotOptionsValidator : IValidateOptions<PilotOptions>
{
    public ValidateOptionsResult Validate(string? name, PilotOptions options)
    {
        var failures = new List<string>();
        const string Section = PilotOptions.SectionName;
        if (!IPEndPoint.TryParse(options.Listen ?? "", out var listen) || !(options.Listen ?? "").Contains(':', StringComparison.Ordinal))
        {
            failures.Add($"{Section}:{nameof(PilotOptions.Listen)} must be an IP address and port, like 127.0.0.1:9114; '{options.Listen}' is not.");
        }
        else if ((listen.Address.Equals(IPAddress.Any) || listen.Address.Equals(IPAddress.IPv6Any)) && string.IsNullOrWhiteSpace(options.PublicAddress))
        {
            failures.Add($"{Section}:{nameof(PilotOptions.PublicAddress)} is required when {Section}:{nameof(PilotOptions.Listen)} is all addresses: frontgates must be told one address to dial.");
        }

        if (!string.IsNullOrWhiteSpace(options.PublicAddress)
            && (!Uri.TryCreate(options.PublicAddress, UriKind.Absolute, out var publicAddress) || publicAddress.Scheme != Uri.UriSchemeHttps || publicAddress.AbsolutePath != "/"))
        {
            failures.Add($"{Section}:{nameof(PilotOptions.PublicAddress)} must be an https URL with a host and an optional port only, like https://pilot.example.net:9114.");
        }

        if (options.ServerNames.Any(string.IsNullOrWhiteSpace))
        {
            failures.Add($"{Section}:{nameof(PilotOptions.ServerNames)} must not hold empty names.");
        }

        Positive(failures, options.CallTimeout, nameof(PilotOptions.CallTimeout));
        Positive(failures, options.HelloTimeout, nameof(PilotOptions.HelloTimeout));
        Positive(failures, options.LastSeenWriteInterval, nameof(PilotOptions.LastSeenWriteInterval));
        Positive(failures, options.ResultPollInterval, nameof(PilotOptions.ResultPollInterval));
        if (options.ServerCertificateLifetime < TimeSpan.FromHours(1))
        {
            failures.Add($"{Section}:{nameof(PilotOptions.ServerCertificateLifetime)} must be at least 1 hour.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Positive(List<string> failures, TimeSpan value, string key)
    {
        if (value <= TimeSpan.Zero)
        {
            failures.Add($"{PilotOptions.SectionName}:{key} must be positive.");
        }
    }
}

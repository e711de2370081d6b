using Microsoft.Extensions.Options;

namespace Pitrix.Agent;

/// <summary>Settings of the agent network's PKI and enrollment.</summary>
public sealed class AgentPkiOptions
{
    public const string SectionName = "Agent:Pki";

    /// <summary>
    /// Directory holding the CA (<c>ca.crt</c> and <c>ca.key</c>, mode 0600). Usually <c>&lt;data dir&gt;/pki</c>.
    /// Default: none; required.
    /// </summary>
    public string CaDirectory { get; set; } = "";

    /// <summary>
    /// Lifetime of client certificates issued at enrollment or renewal. Agents renew well before it ends.
    /// Default: 24 hours.
    /// </summary>
    public TimeSpan ClientCertificateLifetime { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Lifetime of join tokens. Default: 1 hour.</summary>
    public TimeSpan JoinTokenLifetime { get; set; } = TimeSpan.FromHours(1);
}

/// <summary>Checks <see cref="AgentPkiOptions"/>; messages name the configuration key.</summary>
public sealed class AgentPkiOptionsValidator : IValidateOptions<AgentPkiOptions>
{
    public ValidateOptionsResult Validate(string? name, AgentPkiOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.CaDirectory))
        {
            failures.Add($"{AgentPkiOptions.SectionName}:{nameof(AgentPkiOptions.CaDirectory)} is required.");
        }

        if (options.ClientCertificateLifetime < TimeSpan.FromMinutes(5) || options.ClientCertificateLifetime > TimeSpan.FromDays(30))
        {
            failures.Add($"{AgentPkiOptions.SectionName}:{nameof(AgentPkiOptions.ClientCertificateLifetime)} must be between 5 minutes and 30 days.");
        }

        if (options.JoinTokenLifetime < TimeSpan.FromMinutes(1) || options.JoinTokenLifetime > TimeSpan.FromDays(7))
        {
            failures.Add($"{AgentPkiOptions.SectionName}:{nameof(AgentPkiOptions.JoinTokenLifetime)} must be between 1 minute and 7 days.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

namespace Pitrix.Core.Runtimes;

/// <summary>
/// A cloud provider plugin as the runtime catalog sees it: its stable name, whether runtimes need a
/// credential, and a check that a runtime is usable. Registered explicitly by the host.
/// </summary>
public interface IRuntimeProvider
{
    /// <summary>Stable lower-case key, for example <c>local</c> or <c>kubernetes</c>.</summary>
    string Name { get; }

    /// <summary>Human name for lists.</summary>
    string DisplayName { get; }

    /// <summary>True when a runtime of this provider must reference a credential.</summary>
    bool RequiresCredential { get; }

    /// <summary>Checks the zone's syntax before a runtime is saved; returns an error message or null.</summary>
    string? ValidateZone(string zone);

    /// <summary>Checks that the runtime can be used now (reachable, permitted, writable...).</summary>
    Task<RuntimeValidationReport> ValidateAsync(RuntimeValidationContext context, CancellationToken cancellationToken);
}

/// <summary>What a provider gets to validate a runtime. <see cref="Secret"/> is decrypted only for this call.</summary>
public sealed record RuntimeValidationContext(
    string RuntimeId,
    string Zone,
    IReadOnlyDictionary<string, string> Labels,
    string? EndpointUrl,
    string? Secret);

/// <summary>One named check of a validation and its outcome.</summary>
public sealed record RuntimeCheck(string Name, bool Ok, string Message);

/// <summary>The outcome of <see cref="IRuntimeProvider.ValidateAsync"/>.</summary>
public sealed record RuntimeValidationReport(IReadOnlyList<RuntimeCheck> Checks)
{
    public bool Ok => Checks.All(c => c.Ok);
}

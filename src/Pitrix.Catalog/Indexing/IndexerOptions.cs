using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Pitrix.Packages.Repos;

namespace Pitrix.Catalog.Indexing;

/// <summary>How the indexer polls, leases and fetches.</summary>
public sealed class IndexerOptions
{
    public const string SectionName = "Indexer";

    /// <summary>Longest <see cref="InstanceId"/>: the lease owner column holds it plus a sync id.</summary>
    public const int MaxInstanceIdLength = 100;

    /// <summary>
    /// How often the indexer looks for queued and scheduled syncs when nothing wakes it earlier (a sync
    /// requested in this process wakes it at once). Default: 5 seconds.
    /// </summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a repo's sync lease lasts without a heartbeat; the holder extends it every third of this.
    /// After a crash another instance may sync the repo once it lapses. Default: 2 minutes.
    /// </summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Syncs this process runs at once (each on a different repo). Default: 2.</summary>
    public int MaxConcurrentSyncs { get; set; } = 2;

    /// <summary>Packages one sync fetches and reads at once for their details. Default: 4.</summary>
    public int PackageFetchConcurrency { get; set; } = 4;

    /// <summary>Largest <c>index.yaml</c> accepted, in bytes. Default: 32 MiB (the parser's own limit, which is also the maximum).</summary>
    public int MaxIndexBytes { get; set; } = RepoIndex.MaxBytes;

    /// <summary>
    /// Names this process in leases and sync records; must differ between instances sharing a database.
    /// Default: machine name, process id and a random suffix.
    /// </summary>
    public string InstanceId { get; set; } = DefaultInstanceId();

    private static string DefaultInstanceId()
    {
        var machine = Environment.MachineName;
        if (machine.Length > 64)
        {
            machine = machine[..64];
        }

        return $"{machine}-{Environment.ProcessId}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))}";
    }
}

public sealed class IndexerOptionsValidator : IValidateOptions<IndexerOptions>
{
    public ValidateOptionsResult Validate(string? name, IndexerOptions options)
    {
        var failures = new List<string>();
        if (options.PollInterval <= TimeSpan.Zero || options.PollInterval > TimeSpan.FromHours(1))
        {
            failures.Add($"Indexer:PollInterval must be between 00:00:00.001 and 01:00:00, not {options.PollInterval}.");
        }

        if (options.LeaseDuration < TimeSpan.FromSeconds(3) || options.LeaseDuration > TimeSpan.FromHours(1))
        {
            failures.Add($"Indexer:LeaseDuration must be between 00:00:03 and 01:00:00, not {options.LeaseDuration}.");
        }

        if (options.MaxConcurrentSyncs is < 1 or > 64)
        {
            failures.Add($"Indexer:MaxConcurrentSyncs must be between 1 and 64, not {options.MaxConcurrentSyncs}.");
        }

        if (options.PackageFetchConcurrency is < 1 or > 64)
        {
            failures.Add($"Indexer:PackageFetchConcurrency must be between 1 and 64, not {options.PackageFetchConcurrency}.");
        }

        if (options.MaxIndexBytes < 1 || options.MaxIndexBytes > RepoIndex.MaxBytes)
        {
            failures.Add($"Indexer:MaxIndexBytes must be between 1 and {RepoIndex.MaxBytes}, not {options.MaxIndexBytes}.");
        }

        if (string.IsNullOrWhiteSpace(options.InstanceId) || options.InstanceId.Length > IndexerOptions.MaxInstanceIdLength)
        {
            failures.Add($"Indexer:InstanceId must be 1 to {IndexerOptions.MaxInstanceIdLength} characters.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

using Microsoft.Extensions.Options;

namespace Pitrix.Frontgate;

/// <summary>Settings of <c>pitrix-frontgate</c> beyond its bootstrap file, bound from <see cref="SectionName"/>.</summary>
public sealed class FrontgateOptions
{
    public const string SectionName = "Frontgate";

    /// <summary>Where the metadata of the network's clusters is kept.</summary>
    public FrontgateMetadataOptions Metadata { get; set; } = new();

    /// <summary>How often a heartbeat goes up the Pilot stream. Default: 10 seconds.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The first delay before dialing Pilot again after a failure; it doubles (with jitter) per failure. Default: 0.5 seconds.</summary>
    public TimeSpan ReconnectMinDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The longest delay between two attempts to reach Pilot. Default: 30 seconds.</summary>
    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a request relayed to a drone may wait for its answer before it fails with <c>agent.timeout</c>. Default: 20 seconds.</summary>
    public TimeSpan DroneRequestTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>How long a drone's enrollment or renewal relayed to Pilot may wait for Pilot's answer. Default: 20 seconds.</summary>
    public TimeSpan EnrollmentRelayTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// How long a report stays in the outbox after it was written to a Pilot stream: a stream that breaks
    /// within this time may have lost it in flight, so it is sent again on the next stream (Pilot dedupes).
    /// Default: 5 seconds.
    /// </summary>
    public TimeSpan ReportConfirmDelay { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>The metadata backend of a frontgate.</summary>
public sealed class FrontgateMetadataOptions
{
    /// <summary><c>embedded</c> (a SQLite file in the data directory) or <c>etcd</c>. Default: embedded.</summary>
    public string Backend { get; set; } = MetadataBackends.Embedded;

    public FrontgateEtcdOptions Etcd { get; set; } = new();
}

/// <summary>The etcd backend's settings.</summary>
public sealed class FrontgateEtcdOptions
{
    /// <summary>Comma-separated client URLs, like <c>http://127.0.0.1:2379</c>. Default: none; required with the etcd backend.</summary>
    public string Endpoints { get; set; } = "";

    /// <summary>The key prefix under which each cluster's root <c>&lt;cluster_id&gt;/</c> lives. Default: <c>/pitrix/clusters/</c>.</summary>
    public string Prefix { get; set; } = "/pitrix/clusters/";

    /// <summary>The deadline of one etcd call. Default: 10 seconds.</summary>
    public TimeSpan CallTimeout { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>Names of the metadata backends.</summary>
public static class MetadataBackends
{
    public const string Embedded = "embedded";

    public const string Etcd = "etcd";
}

/// <summary>Checks <see cref="FrontgateOptions"/>; messages name the configuration key.</summary>
public sealed class FrontgateOptionsValidator : IValidateOptions<FrontgateOptions>
{
    public ValidateOptionsResult Validate(string? name, FrontgateOptions options)
    {
        const string section = FrontgateOptions.SectionName;
        var failures = new List<string>();
        var backend = options.Metadata.Backend;
        if (backend is not (MetadataBackends.Embedded or MetadataBackends.Etcd))
        {
            failures.Add($"{section}:Metadata:Backend must be '{MetadataBackends.Embedded}' or '{MetadataBackends.Etcd}', not '{backend}'.");
        }

        if (backend == MetadataBackends.Etcd)
        {
            var endpoints = options.Metadata.Etcd.Endpoints.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (endpoints.Length == 0)
            {
                failures.Add($"{section}:Metadata:Etcd:Endpoints is required with the etcd backend (comma-separated URLs like http://127.0.0.1:2379).");
            }

            foreach (var endpoint in endpoints)
            {
                if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                {
                    failures.Add($"{section}:Metadata:Etcd:Endpoints holds '{endpoint}', which is not an http(s) URL.");
                }
            }

            var prefix = options.Metadata.Etcd.Prefix;
            if (!prefix.StartsWith('/') || !prefix.EndsWith('/'))
            {
                failures.Add($"{section}:Metadata:Etcd:Prefix must start and end with '/'.");
            }

            if (options.Metadata.Etcd.CallTimeout <= TimeSpan.Zero)
            {
                failures.Add($"{section}:Metadata:Etcd:CallTimeout must be positive.");
            }
        }

        Positive(options.HeartbeatInterval, nameof(FrontgateOptions.HeartbeatInterval));
        Positive(options.ReconnectMinDelay, nameof(FrontgateOptions.ReconnectMinDelay));
        Positive(options.DroneRequestTimeout, nameof(FrontgateOptions.DroneRequestTimeout));
        Positive(options.EnrollmentRelayTimeout, nameof(FrontgateOptions.EnrollmentRelayTimeout));
        if (options.ReportConfirmDelay < TimeSpan.Zero)
        {
            failures.Add($"{section}:{nameof(FrontgateOptions.ReportConfirmDelay)} must not be negative.");
        }

        if (options.ReconnectMaxDelay < options.ReconnectMinDelay)
        {
            failures.Add($"{section}:{nameof(FrontgateOptions.ReconnectMaxDelay)} must not be less than {nameof(FrontgateOptions.ReconnectMinDelay)}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);

        void Positive(TimeSpan value, string key)
        {
            if (value <= TimeSpan.Zero)
            {
                failures.Add($"{section}:{key} must be positive.");
            }
        }
    }
}

using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pitrix.Core.Cloud;
using Pitrix.Core.Hosting;
using Pitrix.Core.Runtimes;

namespace Pitrix.Providers.Local;

/// <summary>
/// The <c>local</c> provider: the zone names a work directory under <see cref="LocalRuntimeOptions.WorkRoot"/>,
/// and <see cref="OpenDriver"/> opens the <see cref="LocalCloud"/> rooted there. Needs no credential.
/// </summary>
public sealed partial class LocalRuntimeProvider(
    IOptions<LocalRuntimeOptions> options,
    DataDirectory dataDirectory,
    ILogger<LocalCloud>? cloudLogger = null,
    TimeProvider? timeProvider = null) : IRuntimeProvider, IVmRuntimeProvider
{
    public const string ProviderName = "local";

    public string Name => ProviderName;

    public string DisplayName => "Local (this machine)";

    public bool RequiresCredential => false;

    public string WorkRoot => options.Value.WorkRoot ?? Path.Combine(dataDirectory.Path, "local");

    public string? ValidateZone(string zone) =>
        ZonePattern().IsMatch(zone) && !zone.Contains("..", StringComparison.Ordinal)
            ? null
            : "A local zone is 1-63 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit; it names a work directory.";

    public async Task<RuntimeValidationReport> ValidateAsync(RuntimeValidationContext context, CancellationToken cancellationToken)
    {
        var checks = new List<RuntimeCheck>();
        if (ValidateZone(context.Zone) is { } zoneError)
        {
            checks.Add(new RuntimeCheck("zone", false, zoneError));
            return new RuntimeValidationReport(checks);
        }

        var (isolation, isolationError) = LocalIsolationLabel.Parse(context.Labels);
        if (isolationError is not null)
        {
            checks.Add(new RuntimeCheck("isolation", false, isolationError));
        }
        else if (isolation == LocalIsolation.Netns)
        {
            checks.Add(await CheckNetnsAsync(cancellationToken));
        }

        var directory = Path.Combine(WorkRoot, context.Zone);
        var probe = Path.Combine(directory, $".pitrix-probe-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(probe);
            await File.WriteAllTextAsync(Path.Combine(probe, "probe"), context.RuntimeId, cancellationToken);
            Directory.Delete(probe, recursive: true);
            checks.Add(new RuntimeCheck("work_directory", true, $"Created and removed a work directory under {directory}."));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            checks.Add(new RuntimeCheck("work_directory", false, $"Cannot create a work directory under {directory}: {ex.Message}"));
        }

        return new RuntimeValidationReport(checks);
    }

    /// <summary>
    /// The <see cref="LocalCloud"/> of the runtime's zone, <c>{WorkRoot}/{zone}</c>. Throws
    /// <see cref="CloudErrorCodes.InvalidRequest"/> for a zone that is not a directory name and
    /// <see cref="CloudErrorCodes.InvalidState"/> off Linux, where the local cloud does not run.
    /// </summary>
    public ICloudDriver OpenDriver(CloudTarget target)
    {
        if (ValidateZone(target.Zone) is { } zoneError)
        {
            throw CloudException.InvalidRequest(zoneError);
        }

        var (isolation, isolationError) = LocalIsolationLabel.Parse(target.Labels);
        if (isolationError is not null)
        {
            throw CloudException.InvalidRequest(isolationError);
        }

        return OperatingSystem.IsLinux()
            ? new LocalCloud(Path.Combine(WorkRoot, target.Zone), options.Value, launcher: null, timeProvider, cloudLogger, isolation)
            : throw CloudException.InvalidState("The local runtime runs instances on Linux only.");
    }

    /// <summary>
    /// A /24 derived from the runtime id: in <c>127.64.0.0/10</c> for loopback isolation, in
    /// <c>198.18.0.0/15</c> (benchmarking space, on no real network) for netns isolation.
    /// </summary>
    public string DefaultNetworkCidr(CloudTarget target)
    {
        var hash = BinaryPrimitives.ReadUInt32BigEndian(SHA256.HashData(Encoding.UTF8.GetBytes(target.RuntimeId)));
        return LocalIsolationLabel.Parse(target.Labels).Isolation == LocalIsolation.Netns
            ? $"198.{18 + (hash % 2)}.{(hash >> 8) % 256}.0/24"
            : $"127.{64 + (hash % 64)}.{(hash >> 8) % 256}.0/24";
    }

    /// <summary>Netns isolation needs root, iproute2 and nsenter: a namespace is made and removed to prove it.</summary>
    private static async Task<RuntimeCheck> CheckNetnsAsync(CancellationToken cancellationToken)
    {
        if (!OperatingSystem.IsLinux() || !Environment.IsPrivilegedProcess)
        {
            return new RuntimeCheck("isolation", false, "isolation=netns makes network namespaces, which needs the server to run as root on Linux.");
        }

        if (!File.Exists("/usr/bin/nsenter") && !File.Exists("/bin/nsenter"))
        {
            return new RuntimeCheck("isolation", false, "isolation=netns needs nsenter (util-linux).");
        }

        try
        {
            var name = await NetnsPlumbing.ProbeAsync(cancellationToken);
            return new RuntimeCheck("isolation", true, $"Made and removed the network namespace {name}.");
        }
        catch (CloudException e)
        {
            return new RuntimeCheck("isolation", false, $"isolation=netns cannot make network namespaces here: {e.Message}");
        }
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,62}$")]
    private static partial Regex ZonePattern();
}

public static class LocalProviderServiceCollectionExtensions
{
    /// <summary>
    /// Registers the <c>local</c> runtime provider, one singleton serving as both <see cref="IRuntimeProvider"/>
    /// and <see cref="IVmRuntimeProvider"/>, with its options (<see cref="LocalRuntimeOptions.SectionName"/>)
    /// validated at start.
    /// </summary>
    public static IServiceCollection AddLocalProvider(this IServiceCollection services)
    {
        services.AddOptions<LocalRuntimeOptions>().BindConfiguration(LocalRuntimeOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<LocalRuntimeOptions>, LocalRuntimeOptionsValidator>());
        services.TryAddSingleton<LocalRuntimeProvider>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRuntimeProvider, LocalRuntimeProvider>(sp => sp.GetRequiredService<LocalRuntimeProvider>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IVmRuntimeProvider, LocalRuntimeProvider>(sp => sp.GetRequiredService<LocalRuntimeProvider>()));
        return services;
    }
}

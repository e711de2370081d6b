using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Pitrix.Core.Hosting;
using Pitrix.Core.Runtimes;

namespace Pitrix.Providers.Local;

/// <summary>Settings of the <c>local</c> provider, which runs applications on the server's own machine.</summary>
public sealed class LocalRuntimeOptions
{
    public const string SectionName = "Providers:Local";

    /// <summary>Directory under which each local runtime's zone gets a work directory. Default: <c>{data directory}/local</c>.</summary>
    public string? WorkRoot { get; set; }
}

/// <summary>
/// The <c>local</c> provider: the zone names a work directory under <see cref="LocalRuntimeOptions.WorkRoot"/>.
/// Needs no credential.
/// </summary>
public sealed partial class LocalRuntimeProvider(IOptions<LocalRuntimeOptions> options, DataDirectory dataDirectory) : IRuntimeProvider
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

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,62}$")]
    private static partial Regex ZonePattern();
}

public static class LocalProviderServiceCollectionExtensions
{
    /// <summary>Registers the <c>local</c> runtime provider.</summary>
    public static IServiceCollection AddLocalProvider(this IServiceCollection services)
    {
        services.AddOptions<LocalRuntimeOptions>().BindConfiguration(LocalRuntimeOptions.SectionName);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRuntimeProvider, LocalRuntimeProvider>());
        return services;
    }
}

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Pitrix.Packages.Helm;

/// <summary>Where the real helm binary is.</summary>
public sealed class HelmOptions
{
    public const string SectionName = "Helm";

    /// <summary>Path of the helm executable (3.17+ or 4.x). Default: <c>helm</c>, found on PATH.</summary>
    public string Path { get; set; } = "helm";

    /// <summary>Longest a single helm invocation may run. Default: 2 minutes.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How often the engine re-reads every running release's cluster view from its API server (drift). Default: 30 seconds.</summary>
    public TimeSpan ObserveInterval { get; set; } = TimeSpan.FromSeconds(30);
}

public sealed class HelmOptionsValidator : IValidateOptions<HelmOptions>
{
    public ValidateOptionsResult Validate(string? name, HelmOptions options) =>
        string.IsNullOrWhiteSpace(options.Path) ? ValidateOptionsResult.Fail("Helm:Path must name the helm executable.")
        : options.Timeout <= TimeSpan.Zero ? ValidateOptionsResult.Fail("Helm:Timeout must be positive.")
        : options.ObserveInterval < TimeSpan.FromSeconds(1) ? ValidateOptionsResult.Fail("Helm:ObserveInterval must be at least one second.")
        : ValidateOptionsResult.Success;
}

public static class HelmServiceCollectionExtensions
{
    /// <summary>Registers <see cref="HelmCli"/> for the configured <c>Helm:Path</c>.</summary>
    public static IServiceCollection AddHelm(this IServiceCollection services)
    {
        services.AddOptions<HelmOptions>().BindConfiguration(HelmOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<HelmOptions>, HelmOptionsValidator>();
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<HelmOptions>>().Value;
            return new HelmCli(options.Path, options.Timeout);
        });
        return services;
    }
}

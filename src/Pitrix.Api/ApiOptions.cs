using Microsoft.Extensions.Options;

namespace Pitrix.Api;

/// <summary>HTTP API limits.</summary>
public sealed class ApiOptions
{
    public const string SectionName = "Api";

    /// <summary>Largest request body accepted, in bytes. Default: 1 MiB.</summary>
    public long MaxRequestBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>Largest package upload (<c>POST /apps</c>), in bytes. Default: 20 MiB.</summary>
    public long MaxPackageBytes { get; set; } = 20L * 1024 * 1024;
}

public sealed class ApiOptionsValidator : IValidateOptions<ApiOptions>
{
    public ValidateOptionsResult Validate(string? name, ApiOptions options) =>
        options.MaxRequestBodyBytes is < 1024 or > 1L << 34
            ? ValidateOptionsResult.Fail("Api:MaxRequestBodyBytes must be between 1024 and 16 GiB.")
            : options.MaxPackageBytes is < 1024 or > 1L << 32
            ? ValidateOptionsResult.Fail("Api:MaxPackageBytes must be between 1024 and 4 GiB.")
            : ValidateOptionsResult.Success;
}

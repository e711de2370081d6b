using Microsoft.Extensions.Options;

namespace Pitrix.Server;

/// <summary>What this server process is and where it keeps its files.</summary>
public sealed class ServerOptions
{
    public const string SectionName = "Server";

    public static IReadOnlyList<string> KnownRoles { get; } = ["api", "engine", "indexer", "pilot"];

    /// <summary>Data directory: SQLite file, key ring, local runtime work area. Default: <c>./.pitrix-data</c>.</summary>
    public string DataDirectory { get; set; } = ".pitrix-data";

    /// <summary>Comma-separated roles this process runs (<c>api,engine,indexer,pilot</c>). Default: all.</summary>
    public string Roles { get; set; } = string.Join(',', KnownRoles);

    public IReadOnlySet<string> RoleSet =>
        Roles.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.OrdinalIgnoreCase);
}

public sealed class ServerOptionsValidator : IValidateOptions<ServerOptions>
{
    public ValidateOptionsResult Validate(string? name, ServerOptions options)
    {
        var unknown = options.RoleSet.Where(r => !ServerOptions.KnownRoles.Contains(r, StringComparer.OrdinalIgnoreCase)).ToList();
        if (unknown.Count > 0)
        {
            return ValidateOptionsResult.Fail($"Server:Roles (--roles) has unknown role(s) {string.Join(", ", unknown)}; known roles are {string.Join(", ", ServerOptions.KnownRoles)}.");
        }

        return options.RoleSet.Count == 0
            ? ValidateOptionsResult.Fail("Server:Roles (--roles) must name at least one role.")
            : ValidateOptionsResult.Success;
    }
}

using Microsoft.Extensions.Options;

namespace Pitrix.Providers.Local;

/// <summary>Settings of the <c>local</c> provider, which runs applications on the server's own machine.</summary>
public sealed class LocalRuntimeOptions
{
    public const string SectionName = "Providers:Local";

    /// <summary>Directory under which each local runtime's zone gets a work directory. Default: <c>{data directory}/local</c>.</summary>
    public string? WorkRoot { get; set; }

    /// <summary>
    /// The command that runs a node's agent (<c>pitrix-drone</c>): an executable, or a <c>.dll</c> run with the
    /// current <c>dotnet</c> host. A relative path is resolved against the server's own directory
    /// (<see cref="AppContext.BaseDirectory"/>). Default: <c>pitrix-drone</c> (apphost) or
    /// <c>pitrix-drone.dll</c> beside the server binary.
    /// </summary>
    public string? DroneCommand { get; set; }

    /// <summary>
    /// The command that runs a frontgate instance's agent (<c>pitrix-frontgate</c>), resolved as
    /// <see cref="DroneCommand"/>. Default: <c>pitrix-frontgate</c> (apphost) or <c>pitrix-frontgate.dll</c>
    /// beside the server binary.
    /// </summary>
    public string? FrontgateCommand { get; set; }

    /// <summary>
    /// How long a stopping instance's processes get between SIGTERM and SIGKILL. Default: 10 seconds.
    /// </summary>
    public TimeSpan StopGracePeriod { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The size past which an instance's <c>agent.log</c> is rotated to <c>agent.log.1</c> (the previous one is
    /// dropped) when the agent starts or the instance is described. Default: 10 MiB.
    /// </summary>
    public long MaxAgentLogBytes { get; set; } = 10 * 1024 * 1024;
}

/// <summary>Checks <see cref="LocalRuntimeOptions"/> at start; each message names its key.</summary>
public sealed class LocalRuntimeOptionsValidator : IValidateOptions<LocalRuntimeOptions>
{
    public ValidateOptionsResult Validate(string? name, LocalRuntimeOptions options)
    {
        var failures = new List<string>();
        if (options.StopGracePeriod <= TimeSpan.Zero || options.StopGracePeriod > TimeSpan.FromMinutes(10))
        {
            failures.Add($"{LocalRuntimeOptions.SectionName}:StopGracePeriod must be more than 0 and at most 10 minutes, not {options.StopGracePeriod}.");
        }

        if (options.MaxAgentLogBytes < 64 * 1024)
        {
            failures.Add($"{LocalRuntimeOptions.SectionName}:MaxAgentLogBytes must be at least 65536, not {options.MaxAgentLogBytes}.");
        }

        foreach (var (key, command) in new[] { ("DroneCommand", options.DroneCommand), ("FrontgateCommand", options.FrontgateCommand) })
        {
            if (command is null)
            {
                continue;
            }

            if (string.IsNullOrWhiteSpace(command))
            {
                failures.Add($"{LocalRuntimeOptions.SectionName}:{key} is empty; leave it out to use the agent beside the server.");
            }
            else if (!File.Exists(AgentCommands.ResolvePath(command)))
            {
                failures.Add($"{LocalRuntimeOptions.SectionName}:{key} names '{AgentCommands.ResolvePath(command)}', which does not exist.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

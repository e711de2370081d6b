using Pitrix.Core.Agents;
using Pitrix.Core.Cloud;

namespace Pitrix.Providers.Local;

/// <summary>How an agent is run: the file to execute and the arguments that come before the agent's own.</summary>
/// <param name="FileName">An executable path, or <c>dotnet</c> for a <c>.dll</c>.</param>
/// <param name="Prefix">Arguments before the agent's own: the <c>.dll</c> when run with <c>dotnet</c>.</param>
public sealed record AgentCommand(string FileName, IReadOnlyList<string> Prefix);

/// <summary>Finds the command of each agent kind from <see cref="LocalRuntimeOptions"/>.</summary>
internal static class AgentCommands
{
    public static string ResolvePath(string command) =>
        Path.IsPathRooted(command) ? command : Path.GetFullPath(command, AppContext.BaseDirectory);

    /// <summary>
    /// The command of <paramref name="agent"/>. Throws <see cref="CloudErrorCodes.InvalidRequest"/> for an agent
    /// kind that is not <see cref="AgentKinds.Node"/> or <see cref="AgentKinds.Frontgate"/>, and
    /// <see cref="CloudErrorCodes.InvalidState"/> when its file does not exist: a setting to fix, not a retry.
    /// </summary>
    public static AgentCommand Resolve(string agent, LocalRuntimeOptions options)
    {
        var (configured, key, name) = agent switch
        {
            AgentKinds.Node => (options.DroneCommand, "DroneCommand", "pitrix-drone"),
            AgentKinds.Frontgate => (options.FrontgateCommand, "FrontgateCommand", "pitrix-frontgate"),
            _ => throw CloudException.InvalidRequest($"The instance's bootstrap names agent '{agent}'; the local runtime runs '{AgentKinds.Node}' or '{AgentKinds.Frontgate}'."),
        };

        string path;
        if (configured is not null)
        {
            path = ResolvePath(configured);
            if (!File.Exists(path))
            {
                throw CloudException.InvalidState($"The local runtime cannot start a '{agent}' agent: {LocalRuntimeOptions.SectionName}:{key} names '{path}', which does not exist.");
            }
        }
        else
        {
            var apphost = Path.Combine(AppContext.BaseDirectory, name);
            var dll = apphost + ".dll";
            path = File.Exists(apphost) ? apphost
                : File.Exists(dll) ? dll
                : throw CloudException.InvalidState($"The local runtime cannot start a '{agent}' agent: neither '{apphost}' nor '{dll}' exists; set {LocalRuntimeOptions.SectionName}:{key}.");
        }

        return path.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) ? new AgentCommand(DotnetHost(), [path]) : new AgentCommand(path, []);
    }

    /// <summary>The <c>dotnet</c> host running this process when there is one, so an agent runs on the same runtime.</summary>
    private static string DotnetHost()
    {
        if (Environment.ProcessPath is { } current && Path.GetFileNameWithoutExtension(current) == "dotnet")
        {
            return current;
        }

        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } hostPath && File.Exists(hostPath))
        {
            return hostPath;
        }

        if (Environment.GetEnvironmentVariable("DOTNET_ROOT") is { Length: > 0 } root && File.Exists(Path.Combine(root, "dotnet")))
        {
            return Path.Combine(root, "dotnet");
        }

        return "dotnet";
    }
}

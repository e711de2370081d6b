namespace Pitrix.Drone;

/// <summary>
/// The node's filesystem root: <c>/</c> on a real VM; on the local runtime a directory tree standing for the
/// node's disk. Absolute paths the package names (a confd <c>dest</c>, a script like
/// <c>/opt/pitrix/app/scripts/start.sh</c>) are mapped under it, so one machine can hold many nodes.
/// </summary>
public sealed class NodeRoot
{
    /// <summary>Where a node's app files are installed, relative to the node root.</summary>
    public const string AppDirectoryPath = "/opt/pitrix/app";

    public NodeRoot(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = global::System.IO.Path.GetFullPath(path);
        Path = full.Length > 1 ? full.TrimEnd('/') : full;
    }

    /// <summary>The real machine's root: paths are used as they are.</summary>
    public static NodeRoot System { get; } = new("/");

    /// <summary>The root directory, fully qualified, without a trailing slash (except <c>/</c> itself).</summary>
    public string Path { get; }

    /// <summary>True when the root is <c>/</c>, so mapping changes nothing.</summary>
    public bool IsSystemRoot => Path == "/";

    /// <summary>The node's app directory, <c>&lt;root&gt;/opt/pitrix/app</c>.</summary>
    public string AppDirectory => Map(AppDirectoryPath);

    /// <summary>Maps an absolute node path under the root (<c>/etc/zoo.cfg</c> → <c>&lt;root&gt;/etc/zoo.cfg</c>); relative paths are returned as they are.</summary>
    public string Map(string nodePath)
    {
        if (IsSystemRoot || !global::System.IO.Path.IsPathRooted(nodePath))
        {
            return nodePath;
        }

        // Normalised before joining so that "/../x" cannot climb out of the root.
        var normalised = global::System.IO.Path.GetFullPath(nodePath);
        return normalised == "/" ? Path : Path + normalised;
    }

    /// <summary>
    /// The argv to run: an absolute <c>argv[0]</c> that exists under the root (an app script) runs from there;
    /// anything else (a system binary such as <c>/bin/sh</c> or <c>test</c>) runs as it is.
    /// </summary>
    public IReadOnlyList<string> ResolveCommand(IReadOnlyList<string> argv)
    {
        if (IsSystemRoot || argv.Count == 0 || !global::System.IO.Path.IsPathRooted(argv[0]))
        {
            return argv;
        }

        var mapped = Map(argv[0]);
        return File.Exists(mapped) ? [mapped, .. argv.Skip(1)] : argv;
    }
}

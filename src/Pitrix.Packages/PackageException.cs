namespace Pitrix.Packages;

/// <summary>
/// A package, archive or index that cannot be accepted. <see cref="Code"/> is stable (for example
/// <c>archive.path_traversal</c>); <see cref="Path"/> names the file inside the package when known.
/// </summary>
public sealed class PackageException(string code, string message, string? path = null) : Exception(path is null ? message : $"{path}: {message}")
{
    public string Code { get; } = code;

    public string? Path { get; } = path;
}

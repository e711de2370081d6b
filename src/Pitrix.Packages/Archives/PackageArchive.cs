namespace Pitrix.Packages.Archives;

/// <summary>The files of a package archive, read safely into memory, with the archive's sha256.</summary>
public sealed class PackageArchive
{
    internal PackageArchive(IReadOnlyDictionary<string, byte[]> files, string sha256, long compressedBytes)
    {
        Files = files;
        Sha256 = sha256;
        CompressedBytes = compressedBytes;
        var roots = files.Keys.Select(k => k.Split('/')[0]).Distinct(StringComparer.Ordinal).ToList();
        RootDirectory = roots.Count == 1 && files.Keys.All(k => k.Contains('/', StringComparison.Ordinal)) ? roots[0] : null;
    }

    /// <summary>Regular files by normalized relative path (forward slashes, no leading <c>./</c>).</summary>
    public IReadOnlyDictionary<string, byte[]> Files { get; }

    /// <summary>Lower-case hex sha256 of the archive bytes as read.</summary>
    public string Sha256 { get; }

    public long CompressedBytes { get; }

    /// <summary>The single top-level directory all files live in (Helm charts have one), or null.</summary>
    public string? RootDirectory { get; }

    /// <summary>The files relative to <see cref="RootDirectory"/> when there is one.</summary>
    public IReadOnlyDictionary<string, byte[]> ContentFiles => RootDirectory is null
        ? Files
        : Files.ToDictionary(f => f.Key[(RootDirectory.Length + 1)..], f => f.Value, StringComparer.Ordinal);
}

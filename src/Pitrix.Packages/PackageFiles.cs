using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using Pitrix.Packages.Archives;
using Pitrix.Packages.Helm;
using Pitrix.Packages.Repos;
using Pitrix.Packages.VmCluster;

namespace Pitrix.Packages;

/// <summary>The two package formats.</summary>
public static class PackageFormat
{
    public const string VmCluster = "vmcluster";
    public const string Helm = "helm";

    /// <summary>Tells the format from the files: <c>package.json</c> is vmcluster, <c>Chart.yaml</c> is Helm.</summary>
    public static string Detect(IReadOnlyDictionary<string, byte[]> files) =>
        files.ContainsKey(PackageMetadata.FileName) ? VmCluster
        : files.ContainsKey("Chart.yaml") ? Helm
        : throw new PackageException("package.unknown_format", "Neither package.json (vmcluster) nor Chart.yaml (Helm) is at the package root.");
}

/// <summary>What the catalog and the index need to know of a package, whatever its format.</summary>
public sealed record PackageSummary(string Format, string Name, string Version, string? AppVersion, string? Description, string? Icon, string? Home, IReadOnlyList<string> Keywords)
{
    public static PackageSummary Read(IReadOnlyDictionary<string, byte[]> files)
    {
        var format = PackageFormat.Detect(files);
        if (format == PackageFormat.VmCluster)
        {
            var metadata = PackageMetadata.Parse(Encoding.UTF8.GetString(files[PackageMetadata.FileName]));
            return new PackageSummary(format, metadata.Name, metadata.Version, metadata.AppVersion, metadata.Description, metadata.Icon, metadata.Home, metadata.Keywords);
        }

        var chart = HelmChart.Read(files);
        var keywords = chart.Metadata["keywords"] is JsonArray k ? k.Select(x => x?.ToString() ?? "").ToList() : [];
        return new PackageSummary(format, chart.Name, chart.Version, chart.AppVersion, chart.Description, (string?)chart.Metadata["icon"], (string?)chart.Metadata["home"], keywords);
    }

    /// <summary>The index entry for this package, with the package's own metadata fields.</summary>
    public IndexEntry ToIndexEntry(string digest, IEnumerable<string> urls, string created)
    {
        var metadata = new Dictionary<string, object?>(StringComparer.Ordinal) { ["format"] = Format };
        if (AppVersion is not null)
        {
            metadata["appVersion"] = AppVersion;
        }

        if (Description is not null)
        {
            metadata["description"] = Description;
        }

        if (Icon is not null)
        {
            metadata["icon"] = Icon;
        }

        if (Home is not null)
        {
            metadata["home"] = Home;
        }

        if (Keywords.Count > 0)
        {
            metadata["keywords"] = Keywords.Cast<object?>().ToList();
        }

        return new IndexEntry { Name = Name, Version = Version, Digest = digest, Urls = urls.ToList(), Created = created, Metadata = metadata };
    }
}

/// <summary>
/// Builds <c>&lt;name&gt;-&lt;version&gt;.tgz</c> from a package directory, reproducibly: entries
/// sorted, fixed times, owner 0, modes 0644 or 0755, everything under a <c>&lt;name&gt;/</c> root as Helm does.
/// </summary>
public static class PackageBuilder
{
    private static readonly DateTimeOffset FixedTime = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static async Task<(string FileName, byte[] Archive, PackageSummary Summary)> BuildAsync(string directory, CancellationToken cancellationToken)
    {
        var files = await PackageSource.ReadDirectoryWithModesAsync(directory, cancellationToken);
        var summary = PackageSummary.Read(files.ToDictionary(f => f.Key, f => f.Value.Content, StringComparer.Ordinal));
        using var tar = new MemoryStream();
        using (var writer = new TarWriter(tar, TarEntryFormat.Gnu, leaveOpen: true))
        {
            foreach (var (relative, (content, executable)) in files)
            {
                // GNU format: PAX headers would carry the writer's process id in their names.
                var entry = new GnuTarEntry(TarEntryType.RegularFile, $"{summary.Name}/{relative}")
                {
                    DataStream = new MemoryStream(content),
                    ModificationTime = FixedTime,
                    AccessTime = FixedTime,
                    ChangeTime = FixedTime,
                    Mode = executable
                        ? UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute
                        : UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
                    Uid = 0,
                    Gid = 0,
                    UserName = "",
                    GroupName = "",
                };
                await writer.WriteEntryAsync(entry, cancellationToken);
            }
        }

        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true))
        {
            tar.Position = 0;
            await tar.CopyToAsync(gzip, cancellationToken);
        }

        return ($"{summary.Name}-{summary.Version}.tgz", output.ToArray(), summary);
    }
}

/// <summary>Where package files come from: a package directory or a <c>.tgz</c>, read the same way by every command.</summary>
public static class PackageSource
{
    private static readonly string[] Ignored = [".git", ".svn", ".hg", ".DS_Store", ".pitrixignore", ".helmignore"];

    /// <summary>Reads a package directory or archive into relative path → bytes (archives through <see cref="SafeArchive"/>).</summary>
    public static async Task<IReadOnlyDictionary<string, byte[]>> LoadAsync(string path, CancellationToken cancellationToken)
    {
        if (Directory.Exists(path))
        {
            return (await ReadDirectoryWithModesAsync(path, cancellationToken)).ToDictionary(f => f.Key, f => f.Value.Content, StringComparer.Ordinal);
        }

        if (!File.Exists(path))
        {
            throw new PackageException("package.not_found", $"'{path}' is neither a directory nor a file.");
        }

        await using var stream = File.OpenRead(path);
        return (await SafeArchive.ReadAsync(stream, cancellationToken: cancellationToken)).ContentFiles;
    }

    /// <summary>The files of a package directory with their executable bit, skipping VCS and ignore files; symbolic links are refused.</summary>
    public static async Task<SortedDictionary<string, (byte[] Content, bool Executable)>> ReadDirectoryWithModesAsync(string directory, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(directory))
        {
            throw new PackageException("package.not_found", $"'{directory}' is not a directory.");
        }

        var files = new SortedDictionary<string, (byte[] Content, bool Executable)>(StringComparer.Ordinal);
        foreach (var path in Directory.EnumerateFiles(directory, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
        {
            var relative = Path.GetRelativePath(directory, path).Replace('\\', '/');
            if (relative.Split('/').Any(part => Ignored.Contains(part, StringComparer.Ordinal)))
            {
                continue;
            }

            if (new FileInfo(path).LinkTarget is not null)
            {
                throw new PackageException("package.symlink", "Packages may not contain symbolic links; copy the file instead.", relative);
            }

            var executable = !OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & UnixFileMode.UserExecute) != 0;
            files[relative] = (await File.ReadAllBytesAsync(path, cancellationToken), executable);
        }

        return files;
    }
}

/// <summary>Builds a repository index from the packages in a directory (as <c>helm repo index</c>).</summary>
public static class RepoIndexer
{
    public static async Task<(RepoIndex Index, IReadOnlyList<PackageException> Skipped)> IndexDirectoryAsync(string directory, string? baseUrl, RepoIndex? merge, TimeProvider time, CancellationToken cancellationToken)
    {
        var index = new RepoIndex();
        var skipped = new List<PackageException>();
        var created = time.GetUtcNow().ToString("yyyy-MM-dd'T'HH:mm:ss.fffffffK", System.Globalization.CultureInfo.InvariantCulture);
        foreach (var path in Directory.EnumerateFiles(directory, "*.tgz", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var relative = Path.GetRelativePath(directory, path).Replace('\\', '/');
            try
            {
                await using var stream = File.OpenRead(path);
                var archive = await SafeArchive.ReadAsync(stream, cancellationToken: cancellationToken);
                var summary = PackageSummary.Read(archive.ContentFiles);
                var url = baseUrl is null ? relative : $"{baseUrl.TrimEnd('/')}/{relative}";
                index.Add(summary.ToIndexEntry(archive.Sha256, [url], created));
            }
            catch (PackageException ex)
            {
                skipped.Add(new PackageException(ex.Code, ex.Message, relative));
            }
        }

        if (merge is not null)
        {
            index.Merge(merge);
        }

        index.Generated = created;
        return (index, skipped);
    }
}

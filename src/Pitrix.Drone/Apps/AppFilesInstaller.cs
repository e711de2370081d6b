using System.Formats.Tar;
using System.IO.Compression;

namespace Pitrix.Drone.Apps;

/// <summary>Bounds on an app archive, so a hostile or broken one cannot fill the node's disk.</summary>
public sealed record AppFilesLimits
{
    /// <summary>Entries (files, directories, links) in one archive. Default: 10,000.</summary>
    public int MaxEntries { get; init; } = 10_000;

    /// <summary>Bytes of one file. Default: 256 MiB.</summary>
    public long MaxFileBytes { get; init; } = 256L * 1024 * 1024;

    /// <summary>Bytes of all files together, once extracted. Default: 512 MiB.</summary>
    public long MaxTotalBytes { get; init; } = 512L * 1024 * 1024;
}

/// <summary>The outcome of installing an app archive: success, or why the archive was refused.</summary>
public sealed record AppInstallResult
{
    public static AppInstallResult Installed(int files) => new() { Succeeded = true, Files = files };

    public static AppInstallResult Rejected(string error) => new() { Error = error };

    public bool Succeeded { get; private init; }

    /// <summary>Regular files written.</summary>
    public int Files { get; private init; }

    /// <summary>Why the archive was refused; null on success. Nothing installed before was touched.</summary>
    public string? Error { get; private init; }
}

/// <summary>
/// Installs an app's files (a gzip tar) into the node's <c>/opt/pitrix/app</c> as one swap: the archive is extracted
/// into a sibling directory, checked entry by entry, and only then renamed into place, the previous set removed.
/// Absolute paths, <c>..</c>, links pointing outside the app directory, hard links, devices and FIFOs are refused,
/// as are archives over <see cref="AppFilesLimits"/>; a refused archive leaves the installed files as they were.
/// </summary>
public sealed class AppFilesInstaller(NodeRoot root, AppFilesLimits? limits = null)
{
    private const string StagingPrefix = ".app.";
    private const UnixFileMode PermissionBits = (UnixFileMode)0x1FF;
    private const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    private readonly AppFilesLimits _limits = limits ?? new AppFilesLimits();

    /// <summary>The installed app directory.</summary>
    public string AppDirectory => root.AppDirectory;

    /// <summary>
    /// Finishes or undoes a swap a crash interrupted: when the app directory is missing but the previous set is still
    /// beside it, the previous set is put back; leftover staging directories are removed.
    /// </summary>
    public void RecoverInterruptedInstall()
    {
        var parent = Path.GetDirectoryName(AppDirectory)!;
        if (!Directory.Exists(parent))
        {
            return;
        }

        var previous = Directory.GetDirectories(parent, StagingPrefix + "*.old").FirstOrDefault();
        if (!Directory.Exists(AppDirectory) && previous is not null)
        {
            Directory.Move(previous, AppDirectory);
        }

        foreach (var leftover in Directory.GetDirectories(parent, StagingPrefix + "*"))
        {
            Directory.Delete(leftover, recursive: true);
        }
    }

    /// <summary>Extracts <paramref name="gzipTar"/> and swaps it in; refuses the whole archive at its first bad entry.</summary>
    public async Task<AppInstallResult> InstallAsync(Stream gzipTar, CancellationToken cancellationToken)
    {
        var parent = Path.GetDirectoryName(AppDirectory)!;
        Directory.CreateDirectory(parent);
        var id = Guid.NewGuid().ToString("N");
        var staging = Path.Combine(parent, $"{StagingPrefix}{id}.new");
        Directory.CreateDirectory(staging, DirectoryMode);
        try
        {
            var extracted = await ExtractAsync(gzipTar, staging, cancellationToken).ConfigureAwait(false);
            if (!extracted.Succeeded)
            {
                return extracted;
            }

            // Two renames: the window between them is covered by RecoverInterruptedInstall at the next start.
            var previous = Path.Combine(parent, $"{StagingPrefix}{id}.old");
            if (Directory.Exists(AppDirectory))
            {
                Directory.Move(AppDirectory, previous);
            }

            Directory.Move(staging, AppDirectory);
            if (Directory.Exists(previous))
            {
                Directory.Delete(previous, recursive: true);
            }

            return extracted;
        }
        finally
        {
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }
        }
    }

    private async Task<AppInstallResult> ExtractAsync(Stream gzipTar, string staging, CancellationToken cancellationToken)
    {
        var entries = 0;
        var files = 0;
        long total = 0;
        try
        {
            await using var gzip = new GZipStream(gzipTar, CompressionMode.Decompress, leaveOpen: true);
            await using var tar = new TarReader(gzip, leaveOpen: true);
            while (await tar.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false) is { } entry)
            {
                if (entry.EntryType is TarEntryType.GlobalExtendedAttributes)
                {
                    continue;
                }

                if (++entries > _limits.MaxEntries)
                {
                    return AppInstallResult.Rejected($"the archive has more than {_limits.MaxEntries} entries");
                }

                if (!TryNormalise(entry.Name, out var relative, out var nameError))
                {
                    return AppInstallResult.Rejected($"entry '{entry.Name}': {nameError}");
                }

                if (relative.Length == 0)
                {
                    continue;
                }

                var target = Path.Combine(staging, relative);
                if (FindLinkOnPath(staging, relative) is { } link)
                {
                    return AppInstallResult.Rejected($"entry '{entry.Name}': its path goes through the link '{link}'");
                }

                switch (entry.EntryType)
                {
                    case TarEntryType.Directory:
                        Directory.CreateDirectory(target, DirectoryMode);
                        break;
                    case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                        if (entry.Length > _limits.MaxFileBytes)
                        {
                            return AppInstallResult.Rejected($"entry '{entry.Name}' is larger than {_limits.MaxFileBytes} bytes");
                        }

                        total += entry.Length;
                        if (total > _limits.MaxTotalBytes)
                        {
                            return AppInstallResult.Rejected($"the archive holds more than {_limits.MaxTotalBytes} bytes");
                        }

                        Directory.CreateDirectory(Path.GetDirectoryName(target)!, DirectoryMode);
                        await WriteFileAsync(entry, target, cancellationToken).ConfigureAwait(false);
                        files++;
                        break;
                    case TarEntryType.SymbolicLink:
                        if (!IsInside(relative, entry.LinkName))
                        {
                            return AppInstallResult.Rejected($"entry '{entry.Name}' links to '{entry.LinkName}', outside the app directory");
                        }

                        Directory.CreateDirectory(Path.GetDirectoryName(target)!, DirectoryMode);
                        File.CreateSymbolicLink(target, entry.LinkName);
                        break;
                    case TarEntryType.HardLink:
                        return AppInstallResult.Rejected($"entry '{entry.Name}' is a hard link; app archives may hold files, directories and relative symbolic links only");
                    default:
                        return AppInstallResult.Rejected($"entry '{entry.Name}' is a {entry.EntryType}; app archives may hold files, directories and relative symbolic links only");
                }
            }
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException or EndOfStreamException)
        {
            return AppInstallResult.Rejected($"the archive is not a valid gzip-compressed tar: {ex.Message}");
        }
        catch (IOException ex)
        {
            // CreateNew refuses a second entry for the same path; other I/O errors are reported as they are.
            return AppInstallResult.Rejected($"the archive could not be extracted: {ex.Message}");
        }

        return AppInstallResult.Installed(files);
    }

    private static async Task WriteFileAsync(TarEntry entry, string target, CancellationToken cancellationToken)
    {
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            UnixCreateMode = (entry.Mode & PermissionBits) | UnixFileMode.UserRead | UnixFileMode.UserWrite,
        };
        var output = new FileStream(target, options);
        await using (output.ConfigureAwait(false))
        {
            if (entry.DataStream is { } data)
            {
                await data.CopyToAsync(output, cancellationToken).ConfigureAwait(false);
            }
        }

        // The create mode is filtered by the umask; the archive's permissions (an executable script) are meant as written.
        File.SetUnixFileMode(target, (entry.Mode & PermissionBits) | UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    /// <summary>Strips <c>./</c> and trailing slashes; refuses absolute paths, <c>..</c>, backslashes and NUL.</summary>
    private static bool TryNormalise(string name, out string relative, out string? error)
    {
        relative = "";
        error = null;
        if (name.StartsWith('/'))
        {
            error = "absolute paths are not allowed";
            return false;
        }

        if (name.Contains('\\', StringComparison.Ordinal) || name.Contains('\0', StringComparison.Ordinal))
        {
            error = "backslashes and NUL are not allowed in names";
            return false;
        }

        var segments = name.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(s => s != ".").ToList();
        if (segments.Contains(".."))
        {
            error = "'..' is not allowed in names";
            return false;
        }

        relative = string.Join('/', segments);
        return true;
    }

    /// <summary>Whether a relative symbolic link at <paramref name="linkPath"/> to <paramref name="linkTarget"/> stays inside the app directory.</summary>
    private static bool IsInside(string linkPath, string linkTarget)
    {
        if (linkTarget.Length == 0 || linkTarget.StartsWith('/') || linkTarget.Contains('\0', StringComparison.Ordinal))
        {
            return false;
        }

        var depth = new Stack<string>(linkPath.Split('/').SkipLast(1));
        foreach (var segment in linkTarget.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (segment == "..")
            {
                if (depth.Count == 0)
                {
                    return false;
                }

                depth.Pop();
            }
            else if (segment != ".")
            {
                depth.Push(segment);
            }
        }

        return true;
    }

    /// <summary>
    /// The first existing symbolic link among the entry's parent directories, or null. Nothing is ever written through
    /// a link, so a link inside the archive cannot redirect a later entry anywhere.
    /// </summary>
    private static string? FindLinkOnPath(string staging, string relative)
    {
        var current = staging;
        var segments = relative.Split('/');
        foreach (var segment in segments)
        {
            current = Path.Combine(current, segment);
            var info = new FileInfo(current);
            if (info.LinkTarget is not null)
            {
                return Path.GetRelativePath(staging, current);
            }

            if (!info.Exists && !Directory.Exists(current))
            {
                return null;
            }
        }

        return null;
    }
}

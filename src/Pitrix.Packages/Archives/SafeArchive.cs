using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;

namespace Pitrix.Packages.Archives;

/// <summary>
/// The one reader of <c>.tgz</c> packages. It refuses anything that could write outside a target
/// directory or exhaust the machine: absolute paths, <c>..</c>, links leaving the root, device files,
/// too many or too large entries, and gzip bombs. Nothing is written to disk; the sha256 of the
/// archive is computed while reading.
/// </summary>
public static class SafeArchive
{
    private const long RatioGraceBytes = 1024 * 1024;

    public static async Task<PackageArchive> ReadAsync(Stream source, ArchiveLimits? limits = null, CancellationToken cancellationToken = default)
    {
        limits ??= ArchiveLimits.Default;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using var compressed = new MeteredStream(source, hash, limits.MaxCompressedBytes, "archive.too_large", $"The archive is larger than {limits.MaxCompressedBytes} bytes.");
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var links = new List<(string Path, string Target, bool Hard)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        long total = 0;
        var entries = 0;
        try
        {
            await using var gzip = new GZipStream(compressed, CompressionMode.Decompress, leaveOpen: true);
            await using var decompressed = new RatioGuardStream(gzip, compressed, limits);
            await using var tar = new TarReader(decompressed, leaveOpen: true);
            while (await tar.GetNextEntryAsync(copyData: false, cancellationToken) is { } entry)
            {
                if (++entries > limits.MaxEntries)
                {
                    throw new PackageException("archive.too_many_entries", $"The archive has more than {limits.MaxEntries} entries.");
                }

                var path = NormalizePath(entry.Name, limits);
                switch (entry.EntryType)
                {
                    case TarEntryType.Directory:
                        continue;
                    case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                        if (path is null)
                        {
                            throw new PackageException("archive.invalid_path", "A file entry has an empty name.");
                        }

                        if (!seen.Add(path))
                        {
                            throw new PackageException("archive.duplicate_entry", "The archive holds this path twice.", path);
                        }

                        if (entry.Length > limits.MaxEntryBytes)
                        {
                            throw new PackageException("archive.entry_too_large", $"The file is larger than {limits.MaxEntryBytes} bytes.", path);
                        }

                        total += entry.Length;
                        if (total > limits.MaxTotalBytes)
                        {
                            throw new PackageException("archive.total_too_large", $"The files add up to more than {limits.MaxTotalBytes} bytes.", path);
                        }

                        files[path] = await ReadDataAsync(entry, cancellationToken);
                        break;
                    case TarEntryType.SymbolicLink or TarEntryType.HardLink:
                        if (path is null || !seen.Add(path))
                        {
                            throw new PackageException("archive.duplicate_entry", "The archive holds this path twice.", path);
                        }

                        links.Add((path, entry.LinkName, entry.EntryType == TarEntryType.HardLink));
                        break;
                    case TarEntryType.CharacterDevice or TarEntryType.BlockDevice or TarEntryType.Fifo:
                        throw new PackageException("archive.special_file", $"Device files and FIFOs are not allowed ({entry.EntryType}).", path);
                    case TarEntryType.GlobalExtendedAttributes:
                        continue;
                    default:
                        throw new PackageException("archive.unsupported_entry", $"Entries of type {entry.EntryType} are not allowed.", path);
                }
            }

            // Drain the end-of-archive blocks so the digest covers the whole file.
            await decompressed.CopyToAsync(Stream.Null, cancellationToken);
        }
        catch (InvalidDataException ex)
        {
            throw new PackageException("archive.corrupt", "The archive is not a valid gzip-compressed tar file: " + ex.Message);
        }
        catch (FormatException ex)
        {
            throw new PackageException("archive.corrupt", "The archive is not a valid tar file: " + ex.Message);
        }
        catch (EndOfStreamException)
        {
            throw new PackageException("archive.corrupt", "The archive ends in the middle of an entry.");
        }

        await compressed.DrainAsync(cancellationToken);
        ResolveLinks(files, links);
        if (files.Count == 0)
        {
            throw new PackageException("archive.empty", "The archive contains no files.");
        }

        return new PackageArchive(files, Convert.ToHexStringLower(hash.GetHashAndReset()), compressed.BytesRead);
    }

    /// <summary>Returns the canonical relative path, null for the root itself, or throws for anything unsafe.</summary>
    public static string? NormalizePath(string name, ArchiveLimits limits)
    {
        if (name.Length > limits.MaxPathLength)
        {
            throw new PackageException("archive.path_too_long", $"A path is longer than {limits.MaxPathLength} characters.", name[..64] + "…");
        }

        if (name.Contains('\0', StringComparison.Ordinal) || name.Contains('\\', StringComparison.Ordinal))
        {
            throw new PackageException("archive.invalid_path", "Paths may not contain NUL or backslash characters.", name.Replace("\0", "\\0", StringComparison.Ordinal));
        }

        if (name.StartsWith('/') || (name.Length >= 2 && name[1] == ':' && char.IsAsciiLetter(name[0])))
        {
            throw new PackageException("archive.absolute_path", "Absolute paths are not allowed.", name);
        }

        var parts = new List<string>();
        foreach (var part in name.Split('/'))
        {
            if (part is "" or ".")
            {
                continue;
            }

            if (part == "..")
            {
                throw new PackageException("archive.path_traversal", "Paths may not contain '..'.", name);
            }

            parts.Add(part);
        }

        if (parts.Count > limits.MaxPathDepth)
        {
            throw new PackageException("archive.path_too_deep", $"A path is nested deeper than {limits.MaxPathDepth} directories.", name);
        }

        return parts.Count == 0 ? null : string.Join('/', parts);
    }

    /// <summary>Links become copies of the files they point to, when those are inside the archive.</summary>
    private static void ResolveLinks(Dictionary<string, byte[]> files, List<(string Path, string Target, bool Hard)> links)
    {
        var pending = links.ToDictionary(l => l.Path, l => l, StringComparer.Ordinal);
        foreach (var link in links)
        {
            var current = link;
            var hops = 0;
            while (true)
            {
                if (current.Target.StartsWith('/'))
                {
                    throw new PackageException("archive.link_escapes", $"The link points outside the package ('{current.Target}').", link.Path);
                }

                // Hard link targets are archive paths; symbolic ones are relative to the link's directory.
                var baseDirectory = current.Hard ? "" : (current.Path.Contains('/', StringComparison.Ordinal) ? current.Path[..current.Path.LastIndexOf('/')] : "");
                var resolved = Combine(baseDirectory, current.Target) ?? throw new PackageException("archive.link_escapes", $"The link points outside the package ('{current.Target}').", link.Path);
                if (files.TryGetValue(resolved, out var content))
                {
                    files[link.Path] = content;
                    break;
                }

                if (!pending.TryGetValue(resolved, out var next) || ++hops > 16)
                {
                    throw new PackageException("archive.link_dangling", $"The link points to '{current.Target}', which is not a file in the package.", link.Path);
                }

                current = next;
            }
        }
    }

    private static string? Combine(string directory, string relative)
    {
        var parts = directory.Length == 0 ? new List<string>() : [.. directory.Split('/')];
        foreach (var part in relative.Split('/'))
        {
            if (part is "" or ".")
            {
                continue;
            }

            if (part == "..")
            {
                if (parts.Count == 0)
                {
                    return null;
                }

                parts.RemoveAt(parts.Count - 1);
                continue;
            }

            parts.Add(part);
        }

        return string.Join('/', parts);
    }

    private static async Task<byte[]> ReadDataAsync(TarEntry entry, CancellationToken cancellationToken)
    {
        if (entry.DataStream is null || entry.Length == 0)
        {
            return [];
        }

        // Grow with the data actually read: a header may lie about its size to make us allocate.
        using var buffer = new MemoryStream((int)Math.Min(entry.Length, 1024 * 1024));
        await entry.DataStream.CopyToAsync(buffer, cancellationToken);
        if (buffer.Length != entry.Length)
        {
            throw new PackageException("archive.corrupt", "The archive ends in the middle of a file.", entry.Name);
        }

        return buffer.ToArray();
    }

    /// <summary>Counts and hashes the compressed bytes, and stops at the size limit.</summary>
    private sealed class MeteredStream(Stream inner, IncrementalHash hash, long limit, string code, string message) : Stream
    {
        public long BytesRead { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => BytesRead; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Count(buffer.AsSpan(offset, inner.Read(buffer, offset, count)));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = await inner.ReadAsync(buffer, cancellationToken);
            return Count(buffer.Span[..read]);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public async Task DrainAsync(CancellationToken cancellationToken)
        {
            var buffer = new byte[81920];
            while (await ReadAsync(buffer, cancellationToken) > 0)
            {
            }
        }

        private int Count(ReadOnlySpan<byte> data)
        {
            BytesRead += data.Length;
            if (BytesRead > limit)
            {
                throw new PackageException(code, message);
            }

            hash.AppendData(data);
            return data.Length;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>Stops decompression once the output is too large or too large for its input (a gzip bomb).</summary>
    private sealed class RatioGuardStream(Stream decompressed, MeteredStream compressed, ArchiveLimits limits) : Stream
    {
        private long _produced;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => _produced; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Check(decompressed.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Check(await decompressed.ReadAsync(buffer, cancellationToken));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        private int Check(int read)
        {
            _produced += read;

            // Tar adds headers and padding, so allow some room above the file-size total.
            if (_produced > limits.MaxTotalBytes + (limits.MaxEntries * 1024L) + RatioGraceBytes)
            {
                throw new PackageException("archive.total_too_large", $"The archive decompresses to more than {limits.MaxTotalBytes} bytes.");
            }

            if (_produced > RatioGraceBytes && _produced > limits.MaxCompressionRatio * Math.Max(1, compressed.BytesRead))
            {
                throw new PackageException("archive.compression_ratio", $"The archive decompresses more than {limits.MaxCompressionRatio}-fold (a gzip bomb?).");
            }

            return read;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

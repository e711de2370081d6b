using System.Formats.Tar;
using System.IO.Compression;
using System.Text;

namespace Pitrix.Packages.Tests;

/// <summary>Crafts tar.gz archives, hostile ones included, in memory.</summary>
internal sealed class ArchiveBuilder
{
    private readonly List<TarEntry> _entries = [];

    public ArchiveBuilder File(string name, string content) => File(name, Encoding.UTF8.GetBytes(content));

    public ArchiveBuilder File(string name, byte[] content)
    {
        _entries.Add(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(content) });
        return this;
    }

    public ArchiveBuilder Directory(string name)
    {
        _entries.Add(new PaxTarEntry(TarEntryType.Directory, name));
        return this;
    }

    public ArchiveBuilder Symlink(string name, string target)
    {
        _entries.Add(new PaxTarEntry(TarEntryType.SymbolicLink, name) { LinkName = target });
        return this;
    }

    public ArchiveBuilder HardLink(string name, string target)
    {
        _entries.Add(new PaxTarEntry(TarEntryType.HardLink, name) { LinkName = target });
        return this;
    }

    public ArchiveBuilder Special(TarEntryType type, string name)
    {
        _entries.Add(new UstarTarEntry(type, name));
        return this;
    }

    public byte[] BuildTar()
    {
        using var tar = new MemoryStream();
        using (var writer = new TarWriter(tar, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var entry in _entries)
            {
                writer.WriteEntry(entry);
            }
        }

        return tar.ToArray();
    }

    public byte[] Build() => Gzip(BuildTar());

    public MemoryStream Stream() => new(Build());

    public static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            gzip.Write(data);
        }

        return output.ToArray();
    }
}

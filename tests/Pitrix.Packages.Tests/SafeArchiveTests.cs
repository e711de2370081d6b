using System.Diagnostics;
using System.Formats.Tar;
using System.Security.Cryptography;
using System.Text;
using Pitrix.Packages.Archives;
using Xunit;

namespace Pitrix.Packages.Tests;

public sealed class SafeArchiveTests
{
    private static readonly ArchiveLimits Small = new()
    {
        MaxEntries = 50,
        MaxEntryBytes = 64 * 1024,
        MaxTotalBytes = 256 * 1024,
        MaxCompressedBytes = 512 * 1024,
        MaxPathLength = 200,
        MaxPathDepth = 8,
    };

    [Fact]
    public async Task ReadAsync_HelmStyleChart_ReturnsFilesRootAndDigest()
    {
        var bytes = new ArchiveBuilder()
            .Directory("mychart/")
            .File("mychart/Chart.yaml", "apiVersion: v2\nname: mychart\nversion: 0.1.0\n")
            .File("mychart/templates/deploy.yaml", "kind: Deployment\n")
            .Symlink("mychart/values.yaml", "Chart.yaml")
            .Build();

        var archive = await SafeArchive.ReadAsync(new MemoryStream(bytes), Small);

        Assert.Equal("mychart", archive.RootDirectory);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), archive.Sha256);
        Assert.Equal(bytes.Length, archive.CompressedBytes);
        Assert.Equal("kind: Deployment\n", Encoding.UTF8.GetString(archive.ContentFiles["templates/deploy.yaml"]));
        Assert.Equal(archive.Files["mychart/Chart.yaml"], archive.Files["mychart/values.yaml"]);
    }

    public static TheoryData<string, byte[]> HostileArchives()
    {
        var data = new TheoryData<string, byte[]>
        {
            { "archive.corrupt", Encoding.UTF8.GetBytes("this is not gzip at all") },
            { "archive.corrupt", new ArchiveBuilder().File("a.txt", "hello").Build()[..20] },
            { "archive.corrupt", ArchiveBuilder.Gzip(Encoding.UTF8.GetBytes(new string('x', 2000))) },
            { "archive.absolute_path", new ArchiveBuilder().File("/etc/passwd", "root").Build() },
            { "archive.absolute_path", new ArchiveBuilder().File("C:/Windows/evil.dll", "x").Build() },
            { "archive.path_traversal", new ArchiveBuilder().File("../evil.sh", "x").Build() },
            { "archive.path_traversal", new ArchiveBuilder().File("chart/../../evil.sh", "x").Build() },
            { "archive.path_traversal", new ArchiveBuilder().Directory("chart/../../").Build() },
            { "archive.invalid_path", new ArchiveBuilder().File("chart\\..\\evil", "x").Build() },
            { "archive.link_escapes", new ArchiveBuilder().File("a.txt", "x").Symlink("passwd", "/etc/passwd").Build() },
            { "archive.link_escapes", new ArchiveBuilder().File("chart/a.txt", "x").Symlink("chart/up", "../../outside").Build() },
            { "archive.link_escapes", new ArchiveBuilder().File("a.txt", "x").HardLink("hard", "../x").Build() },
            { "archive.link_dangling", new ArchiveBuilder().File("a.txt", "x").Symlink("loop1", "loop2").Symlink("loop2", "loop1").Build() },
            { "archive.link_dangling", new ArchiveBuilder().File("a.txt", "x").Symlink("missing", "nothere.txt").Build() },
            { "archive.special_file", new ArchiveBuilder().File("a.txt", "x").Special(TarEntryType.CharacterDevice, "dev/null").Build() },
            { "archive.special_file", new ArchiveBuilder().File("a.txt", "x").Special(TarEntryType.BlockDevice, "dev/sda").Build() },
            { "archive.special_file", new ArchiveBuilder().File("a.txt", "x").Special(TarEntryType.Fifo, "pipe").Build() },
            { "archive.duplicate_entry", new ArchiveBuilder().File("a.txt", "one").File("./a.txt", "two").Build() },
            { "archive.entry_too_large", new ArchiveBuilder().File("big.bin", RandomNumberGenerator.GetBytes(100 * 1024)).Build() },
            { "archive.path_too_long", new ArchiveBuilder().File(new string('a', 300) + ".txt", "x").Build() },
            { "archive.path_too_deep", new ArchiveBuilder().File(string.Concat(Enumerable.Repeat("d/", 12)) + "f.txt", "x").Build() },
            { "archive.empty", new ArchiveBuilder().Directory("chart/").Build() },
        };

        var many = new ArchiveBuilder();
        for (var i = 0; i < 60; i++)
        {
            many.File($"f{i}.txt", "x");
        }

        data.Add("archive.too_many_entries", many.Build());

        var total = new ArchiveBuilder();
        for (var i = 0; i < 5; i++)
        {
            total.File($"part{i}.bin", RandomNumberGenerator.GetBytes(60 * 1024));
        }

        data.Add("archive.total_too_large", total.Build());
        return data;
    }

    [Theory]
    [MemberData(nameof(HostileArchives))]
    public async Task ReadAsync_HostileArchive_FailsWithSpecificCode(string code, byte[] archive)
    {
        var ex = await Assert.ThrowsAsync<PackageException>(() => SafeArchive.ReadAsync(new MemoryStream(archive), Small));
        Assert.Equal(code, ex.Code);
        Assert.False(string.IsNullOrWhiteSpace(ex.Message));
    }

    [Fact]
    public async Task ReadAsync_GzipBomb_StopsEarlyWithoutInflatingEverything()
    {
        // 200 MB of zeros compresses to about 200 KB: far beyond any honest package's ratio.
        var tar = new ArchiveBuilder().File("zeros.bin", new byte[200 * 1024 * 1024]).BuildTar();
        var bomb = ArchiveBuilder.Gzip(tar);
        var limits = ArchiveLimits.Default with { MaxEntryBytes = 1L << 30, MaxTotalBytes = 1L << 30 };
        var watch = Stopwatch.StartNew();

        var ex = await Assert.ThrowsAsync<PackageException>(() => SafeArchive.ReadAsync(new MemoryStream(bomb), limits));

        Assert.Equal("archive.compression_ratio", ex.Code);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"Took {watch.Elapsed}.");
    }

    [Fact]
    public async Task ReadAsync_CompressedSizeOverLimit_FailsEvenWhenUnseekable()
    {
        var builder = new ArchiveBuilder();
        for (var i = 0; i < 10; i++)
        {
            builder.File($"part{i}.bin", RandomNumberGenerator.GetBytes(60 * 1024));
        }

        var limits = Small with { MaxCompressedBytes = 100 * 1024, MaxTotalBytes = 10 * 1024 * 1024 };
        var ex = await Assert.ThrowsAsync<PackageException>(() => SafeArchive.ReadAsync(new UnseekableStream(builder.Build()), limits));
        Assert.Equal("archive.too_large", ex.Code);
    }

    private sealed class UnseekableStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }

    [Fact]
    public void NormalizePath_CanonicalizesDotSegments()
    {
        Assert.Equal("chart/templates/a.yaml", SafeArchive.NormalizePath("./chart//templates/./a.yaml", ArchiveLimits.Default));
        Assert.Null(SafeArchive.NormalizePath("./", ArchiveLimits.Default));
    }
}

namespace Pitrix.Packages.Archives;

/// <summary>Bounds on what a package archive may contain; every limit has its own error code.</summary>
public sealed record ArchiveLimits
{
    /// <summary>Largest compressed archive. Default: 64 MiB.</summary>
    public long MaxCompressedBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>Most entries (files, directories, links). Default: 5,000.</summary>
    public int MaxEntries { get; init; } = 5_000;

    /// <summary>Largest single file. Default: 32 MiB.</summary>
    public long MaxEntryBytes { get; init; } = 32L * 1024 * 1024;

    /// <summary>Largest sum of all files. Default: 128 MiB.</summary>
    public long MaxTotalBytes { get; init; } = 128L * 1024 * 1024;

    /// <summary>Largest ratio of decompressed to compressed bytes once past 1 MiB decompressed (gzip bombs). Default: 100.</summary>
    public double MaxCompressionRatio { get; init; } = 100;

    /// <summary>Longest entry path. Default: 512 characters.</summary>
    public int MaxPathLength { get; init; } = 512;

    /// <summary>Deepest directory nesting. Default: 24.</summary>
    public int MaxPathDepth { get; init; } = 24;

    public static ArchiveLimits Default { get; } = new();
}

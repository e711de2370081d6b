using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Pitrix.Catalog.Blobs;
using Pitrix.Catalog.Fetching;
using Pitrix.Core.Catalog;
using Pitrix.Packages;
using Pitrix.Persistence;

namespace Pitrix.Catalog.Indexing;

/// <summary>One package read for its details: the archive and what it holds, or why it could not be used.</summary>
public sealed record PackageOutcome(AppVersion Version, byte[]? Archive, PackageContents? Contents, string? ErrorCode, string? ErrorMessage);

/// <summary>
/// Fetches and reads packages with bounded concurrency and hands them back one at a time, so the
/// caller writes them on a single database context. Fetching and reading never touch the database.
/// </summary>
public sealed class PackageDetails(PackageStore store, Repo repo, FetchCredentials? credentials, int concurrency)
{
    public async IAsyncEnumerable<PackageOutcome> ReadAsync(IReadOnlyList<AppVersion> versions, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var results = Channel.CreateBounded<PackageOutcome>(new BoundedChannelOptions(concurrency) { SingleReader = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var producer = Task.Run(
            async () =>
            {
                try
                {
                    var parallel = new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = stop.Token };
                    await Parallel.ForEachAsync(versions, parallel, async (version, token) =>
                        await results.Writer.WriteAsync(await ReadOneAsync(version, token), token));
                    results.Writer.Complete();
                }
#pragma warning disable CA1031 // Handed to the reader, which rethrows it.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    results.Writer.Complete(ex);
                }
            },
            CancellationToken.None);
        try
        {
            await foreach (var outcome in results.Reader.ReadAllAsync(cancellationToken))
            {
                yield return outcome;
            }
        }
        finally
        {
            await stop.CancelAsync();
            await producer;
        }
    }

    /// <summary>Stores the archive and the files the catalog shows, and records their digests on the version.</summary>
    public static async Task StoreAsync(PitrixDbContext db, AppVersion version, byte[] archive, PackageContents contents, CancellationToken cancellationToken)
    {
        version.PackageDigest = await BlobStore.PutAsync(db, archive, PackageStore.MediaType, cancellationToken);
        version.PackageSize = archive.LongLength;
        version.ReadmeDigest = await PutAsync(db, contents.Readme, cancellationToken);
        version.ConfigDigest = await PutAsync(db, contents.Config, cancellationToken);
        version.ValuesDigest = await PutAsync(db, contents.Values, cancellationToken);
        version.ValuesSchemaDigest = await PutAsync(db, contents.ValuesSchema, cancellationToken);
        if (await PutAsync(db, contents.Icon, cancellationToken) is { } icon)
        {
            version.Icon = BlobStore.IconReference(icon);
        }

        if (version.Maintainers.Count == 0 && contents.Maintainers.Count > 0)
        {
            version.Maintainers = contents.Maintainers.Select(m => new Maintainer(m.Name, m.Email, m.Url)).ToList();
        }

        if (version.Screenshots.Count == 0 && contents.Screenshots.Count > 0)
        {
            version.Screenshots = contents.Screenshots.ToList();
        }

        if (version.Sources.Count == 0 && contents.Sources.Count > 0)
        {
            version.Sources = contents.Sources.ToList();
        }

        version.DetailsStatus = DetailsStatus.Stored;
        version.DetailsError = null;
    }

    private static async Task<string?> PutAsync(PitrixDbContext db, PackageFile? file, CancellationToken cancellationToken) =>
        file is null ? null : await BlobStore.PutAsync(db, file.Content, file.MediaType, cancellationToken);

    private async Task<PackageOutcome> ReadOneAsync(AppVersion version, CancellationToken cancellationToken)
    {
        byte[] archive;
        try
        {
            archive = await store.FetchVerifiedAsync(repo, credentials, version, cancellationToken);
        }
        catch (FetchException ex)
        {
            return new PackageOutcome(version, null, null, ex.Code, ex.Message);
        }
        catch (PackageException ex) when (ex.Code == "package.digest_mismatch")
        {
            // The bytes did arrive; they are just not the ones the index promised.
            return new PackageOutcome(version, [], null, ex.Code, ex.Message);
        }
        catch (PackageException ex)
        {
            return new PackageOutcome(version, null, null, ex.Code, ex.Message);
        }

        try
        {
            var contents = await PackageContents.ReadAsync(archive, null, cancellationToken);
            return new PackageOutcome(version, archive, contents, null, null);
        }
        catch (PackageException ex)
        {
            return new PackageOutcome(version, archive, null, ex.Code, ex.Message);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Readers of package metadata throw format exceptions of their own for malformed files.
            return new PackageOutcome(version, archive, null, "package.invalid", ex.Message);
        }
    }
}

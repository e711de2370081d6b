using Microsoft.EntityFrameworkCore;
using Pitrix.Catalog.Blobs;
using Pitrix.Catalog.Fetching;
using Pitrix.Catalog.Repos;
using Pitrix.Core.Catalog;
using Pitrix.Core.Security;
using Pitrix.Packages;
using Pitrix.Persistence;

namespace Pitrix.Catalog.Indexing;

/// <summary>
/// Package archives of synced versions: fetched from the repo (same origin only, digest verified) and
/// kept as blobs, so a download after the first one is served from the database.
/// </summary>
public sealed class PackageStore(RepoSource source, ISecretProtector protector)
{
    public const string MediaType = "application/gzip";

    /// <summary>
    /// The version's package: the stored blob when <see cref="AppVersion.PackageDigest"/> is set, otherwise
    /// fetched from its source, verified against <see cref="AppVersion.Digest"/>, stored, and recorded on the
    /// version (<c>PackageDigest</c>, <c>PackageSize</c>). Throws <see cref="FetchException"/> when the source
    /// cannot be reached and <see cref="PackageException"/> (<c>package.unavailable</c>,
    /// <c>package.digest_mismatch</c>) when there is nothing to fetch or the bytes are not the promised ones.
    /// </summary>
    public async Task<byte[]> GetPackageAsync(PitrixDbContext db, AppVersion version, CancellationToken cancellationToken)
    {
        if (version.PackageDigest is { } stored && await BlobStore.GetAsync(db, stored, cancellationToken) is { } blob)
        {
            return blob.Content;
        }

        var repo = await db.Repos.AsNoTracking().SingleOrDefaultAsync(r => r.Id == version.RepoId, cancellationToken);
        if (repo?.Url is null || version.PackageUrl is null)
        {
            throw new PackageException("package.unavailable", $"The package of version {version.Version} is not stored and has no source to fetch it from.");
        }

        var archive = await FetchVerifiedAsync(repo, RepoCredential.ForFetch(protector, repo), version, cancellationToken);
        var digest = await BlobStore.PutAsync(db, archive, MediaType, cancellationToken);
        long size = archive.LongLength;
        await db.AppVersions.Where(v => v.Id == version.Id)
            .ExecuteUpdateAsync(s => s.SetProperty(v => v.PackageDigest, digest).SetProperty(v => v.PackageSize, size), cancellationToken);
        version.PackageDigest = digest;
        version.PackageSize = size;
        if (db.ChangeTracker.Entries<AppVersion>().FirstOrDefault(e => e.Entity.Id == version.Id) is { } entry)
        {
            // The row already holds these values: tell the tracker, so the caller's next save does not write them again.
            entry.Property(v => v.PackageDigest).OriginalValue = digest;
            entry.Property(v => v.PackageSize).OriginalValue = size;
        }

        return archive;
    }

    /// <summary>Fetches the package of <paramref name="version"/> from <paramref name="repo"/> and checks it against the index digest.</summary>
    public async Task<byte[]> FetchVerifiedAsync(Repo repo, FetchCredentials? credentials, AppVersion version, CancellationToken cancellationToken)
    {
        if (repo.Url is null || version.PackageUrl is null || !Uri.TryCreate(version.PackageUrl, UriKind.Absolute, out var url))
        {
            throw new PackageException("package.unavailable", $"Version {version.Version} has no package URL.");
        }

        var archive = await source.FetchPackageAsync(repo.Url, url, credentials, cancellationToken);
        if (version.Digest is { } expected)
        {
            var actual = BlobStore.DigestOf(archive);
            if (!string.Equals(actual, expected, StringComparison.OrdinalIgnoreCase))
            {
                throw new PackageException("package.digest_mismatch", $"The package's sha256 is {actual}, but the index promises {expected}.");
            }
        }

        return archive;
    }
}

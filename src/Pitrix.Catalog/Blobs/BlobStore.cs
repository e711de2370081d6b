using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Pitrix.Core.Catalog;
using Pitrix.Persistence;

namespace Pitrix.Catalog.Blobs;

/// <summary>
/// Content-addressed storage of packages, readmes, schemas and icons, in the database so every
/// server instance sees the same blobs. A blob is written once per digest and never changed.
/// </summary>
public static class BlobStore
{
    public static string DigestOf(ReadOnlySpan<byte> content) => Convert.ToHexStringLower(SHA256.HashData(content));

    /// <summary>
    /// Stores <paramref name="content"/> unless a blob with its digest exists and returns the digest.
    /// Written at once (not with the caller's unit of work) with an insert that ignores an existing
    /// row, so two syncs storing the same readme never conflict.
    /// </summary>
    public static async Task<string> PutAsync(PitrixDbContext db, byte[] content, string mediaType, CancellationToken cancellationToken)
    {
        var digest = DigestOf(content);
        var size = content.LongLength;
        await db.Database.ExecuteSqlAsync(
            $"""INSERT INTO blobs ("Digest", "MediaType", "Size", "Content") VALUES ({digest}, {mediaType}, {size}, {content}) ON CONFLICT ("Digest") DO NOTHING""",
            cancellationToken);
        return digest;
    }

    public static Task<Blob?> GetAsync(PitrixDbContext db, string digest, CancellationToken cancellationToken) =>
        db.Blobs.AsNoTracking().SingleOrDefaultAsync(b => b.Digest == digest, cancellationToken);

    /// <summary>The blob's text (UTF-8), or null.</summary>
    public static async Task<string?> GetTextAsync(PitrixDbContext db, string? digest, CancellationToken cancellationToken) =>
        digest is null ? null : await GetAsync(db, digest, cancellationToken) is { } blob ? System.Text.Encoding.UTF8.GetString(blob.Content) : null;

    /// <summary>The reference to a stored icon used in <see cref="App.Icon"/>.</summary>
    public static string IconReference(string digest) => "blob:sha256:" + digest;
}

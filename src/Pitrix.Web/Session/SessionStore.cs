using System.Collections.Concurrent;
using Pitrix.Web.Client;

namespace Pitrix.Web.Session;

/// <summary>
/// Serialises the refreshes of each sign-in in this process and remembers the newest token pair of each.
/// The API rotates refresh tokens and treats a replayed one as theft (ending the sign-in), so two requests
/// of one browser that find the access token expired at the same moment must not both exchange the same
/// refresh token: the second waits and takes the pair the first obtained. A request whose cookie is older
/// than the pair held here (the cookie could not be rewritten: the page was already streaming, or the
/// refresh happened in an interactive circuit) gets the newer pair, and its cookie is rewritten.
/// Several replicas without sticky sessions can still race; the loser's user signs in again.
/// </summary>
public sealed class SessionStore(TimeProvider time)
{
    private static readonly TimeSpan Idle = TimeSpan.FromHours(2);
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private long _lastPruneTicks;

    /// <summary>The newest pair known for the sign-in of <paramref name="tokens"/>, or null when that sign-in has ended here.</summary>
    public SessionTokens? Latest(SessionTokens tokens)
    {
        if (!_entries.TryGetValue(tokens.Key, out var entry))
        {
            return tokens;
        }

        entry.Touched = time.GetUtcNow();
        return entry.Ended ? null
            : entry.Latest is { } latest && latest.Generation > tokens.Generation ? latest
            : tokens;
    }

    /// <summary>
    /// Exchanges the refresh token of <paramref name="stale"/> through <paramref name="exchange"/> (null when the
    /// API refuses it), unless another request of the same sign-in already did; null when the sign-in has ended.
    /// </summary>
    public async Task<SessionTokens?> RefreshAsync(SessionTokens stale, Func<string, CancellationToken, Task<TokenPair?>> exchange, CancellationToken cancellationToken)
    {
        var entry = _entries.GetOrAdd(stale.Key, _ => new Entry());
        await entry.Gate.WaitAsync(cancellationToken);
        try
        {
            entry.Touched = time.GetUtcNow();
            if (entry.Ended)
            {
                return null;
            }

            if (entry.Latest is { } latest && latest.Generation > stale.Generation)
            {
                return latest;
            }

            var pair = await exchange(stale.RefreshToken, cancellationToken);
            if (pair is null)
            {
                entry.Ended = true;
                entry.Latest = null;
                return null;
            }

            entry.Latest = stale with
            {
                Generation = stale.Generation + 1,
                AccessToken = pair.AccessToken,
                AccessExpiresAt = pair.ExpiresAt,
                RefreshToken = pair.RefreshToken,
                UserName = pair.User.Name,
                Roles = pair.User.Roles,
            };
            return entry.Latest;
        }
        finally
        {
            entry.Gate.Release();
            Prune();
        }
    }

    /// <summary>Marks a sign-in as ended (signed out), so a stale cookie of it is not used again.</summary>
    public void End(string key)
    {
        var entry = _entries.GetOrAdd(key, _ => new Entry());
        entry.Ended = true;
        entry.Latest = null;
        entry.Touched = time.GetUtcNow();
    }

    private void Prune()
    {
        var now = time.GetUtcNow();
        var last = Interlocked.Read(ref _lastPruneTicks);
        if (now.UtcTicks - last < TimeSpan.TicksPerMinute || Interlocked.CompareExchange(ref _lastPruneTicks, now.UtcTicks, last) != last)
        {
            return;
        }

        foreach (var (key, entry) in _entries)
        {
            if (now - entry.Touched > Idle && entry.Gate.CurrentCount == 1)
            {
                _entries.TryRemove(key, out _);
            }
        }
    }

    private sealed class Entry
    {
        public SemaphoreSlim Gate { get; } = new(1, 1);

        public volatile SessionTokens? Latest;

        public volatile bool Ended;

        public DateTimeOffset Touched { get; set; }
    }
}

using Pitrix.Web.Client;
using Pitrix.Web.Markdown;
using Xunit;

namespace Pitrix.Web.Tests;

public sealed class LocalUrlTests
{
    [Theory]
    [InlineData("/", true)]
    [InlineData("/apps/app-1?tab=versions", true)]
    [InlineData("//evil.example/x", false)]
    [InlineData("/\\evil.example", false)]
    [InlineData("https://evil.example/", false)]
    [InlineData("javascript:alert(1)", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    [InlineData("/signin?returnUrl=%2F", false)]
    [InlineData("/a\r\nSet-Cookie: x", false)]
    public void IsLocal_OnlyPathsOfThisConsole(string? url, bool local)
    {
        Assert.Equal(local, LocalUrl.IsLocal(url));
        Assert.Equal(local ? url : "/", LocalUrl.OrHome(url));
    }
}

public sealed class ApiAddressTests
{
    [Theory]
    [InlineData("http://127.0.0.1:9100", "http://127.0.0.1:9100/")]
    [InlineData("http://0.0.0.0:80", "http://127.0.0.1:80/")]
    [InlineData("http://[::]:8080", "http://[::1]:8080/")]
    [InlineData("http://+:5000", "http://127.0.0.1:5000/")]
    [InlineData("http://*:5000", "http://127.0.0.1:5000/")]
    [InlineData("http://localhost:5000", "http://localhost:5000/")]
    public void FromListening_WildcardHostsBecomeLoopback(string listening, string expected) =>
        Assert.Equal(new Uri(expected), ApiAddress.FromListening([listening]));

    [Fact]
    public void FromListening_PrefersHttp_AndSkipsUnixSockets()
    {
        Assert.Equal(new Uri("http://127.0.0.1:81/"), ApiAddress.FromListening(["https://127.0.0.1:443", "http://127.0.0.1:81"]));
        Assert.Equal(new Uri("https://127.0.0.1:443/"), ApiAddress.FromListening(["http://unix:/run/pitrix.sock", "https://127.0.0.1:443"]));
        Assert.Null(ApiAddress.FromListening([]));
    }
}

public sealed class ReadmeRendererTests
{
    [Fact]
    public void ToSafeHtml_KeepsMarkdown_DropsScriptHandlersAndJavascriptLinks()
    {
        var html = ReadmeRenderer.ToSafeHtml("""
            # Title

            Some **bold** text and `code`, a [link](https://example.org) and a table:

            | a | b |
            |---|---|
            | 1 | 2 |

            <script>alert('x')</script>

            <img src="a.png" onerror="alert('y')">

            A [bad](javascript:alert('z')) link and <a href="JaVaScRiPt:alert(1)">a bad one</a> inline.

            <form action="https://evil.example"><input name="password"></form>

            <div style="position:fixed;top:0;left:0;width:100%;height:100%" class="mud-appbar">Sign in again</div>
            """);

        Assert.Contains("<h1>Title</h1>", html, StringComparison.Ordinal);
        Assert.Contains("<strong>bold</strong>", html, StringComparison.Ordinal);
        Assert.Contains("<table>", html, StringComparison.Ordinal);
        Assert.Contains("href=\"https://example.org\" rel=\"nofollow noopener noreferrer\"", html, StringComparison.Ordinal);
        Assert.Contains("<img src=\"a.png\">", html, StringComparison.Ordinal);
        Assert.Contains(">bad</a>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("alert", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("onerror", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("javascript", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<form", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<input", html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("<div>Sign in again</div>", html, StringComparison.Ordinal);
    }
}

public sealed class SessionStoreTests
{
    private static readonly DateTimeOffset Soon = DateTimeOffset.UnixEpoch.AddYears(60);

    private static Session.SessionTokens Tokens(int generation = 0, string refresh = "refresh-0") =>
        new("key-1", generation, "access-" + generation, Soon, refresh, "usr-1", "alice");

    private static TokenPair Pair(string suffix) =>
        new("access-" + suffix, Soon, "refresh-" + suffix, new UserInfo("usr-1", "alice", null, null, [], [], Soon));

    [Fact]
    public async Task RefreshAsync_ConcurrentCallersWithTheSameTokens_ExchangeOnce()
    {
        var store = new Session.SessionStore(TimeProvider.System);
        var exchanges = 0;
        var release = new TaskCompletionSource();
        async Task<TokenPair?> ExchangeAsync(string refresh, CancellationToken ct)
        {
            Assert.Equal("refresh-0", refresh);
            Interlocked.Increment(ref exchanges);
            await release.Task;
            return Pair("1");
        }

        var stale = Tokens();
        var first = store.RefreshAsync(stale, ExchangeAsync, CancellationToken.None);
        var second = store.RefreshAsync(stale, ExchangeAsync, CancellationToken.None);
        release.SetResult();
        var results = await Task.WhenAll(first, second);

        Assert.Equal(1, exchanges);
        Assert.All(results, r => Assert.Equal((1, "access-1", "refresh-1"), (r!.Generation, r.AccessToken, r.RefreshToken)));

        // A request still holding the old cookie gets the newer pair instead of replaying the old refresh token.
        Assert.Equal("refresh-1", store.Latest(stale)!.RefreshToken);
    }

    [Fact]
    public async Task RefreshAsync_Refused_EndsTheSignIn_ForEveryHolder()
    {
        var store = new Session.SessionStore(TimeProvider.System);
        Assert.Null(await store.RefreshAsync(Tokens(), (_, _) => Task.FromResult<TokenPair?>(null), CancellationToken.None));

        Assert.Null(store.Latest(Tokens()));
        var called = false;
        Assert.Null(await store.RefreshAsync(Tokens(), (_, _) => { called = true; return Task.FromResult<TokenPair?>(Pair("x")); }, CancellationToken.None));
        Assert.False(called);
    }

    [Fact]
    public void End_SignedOut_OldCookieIsNoLongerAccepted()
    {
        var store = new Session.SessionStore(TimeProvider.System);
        var tokens = Tokens();
        Assert.Same(tokens, store.Latest(tokens));

        store.End("key-1");

        Assert.Null(store.Latest(tokens));
    }
}

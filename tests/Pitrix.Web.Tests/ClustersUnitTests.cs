using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;
using Pitrix.Web.Client;
using Pitrix.Web.Components.Pages.Clusters;
using Pitrix.Web.Session;
using Xunit;

namespace Pitrix.Web.Tests;

public sealed class TaskGraphLayoutTests
{
    private static GraphTask T(string key, params string[] dependsOn) => new(key, "kind", "pending", dependsOn);

    [Fact]
    public void Build_ColumnIsTheLongestPathFromARoot()
    {
        // a → b → d, a → c → d, and a shortcut a → d: d still goes after b and c.
        var layout = TaskGraphLayout.Build([T("a"), T("b", "a"), T("c", "a"), T("d", "b", "c", "a"), T("e")]);

        var column = layout.Tasks.ToDictionary(t => t.Task.Key, t => t.Column);
        Assert.Equal(0, column["a"]);
        Assert.Equal(1, column["b"]);
        Assert.Equal(1, column["c"]);
        Assert.Equal(2, column["d"]);
        Assert.Equal(0, column["e"]);
        Assert.Equal(3, layout.Columns);
        Assert.Equal(2, layout.Rows);
        Assert.False(layout.HasCycle);
    }

    [Fact]
    public void Build_EveryEdgePointsRight_AndNoTwoBoxesOverlap()
    {
        // The shape of a vmcluster create: instances in parallel, then a chain, with a compensation on the side.
        List<GraphTask> tasks =
        [
            T("frontgate"), T("create:1", "frontgate"), T("create:2", "frontgate"), T("create:3", "frontgate"),
            T("register", "create:1", "create:2", "create:3"), T("init", "register"), T("start", "init"),
            new("undo:1", "remove_node", "skipped", [], Compensation: true),
        ];

        var layout = TaskGraphLayout.Build(tasks);

        var at = layout.Tasks.ToDictionary(t => t.Task.Key);
        Assert.Equal(8, layout.Edges.Count);
        Assert.All(layout.Edges, e => Assert.True(at[e.From].Column < at[e.To].Column, $"{e.From} → {e.To}"));
        Assert.All(layout.Edges, e => Assert.StartsWith("M", e.Path, StringComparison.Ordinal));
        foreach (var a in layout.Tasks)
        {
            Assert.Equal(TaskGraphLayout.Margin + (a.Column * (TaskGraphLayout.NodeWidth + TaskGraphLayout.ColumnGap)), a.X);
            Assert.Equal(TaskGraphLayout.Margin + (a.Row * (TaskGraphLayout.NodeHeight + TaskGraphLayout.RowGap)), a.Y);
            Assert.True(a.X + TaskGraphLayout.NodeWidth <= layout.Width - TaskGraphLayout.Margin + 0.001);
            Assert.True(a.Y + TaskGraphLayout.NodeHeight <= layout.Height - TaskGraphLayout.Margin + 0.001);
            foreach (var b in layout.Tasks.Where(b => b != a))
            {
                var apart = a.X + TaskGraphLayout.NodeWidth <= b.X || b.X + TaskGraphLayout.NodeWidth <= a.X
                    || a.Y + TaskGraphLayout.NodeHeight <= b.Y || b.Y + TaskGraphLayout.NodeHeight <= a.Y;
                Assert.True(apart, $"{a.Task.Key} overlaps {b.Task.Key}");
            }
        }

        // The three instances share a column, in job order; register waits for all of them.
        Assert.Equal([0, 1, 2], new[] { "create:1", "create:2", "create:3" }.Select(k => at[k].Row));
        Assert.Equal(2, at["register"].Column);
        Assert.Equal(4, at["start"].Column);
    }

    [Fact]
    public void Build_PathOfAnEdge_GoesFromTheRightOfOneBoxToTheLeftOfTheNext()
    {
        var layout = TaskGraphLayout.Build([T("a"), T("b", "a")]);

        var edge = Assert.Single(layout.Edges);
        var x1 = TaskGraphLayout.Margin + TaskGraphLayout.NodeWidth;
        var x2 = TaskGraphLayout.Margin + TaskGraphLayout.NodeWidth + TaskGraphLayout.ColumnGap;
        var y = TaskGraphLayout.Margin + (TaskGraphLayout.NodeHeight / 2);
        Assert.StartsWith(FormattableString.Invariant($"M{x1},{y} C"), edge.Path, StringComparison.Ordinal);
        Assert.EndsWith(FormattableString.Invariant($" {x2},{y}"), edge.Path, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_ACycle_IsNotDrawnAsOne_AndTheLayoutStillEnds()
    {
        // b ↔ c cannot be laid out left to right: they go in a last column, without the edges between them.
        var layout = TaskGraphLayout.Build([T("a"), T("b", "a", "c"), T("c", "b"), T("d", "c"), T("self", "self")]);

        Assert.True(layout.HasCycle);
        var column = layout.Tasks.ToDictionary(t => t.Task.Key, t => t.Column);
        Assert.Equal(0, column["a"]);
        Assert.Equal(0, column["self"]); // a task naming itself is not a cycle worth refusing
        Assert.Equal(1, column["b"]);
        Assert.Equal(1, column["c"]);
        Assert.Equal(1, column["d"]);
        Assert.Equal(5, layout.Tasks.Count);
        Assert.All(layout.Edges, e => Assert.True(column[e.From] < column[e.To]));
        Assert.Contains(layout.Edges, e => e is { From: "a", To: "b" });
        Assert.DoesNotContain(layout.Edges, e => e.From == "b" || e.From == "c");
    }

    [Fact]
    public void Build_UnknownDependenciesAndRepeatedKeys_AreIgnored()
    {
        var layout = TaskGraphLayout.Build([T("a", "not-in-the-job"), T("b", "a"), T("a", "b")]);

        Assert.Equal(["a", "b"], layout.Tasks.Select(t => t.Task.Key));
        Assert.Equal(0, layout.Tasks[0].Column);
        Assert.Single(layout.Edges);
        Assert.False(layout.HasCycle);
    }

    [Fact]
    public void Build_Nothing_IsEmpty()
    {
        var layout = TaskGraphLayout.Build([]);

        Assert.Empty(layout.Tasks);
        Assert.Equal(0, layout.Width);
        Assert.Equal(0, layout.Height);
    }
}

public sealed class WebSessionAdoptTests
{
    private static readonly DateTimeOffset Later = DateTimeOffset.UnixEpoch.AddYears(60);

    private static SessionTokens Tokens(int generation = 0, string key = "key-1") =>
        new(key, generation, "access-" + generation, Later, "refresh-" + generation, "usr-1", "alice", ["user"]);

    private static TokenPair Pair(string suffix) =>
        new("access-" + suffix, Later, "refresh-" + suffix, new UserInfo("usr-1", "alice", null, null, ["user"], [], Later));

    /// <summary>A session as a circuit's scope gets it: here with a live request at hand, whose response has not started, to prove nothing touches it.</summary>
    private static (WebSession Session, DefaultHttpContext Context, SessionCookie Cookie) Circuit(SessionStore store, SessionTokens? cookieTokens = null)
    {
        var cookie = new SessionCookie(new EphemeralDataProtectionProvider());
        var context = new DefaultHttpContext();
        if (cookieTokens is not null)
        {
            var writer = new DefaultHttpContext();
            cookie.Write(writer, cookieTokens);
            var header = writer.Response.Headers.SetCookie.ToString();
            context.Request.Headers.Cookie = header[..header.IndexOf(';', StringComparison.Ordinal)];
        }

        return (new WebSession(new HttpContextAccessor { HttpContext = context }, cookie, store), context, cookie);
    }

    [Fact]
    public void Adopt_TheHandedPair_IsTheSession()
    {
        var (session, _, _) = Circuit(new SessionStore(TimeProvider.System));

        Assert.True(session.Adopt(Tokens()));

        Assert.True(session.IsSignedIn);
        Assert.True(session.IsAdopted);
        Assert.Equal("access-0", session.Tokens!.AccessToken);
        Assert.Equal("alice", session.UserName);
        Assert.True(session.HasRole("user"));
        Assert.False(session.Ended);
    }

    [Fact]
    public async Task Adopt_APairRefreshedSince_TakesTheNewerOne()
    {
        var store = new SessionStore(TimeProvider.System);
        var handed = Tokens();
        await store.RefreshAsync(handed, (_, _) => Task.FromResult<TokenPair?>(Pair("1")), CancellationToken.None);
        var (session, _, _) = Circuit(store);

        Assert.True(session.Adopt(handed));

        Assert.Equal((1, "access-1", "refresh-1"), (session.Tokens!.Generation, session.Tokens.AccessToken, session.Tokens.RefreshToken));
    }

    [Fact]
    public void Adopt_AnEndedSignIn_IsRefused_AndSaysItEnded()
    {
        var store = new SessionStore(TimeProvider.System);
        store.End("key-1");
        var (session, _, _) = Circuit(store);

        Assert.False(session.Adopt(Tokens()));

        Assert.False(session.IsSignedIn);
        Assert.True(session.Ended);
        Assert.Null(session.Tokens);
    }

    [Fact]
    public void Adopt_AnOlderPairThanTheOneHeld_KeepsTheNewer()
    {
        var (session, _, _) = Circuit(new SessionStore(TimeProvider.System));
        session.Adopt(Tokens(2));

        Assert.True(session.Adopt(Tokens(1)));

        Assert.Equal(2, session.Tokens!.Generation);
    }

    [Fact]
    public void Adopt_ThenReplaceAndEnd_NeverWriteOrClearACookie_EvenWithARequestAtHand()
    {
        var store = new SessionStore(TimeProvider.System);
        var (session, context, _) = Circuit(store, cookieTokens: Tokens(5, key: "cookie-key"));
        Assert.False(context.Response.HasStarted);

        session.Adopt(Tokens());
        session.Replace(Tokens(1));

        Assert.Equal("access-1", session.Tokens!.AccessToken);
        Assert.Equal(0, context.Response.Headers.SetCookie.Count);

        session.End(expired: true);

        Assert.Equal(0, context.Response.Headers.SetCookie.Count);
        Assert.True(session.Ended);
        Assert.Null(store.Latest(Tokens())); // the sign-in is over for the browser's next request too
    }

    [Fact]
    public void Adopt_TheCookieOfTheRequestAtHand_IsNeverRead()
    {
        // Without Adopt the same session would read the cookie (the static page's behaviour)…
        var (reading, _, _) = Circuit(new SessionStore(TimeProvider.System), cookieTokens: Tokens(5, key: "cookie-key"));
        Assert.Equal("cookie-key", reading.Tokens!.Key);

        // …adopted, it holds only what it was handed.
        var (adopted, _, _) = Circuit(new SessionStore(TimeProvider.System), cookieTokens: Tokens(5, key: "cookie-key"));
        adopted.Adopt(Tokens());
        Assert.Equal("key-1", adopted.Tokens!.Key);
    }
}

public sealed class ClusterActionsTests
{
    private static ClusterDetail Detail(string format, string status, string? previous = null, IReadOnlyList<string>? custom = null, bool roles = true) => new(
        new ClusterInfo("cl-1", "zk", null, "app-1", "v-2", previous, "rt-1", format, status, null, null, new Dictionary<string, string>(), new Dictionary<string, string>(), "usr-1", null, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, null),
        null,
        roles ? [new ClusterRoleInfo("zk_node", 3, 1, 2048, 0, 10, null)] : [],
        [],
        null,
        custom);

    private static string[] Keys(ClusterDetail detail) => ClusterActions.AvailableFor(detail).Select(a => a.Key).ToArray();

    [Fact]
    public void AvailableFor_AnActiveVmCluster_OffersItsLifecycle()
    {
        Assert.Equal(["stop", "restart", "scale", "resize", "update_config", "upgrade", "delete"], Keys(Detail("vmcluster", "active")));
        Assert.Equal(["stop", "restart", "scale", "resize", "update_config", "upgrade", "rollback", "custom", "delete"], Keys(Detail("vmcluster", "active", previous: "v-1", custom: ["stat"])));
    }

    [Theory]
    [InlineData("stopped", "start,resize,update_config,upgrade,delete")]
    [InlineData("failed", "delete")]
    [InlineData("deleted", "recover")]
    [InlineData("pending", "")]
    [InlineData("ceased", "")]
    public void AvailableFor_OtherStatuses_OfferWhatTheEngineAccepts(string status, string expected) =>
        Assert.Equal(expected.Split(',', StringSplitOptions.RemoveEmptyEntries), Keys(Detail("vmcluster", status)));

    [Fact]
    public void AvailableFor_AHelmRelease_ChangesThroughValuesAndVersionsOnly()
    {
        Assert.Equal(["update_config", "upgrade", "rollback", "delete"], Keys(Detail("helm", "active", previous: "v-1", roles: false)));
        Assert.Equal(["recover"], Keys(Detail("helm", "deleted")));
    }
}

public sealed class ClusterEventTests
{
    [Fact]
    public async Task Feed_ReadsEachEvent_AndRemembersWhereItGotTo()
    {
        const string body = """
            id: 7
            event: task.started
            data: {"seq":7,"cluster_id":"cl-1","job_id":"job-1","task_id":"t-1","type":"task.started","at":"2025-01-01T00:00:00Z","data":{"key":"create:1"}}

            : keep-alive

            id: 8
            event: cluster.updated
            data: {"seq":8,"cluster_id":"cl-1","job_id":null,"task_id":null,"type":"cluster.updated","data":{}}

            id: 9
            data: not json


            """;
        using var response = new HttpResponseMessage();
        await using var feed = new ClusterEventFeed(response, new MemoryStream(Encoding.UTF8.GetBytes(body.ReplaceLineEndings("\n"))), lastEventId: "6");

        var events = new List<ClusterEvent>();
        await foreach (var e in feed.ReadAllAsync(CancellationToken.None))
        {
            events.Add(e);
        }

        Assert.Equal([new ClusterEvent(7, "task.started", "cl-1", "job-1", "t-1"), new ClusterEvent(8, "cluster.updated", "cl-1", null, null)], events);
        Assert.Equal("9", feed.LastEventId);
    }

    [Fact]
    public void JobView_Tail_KeepsTheLastLines()
    {
        var output = string.Join('\n', Enumerable.Range(1, 100).Select(i => $"line {i}"));

        var tail = JobView.Tail(output);

        Assert.StartsWith("…\nline 61\n", tail, StringComparison.Ordinal);
        Assert.EndsWith("line 100", tail, StringComparison.Ordinal);
        Assert.Equal("short", JobView.Tail("short\n"));
        Assert.Equal(6001, JobView.Tail(new string('x', 10_000)).Length);
    }

    [Fact]
    public void JobView_ActionLabel_NamesTheCustomAction()
    {
        var job = new JobInfo("job-1", "cl-1", "custom", "succeeded", null, DateTimeOffset.UnixEpoch, null, null, null, null, null, new JsonObject { ["name"] = "stat" }, 1, 1);

        Assert.Equal("custom: stat", JobView.JobLabel(job));
        Assert.Equal("scale out", JobView.JobLabel(job with { Action = "scale_out", Parameters = null }));
    }
}

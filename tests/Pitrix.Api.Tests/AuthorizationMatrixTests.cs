using System.Net;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Pitrix.Testing;
using Xunit;

namespace Pitrix.Api.Tests;

/// <summary>
/// Every API endpoint × every caller role × own / other's private / shared resource, asserting the
/// status code. The endpoint list is read from the running server, so an endpoint added without an
/// entry here fails <see cref="EveryEndpoint_HasAMatrixEntry"/>.
/// </summary>
public abstract class AuthorizationMatrixTests(ServerFixture fixture)
{
    private const string Own = "own";
    private const string Other = "other";
    private const string Shared = "shared";
    private const string Draft = "draft";
    private const string Active = "active";
    private static readonly string[] Actors = ["anonymous", "admin", "isv", "developer", "user"];
    private static readonly string[] NoScenario = ["-"];
    private static readonly string[] OwnedScenarios = [Own, Other, Shared];
    private static readonly string[] VersionScenarios = [Draft, Active, Other];

    private TestServer Server => fixture.Server;

    /// <summary>A request to make: path and body, prepared (with whatever resources it needs) for one actor and scenario.</summary>
    private sealed record Call(string Path, object? Body = null);

    private sealed record Entry(string Method, string Pattern, string[] Scenarios, Func<World, string, string, Task<Call>> Prepare, Func<string, string, int> Expect);

    /// <summary>The users and groups the matrix runs with.</summary>
    private sealed class World
    {
        public required TestServer Server { get; init; }

        public required Dictionary<string, ApiSession> Sessions { get; init; }

        public required ApiSession Owner { get; init; }

        public required string SharedGroupId { get; init; }

        /// <summary>A developer of another group.</summary>
        public required ApiSession Stranger { get; init; }

        public ApiSession As(string actor) => Sessions[actor];

        /// <summary>
        /// Creates a repo: own = by the actor when their role may create repos (else a private one of the
        /// admin's), other = a private repo of a developer of another group, shared = shared with the group by admin.
        /// </summary>
        public async Task<string> RepoAsync(string actor, string scenario)
        {
            var (creator, body) = scenario switch
            {
                Own when actor is "admin" or "isv" or "developer" => (Sessions[actor], (object)new { name = ServerFixture.Unique("repo") }),
                Own or Other => (scenario == Own ? Sessions["admin"] : Stranger, new { name = ServerFixture.Unique("repo"), visibility = "private" }),
                _ => (Sessions["admin"], new { name = ServerFixture.Unique("repo"), visibility = "group", group_ids = new[] { SharedGroupId } }),
            };
            var created = await creator.PostAsync("/api/v1/repos", body);
            Assert.Equal(HttpStatusCode.Created, created.Status);
            return created.Id;
        }

        /// <summary>
        /// Uploads a version: draft = a draft in the group's upload repo, active = released there,
        /// other = released in another group's upload repo. Returns (app id, version id).
        /// </summary>
        public async Task<(string App, string Version)> VersionAsync(string scenario)
        {
            var author = scenario == Other ? Stranger : Sessions["developer"];
            var (_, archive) = await SamplePackages.BuildAsync();
            var uploaded = await author.UploadAsync("/api/v1/apps", archive);
            Assert.Equal(HttpStatusCode.Created, uploaded.Status);
            var version = uploaded.Id;
            if (scenario != Draft)
            {
                foreach (var (session, action) in new[] { (author, "submit"), (Sessions["admin"], "review"), (Sessions["admin"], "pass"), (author, "release") })
                {
                    Assert.Equal(HttpStatusCode.OK, (await session.PostAsync($"/api/v1/app_versions/{version}:{action}", new { message = "m" })).Status);
                }
            }

            return ((string)uploaded.Body!["app_id"]!, version);
        }

        public async Task<string> CategoryAsync()
        {
            var created = await Sessions["admin"].PostAsync("/api/v1/categories", new { name = ServerFixture.Unique("cat") });
            return created.Id;
        }

        /// <summary>Creates a runtime: own = by the actor, other = private of another user, shared = public, by admin.</summary>
        public async Task<string> RuntimeAsync(string actor, string scenario)
        {
            var (creator, body) = scenario switch
            {
                Own => (Sessions[actor == "anonymous" ? "user" : actor], (object)new { name = ServerFixture.Unique("rt"), provider = "local" }),
                Other => (Owner, new { name = ServerFixture.Unique("rt"), provider = "local" }),
                _ => (Sessions["admin"], new { name = ServerFixture.Unique("rt"), provider = "local", visibility = "public" }),
            };
            var created = await creator.PostAsync("/api/v1/runtimes", body);
            Assert.Equal(HttpStatusCode.Created, created.Status);
            return created.Id;
        }

        /// <summary>Creates a credential: own, other = private of another user, shared = shared with a group every actor is in.</summary>
        public async Task<string> CredentialAsync(string actor, string scenario)
        {
            var (creator, body) = scenario switch
            {
                Own => (Sessions[actor == "anonymous" ? "user" : actor], (object)new { name = ServerFixture.Unique("c"), provider = "local", secret = "s" }),
                Other => (Owner, new { name = ServerFixture.Unique("c"), provider = "local", secret = "s" }),
                _ => (Owner, new { name = ServerFixture.Unique("c"), provider = "local", secret = "s", visibility = "group", group_id = SharedGroupId }),
            };
            var created = await creator.PostAsync("/api/v1/credentials", body);
            Assert.Equal(HttpStatusCode.Created, created.Status);
            return created.Id;
        }

        /// <summary>A released app in a public store and a public fake runtime, for clusters.</summary>
        public required (string Version, string Runtime) Deployable { get; init; }

        private readonly Dictionary<(string, string), (string Cluster, string Job)> _clusters = [];

        /// <summary>
        /// A cluster whose create job is still running (its fake tasks take a minute), so every action on it
        /// answers deterministically: own = the actor's, other = private of another user, shared = shared with
        /// the actors' group. Reused per actor and scenario unless <paramref name="fresh"/>.
        /// </summary>
        public async Task<(string Cluster, string Job)> ClusterAsync(string actor, string scenario, bool fresh = false)
        {
            if (!fresh && _clusters.TryGetValue((actor, scenario), out var known))
            {
                return known;
            }

            var creator = scenario == Own ? Sessions[actor == "anonymous" ? "user" : actor] : Owner;
            var created = await creator.PostAsync("/api/v1/clusters", new
            {
                name = ServerFixture.Unique("cl"),
                app_version_id = Deployable.Version,
                runtime_id = Deployable.Runtime,
                values = new { cluster = new { subnet = "s" } },
                labels = new Dictionary<string, string> { ["fake.latency-ms"] = "60000" },
                visibility = scenario == Shared ? "group" : "private",
                group_id = scenario == Shared ? SharedGroupId : null,
            });
            Assert.True(created.Status == HttpStatusCode.Accepted, created.ToString());
            var made = ((string)created.Body!["cluster"]!["id"]!, (string)created.Body["job"]!["id"]!);
            if (!fresh)
            {
                _clusters[(actor, scenario)] = made;
            }

            return made;
        }

        public object NewCluster() => new
        {
            name = ServerFixture.Unique("cl"),
            app_version_id = Deployable.Version,
            runtime_id = Deployable.Runtime,
            values = new { cluster = new { subnet = "s" } },
            labels = new Dictionary<string, string> { ["fake.latency-ms"] = "60000" },
        };

        public async Task<string> UserAsync()
        {
            var created = await Sessions["admin"].PostAsync("/api/v1/users", new { name = ServerFixture.Unique("target"), password = "password-target" });
            return created.Id;
        }

        public async Task<string> GroupAsync()
        {
            var created = await Sessions["admin"].PostAsync("/api/v1/groups", new { name = ServerFixture.Unique("g") });
            return created.Id;
        }
    }

    /// <summary>Anyone signed in may call it; anonymous callers get 401.</summary>
    private static Func<string, string, int> SignedIn(int status) => (actor, _) => actor == "anonymous" ? 401 : status;

    /// <summary>Admins only: anonymous 401, other roles 403.</summary>
    private static Func<string, string, int> AdminOnly(int status) => (actor, _) => actor switch
    {
        "anonymous" => 401,
        "admin" => status,
        _ => 403,
    };

    /// <summary>A resource endpoint: the owner and admins succeed; others' private resources are not found; shared ones as given.</summary>
    private static Func<string, string, int> Owned(int status, int sharedForMembers, int sharedForIsv) => (actor, scenario) => (actor, scenario) switch
    {
        ("anonymous", _) => 401,
        ("admin", _) => status,
        (_, Own) => status,
        (_, Other) => 404,
        ("isv", _) => sharedForIsv,
        _ => sharedForMembers,
    };

    /// <summary>Repos: creators own theirs; the user role creates none, so its "own" repo is someone else's private one.</summary>
    private static Func<string, string, int> RepoAccess(int status, int shared) => (actor, scenario) => (actor, scenario) switch
    {
        ("anonymous", _) => 401,
        ("admin", _) => status,
        ("user", Own) => 404,
        (_, Own) => status,
        (_, Other) => 404,
        _ => shared,
    };

    /// <summary>
    /// Catalog reads: a draft is seen by the authors of its repo (admin, the group's isv and developer), an
    /// active version by every member, another group's app by admins only.
    /// </summary>
    private static Func<string, string, int> CatalogRead(int status, int activeForUser = -1) => (actor, scenario) => (actor, scenario) switch
    {
        ("anonymous", _) => 401,
        ("admin", _) => status,
        (_, Other) => 404,
        ("user", Draft) => 404,
        ("user", Active) => activeForUser < 0 ? status : activeForUser,
        _ => status,
    };

    /// <summary>The outcome of a review transition, following ReviewWorkflow: role first, then state.</summary>
    private static Func<string, string, int> Transition(string action) => (actor, scenario) =>
    {
        var reviewerAction = action is "review" or "pass" or "reject";
        var from = scenario == Draft ? "draft" : "active";
        var allowedFrom = action switch
        {
            "submit" or "delete" => from == "draft",
            "suspend" => from == "active",
            _ => false,
        };
        return (actor, scenario) switch
        {
            ("anonymous", _) => 401,
            ("admin", _) => allowedFrom ? 200 : 409,
            (_, Other) => 404,
            ("user", Draft) => 404,
            ("user", _) => 403,
            ("developer", _) when reviewerAction => 403,
            _ => allowedFrom ? 200 : 409,
        };
    };

    private static readonly Entry[] Matrix =
    [
        new("POST", "/api/v1/auth/login", NoScenario, (_, _, _) => Task.FromResult(new Call("/api/v1/auth/login", new { })), (_, _) => 400),
        new("POST", "/api/v1/auth/refresh", NoScenario, (_, _, _) => Task.FromResult(new Call("/api/v1/auth/refresh", new { refresh_token = "pxr_unknown" })), (_, _) => 401),
        new("POST", "/api/v1/auth/logout", NoScenario, (_, _, _) => Task.FromResult(new Call("/api/v1/auth/logout")), SignedIn(204)),
        new("GET", "/api/v1/me", NoScenario, (_, _, _) => Task.FromResult(new Call("/api/v1/me")), SignedIn(200)),
        new("PUT", "/api/v1/me/password", NoScenario, (_, _, _) => Task.FromResult(new Call("/api/v1/me/password", new { current_password = "wrong-wrong", new_password = "new-password-1" })), SignedIn(400)),
        new("GET", "/api/v1/me/tokens", NoScenario, (_, _, _) => Task.FromResult(new Call("/api/v1/me/tokens")), SignedIn(200)),
        new("POST", "/api/v1/me/tokens", NoScenario, (_, _, _) => Task.FromResult(new Call("/api/v1/me/tokens", new { name = ServerFixture.Unique("tok") })), SignedIn(201)),
        new("DELETE", "/api/v1/me/tokens/{id}", [Own, Other], async (w, actor, scenario) =>
        {
            var creator = scenario == Own && actor != "anonymous" ? w.As(actor) : w.Owner;
            var token = await creator.PostAsync("/api/v1/me/tokens", new { name = ServerFixture.Unique("tok") });
            return new Call($"/api/v1/me/tokens/{token.Id}");
        }, (actor, scenario) => actor == "anonymous" ? 401 : scenario == Own ? 204 : 404),

        new("GET", "/api/v1/users", NoScenario, (_, _, _) => Task.FromResult(new Call("/api/v1/users")), AdminOnly(200)),
        new("POST", "/api/v1/users", NoScenario, (_, _, _) => Task.FromResult(new Call("/api/v1/users", new { name = ServerFixture.Unique("u"), password = "password-u" })), AdminOnly(201)),
        new("GET", "/api/v1/users/{id}", NoScenario, async (w, _, _) => new Call($"/api/v1/users/{await w.UserAsync()}"), AdminOnly(200)),
        new("PATCH", "/api/v1/users/{id}", NoScenario, async (w, _, _) => new Call($"/api/v1/users/{await w.UserAsync()}", new { display_name = "x" }), AdminOnly(200)),
        new("DELETE", "/api/v1/users/{id}", NoScenario, async (w, _, _) => new Call($"/api/v1/users/{await w.UserAsync()}"), AdminOnly(204)),
        new("PUT", "/api/v1/users/{id}/roles", NoScenario, async (w, _, _) => new Call($"/api/v1/users/{await w.UserAsync()}/roles", new { roles = new[] { "developer" } }), AdminOnly(200)),

        new("GET", "/api/v1/groups", NoScenario, (_, _, _) => Task.FromResult(new Call("/api/v1/groups")), AdminOnly(200)),
        new("POST", "/api/v1/groups", NoScenario, (_, _, _) => Task.FromResult(new Call("/api/v1/groups", new { name = ServerFixture.Unique("g") })), AdminOnly(201)),
        new("GET", "/api/v1/groups/{id}", NoScenario, async (w, _, _) => new Call($"/api/v1/groups/{await w.GroupAsync()}"), AdminOnly(200)),
        new("PATCH", "/api/v1/groups/{id}", NoScenario, async (w, _, _) => new Call($"/api/v1/groups/{await w.GroupAsync()}", new { description = "d" }), AdminOnly(200)),
        new("DELETE", "/api/v1/groups/{id}", NoScenario, async (w, _, _) => new Call($"/api/v1/groups/{await w.GroupAsync()}"), AdminOnly(204)),
        new("PUT", "/api/v1/groups/{id}/members/{userId}", NoScenario, async (w, _, _) => new Call($"/api/v1/groups/{await w.GroupAsync()}/members/{await w.UserAsync()}"), AdminOnly(204)),
        new("DELETE", "/api/v1/groups/{id}/members/{userId}", NoScenario, async (w, _, _) =>
        {
            var group = await w.GroupAsync();
            var user = await w.UserAsync();
            await w.As("admin").PutAsync($"/api/v1/groups/{group}/members/{user}");
            return new Call($"/api/v1/groups/{group}/members/{user}");
        }, AdminOnly(204)),

        new("GET", "/api/v1/providers", NoScenario, (_, _, _) => Task.FromResult(new Call("/api/v1/providers")), SignedIn(200)),
        new("GET", "/api/v1/runtimes", NoScenario, (_, _, _) => Task.FromResult(new Call("/api/v1/runtimes")), SignedIn(200)),
        new("POST", "/api/v1/runtimes", NoScenario, (_, _, _) => Task.FromResult(new Call("/api/v1/runtimes", new { name = ServerFixture.Unique("rt"), provider = "local" })), SignedIn(201)),
        new("GET", "/api/v1/runtimes/{id}", OwnedScenarios, async (w, a, s) => new Call($"/api/v1/runtimes/{await w.RuntimeAsync(a, s)}"), Owned(200, 200, 200)),
        new("PATCH", "/api/v1/runtimes/{id}", OwnedScenarios, async (w, a, s) => new Call($"/api/v1/runtimes/{await w.RuntimeAsync(a, s)}", new { description = "d" }), Owned(200, 403, 403)),
        new("DELETE", "/api/v1/runtimes/{id}", OwnedScenarios, async (w, a, s) => new Call($"/api/v1/runtimes/{await w.RuntimeAsync(a, s)}"), Owned(204, 403, 403)),
        new("POST", "/api/v1/runtimes/{id}:validate", OwnedScenarios, async (w, a, s) => new Call($"/api/v1/runtimes/{await w.RuntimeAsync(a, s)}:validate"), Owned(200, 200, 200)),

        new("GET", "/api/v1/credentials", NoScenario, (_, _, _) => Task.FromResult(new Call("/api/v1/credentials")), SignedIn(200)),
        new("POST", "/api/v1/credentials", NoScenario, (_, _, _) => Task.FromResult(new Call("/api/v1/credentials", new { name = ServerFixture.Unique("c"), provider = "local", secret = "s" })), SignedIn(201)),
        new("GET", "/api/v1/credentials/{id}", OwnedScenarios, async (w, a, s) => new Call($"/api/v1/credentials/{await w.CredentialAsync(a, s)}"), Owned(200, 200, 200)),
        new("PATCH", "/api/v1/credentials/{id}", OwnedScenarios, async (w, a, s) => new Call($"/api/v1/credentials/{await w.CredentialAsync(a, s)}", new { description = "d" }), Owned(200, 403, 200)),
        new("DELETE", "/api/v1/credentials/{id}", OwnedScenarios, async (w, a, s) => new Call($"/api/v1/credentials/{await w.CredentialAsync(a, s)}"), Owned(204, 403, 204)),

        new("GET", "/api/v1/audit", NoScenario, (_, _, _) => Task.FromResult(new Call("/api/v1/audit")), SignedIn(200)),

        new("GET", "/api/v1/repos", NoScenario, (_, _, _) => Task.FromResult(new Call("/api/v1/repos")), SignedIn(200)),
        new("POST", "/api/v1/repos", NoScenario, (_, _, _) => Task.FromResult(new Call("/api/v1/repos", new { name = ServerFixture.Unique("repo") })), (actor, _) => actor switch { "anonymous" => 401, "user" => 403, _ => 201 }),
        new("GET", "/api/v1/repos/{id}", OwnedScenarios, async (w, a, s) => new Call($"/api/v1/repos/{await w.RepoAsync(a, s)}"), RepoAccess(200, 200)),
        new("PATCH", "/api/v1/repos/{id}", OwnedScenarios, async (w, a, s) => new Call($"/api/v1/repos/{await w.RepoAsync(a, s)}", new { description = "d" }), RepoAccess(200, 403)),
        new("DELETE", "/api/v1/repos/{id}", OwnedScenarios, async (w, a, s) => new Call($"/api/v1/repos/{await w.RepoAsync(a, s)}"), RepoAccess(204, 403)),
        new("POST", "/api/v1/repos:validate", NoScenario, (_, _, _) => Task.FromResult(new Call("/api/v1/repos:validate", new { url = "http://127.0.0.1:9/" })), (actor, _) => actor switch { "anonymous" => 401, "user" => 403, _ => 200 }),
        new("POST", "/api/v1/repos/{id}:sync", OwnedScenarios, async (w, a, s) => new Call($"/api/v1/repos/{await w.RepoAsync(a, s)}:sync"), RepoAccess(409, 403)),
        new("GET", "/api/v1/repos/{id}/syncs", OwnedScenarios, async (w, a, s) => new Call($"/api/v1/repos/{await w.RepoAsync(a, s)}/syncs"), RepoAccess(200, 200)),
        new("GET", "/api/v1/repos/{id}/syncs/{syncId}", OwnedScenarios, async (w, a, s) => new Call($"/api/v1/repos/{await w.RepoAsync(a, s)}/syncs/rsync-none"), RepoAccess(404, 404)),
        new("POST", "/api/v1/repos/{id}:rotate_webhook_secret", OwnedScenarios, async (w, a, s) => new Call($"/api/v1/repos/{await w.RepoAsync(a, s)}:rotate_webhook_secret"), RepoAccess(409, 403)),
        new("POST", "/api/v1/repos/{id}/webhook", OwnedScenarios, async (w, a, s) => new Call($"/api/v1/repos/{await w.RepoAsync(a, s)}/webhook", new { }), (_, _) => 401),
        new("GET", "/api/v1/repos/{id}/index.yaml", OwnedScenarios, async (w, a, s) => new Call($"/api/v1/repos/{await w.RepoAsync(a, s)}/index.yaml"), RepoAccess(200, 200)),

        new("GET", "/api/v1/apps", NoScenario, (_, _, _) => Task.FromResult(new Call("/api/v1/apps")), SignedIn(200)),
        new("POST", "/api/v1/apps", NoScenario, (_, _, _) => Task.FromResult(new Call("/api/v1/apps", new { })), (actor, _) => actor switch { "anonymous" => 401, "user" => 403, _ => 400 }),
        new("GET", "/api/v1/apps/{id}", VersionScenarios, async (w, _, s) => new Call($"/api/v1/apps/{(await w.VersionAsync(s)).App}"), CatalogRead(200)),
        new("GET", "/api/v1/apps/{id}/icon", VersionScenarios, async (w, _, s) => new Call($"/api/v1/apps/{(await w.VersionAsync(s)).App}/icon"), CatalogRead(200)),
        new("GET", "/api/v1/apps/{id}/versions", VersionScenarios, async (w, _, s) => new Call($"/api/v1/apps/{(await w.VersionAsync(s)).App}/versions"), CatalogRead(200)),
        new("GET", "/api/v1/apps/{id}/usage", VersionScenarios, async (w, _, s) => new Call($"/api/v1/apps/{(await w.VersionAsync(s)).App}/usage"), CatalogRead(200, 403)),
        new("POST", "/api/v1/apps/{id}/versions", VersionScenarios, async (w, _, s) => new Call($"/api/v1/apps/{(await w.VersionAsync(s)).App}/versions", new { }), (actor, _) => actor switch { "anonymous" => 401, "user" => 403, _ => 400 }),
        new("PUT", "/api/v1/apps/{id}/categories", VersionScenarios, async (w, _, s) => new Call($"/api/v1/apps/{(await w.VersionAsync(s)).App}/categories", new { category_ids = Array.Empty<string>() }), CatalogRead(200, 403)),

        new("GET", "/api/v1/app_versions/{id}", VersionScenarios, async (w, _, s) => new Call($"/api/v1/app_versions/{(await w.VersionAsync(s)).Version}"), CatalogRead(200)),
        new("GET", "/api/v1/app_versions/{id}/package", VersionScenarios, async (w, _, s) => new Call($"/api/v1/app_versions/{(await w.VersionAsync(s)).Version}/package"), CatalogRead(200)),
        new("GET", "/api/v1/app_versions/{id}/package/{file}", VersionScenarios, async (w, _, s) => new Call($"/api/v1/app_versions/{(await w.VersionAsync(s)).Version}/package/x-1.0.0.tgz"), CatalogRead(200)),
        new("GET", "/api/v1/app_versions/{id}/events", VersionScenarios, async (w, _, s) => new Call($"/api/v1/app_versions/{(await w.VersionAsync(s)).Version}/events"), CatalogRead(200, 403)),
        new("GET", "/api/v1/app_versions/{id}/runtimes", VersionScenarios, async (w, _, s) => new Call($"/api/v1/app_versions/{(await w.VersionAsync(s)).Version}/runtimes"), CatalogRead(200)),
        new("GET", "/api/v1/app_versions/{id}/locales", VersionScenarios, async (w, _, s) => new Call($"/api/v1/app_versions/{(await w.VersionAsync(s)).Version}/locales"), CatalogRead(200)),
        new("GET", "/api/v1/reviews", NoScenario, (_, _, _) => Task.FromResult(new Call("/api/v1/reviews")), (actor, _) => actor switch { "anonymous" => 401, "admin" or "isv" => 200, _ => 403 }),
        .. new[] { "submit", "cancel", "review", "pass", "reject", "release", "suspend", "recover", "delete" }.Select(action =>
            new Entry("POST", "/api/v1/app_versions/{id}:" + action, VersionScenarios, async (w, _, s) => new Call($"/api/v1/app_versions/{(await w.VersionAsync(s)).Version}:{action}", new { message = "m" }), Transition(action))),

        new("GET", "/api/v1/clusters", NoScenario, (_, _, _) => Task.FromResult(new Call("/api/v1/clusters")), SignedIn(200)),
        new("POST", "/api/v1/clusters", NoScenario, (w, _, _) => Task.FromResult(new Call("/api/v1/clusters", w.NewCluster())), SignedIn(202)),
        new("POST", "/api/v1/clusters:plan", NoScenario, (w, _, _) => Task.FromResult(new Call("/api/v1/clusters:plan", w.NewCluster())), SignedIn(200)),
        new("GET", "/api/v1/clusters/{id}", OwnedScenarios, async (w, a, s) => new Call($"/api/v1/clusters/{(await w.ClusterAsync(a, s)).Cluster}"), Owned(200, 200, 200)),
        new("GET", "/api/v1/clusters/{id}/jobs", OwnedScenarios, async (w, a, s) => new Call($"/api/v1/clusters/{(await w.ClusterAsync(a, s)).Cluster}/jobs"), Owned(200, 200, 200)),
        new("GET", "/api/v1/clusters/{id}/values", OwnedScenarios, async (w, a, s) => new Call($"/api/v1/clusters/{(await w.ClusterAsync(a, s)).Cluster}/values"), Owned(200, 200, 200)),

        // The matrix's clusters are vmcluster ones, which have no manifest: whoever may read them learns that.
        new("GET", "/api/v1/clusters/{id}/manifest", OwnedScenarios, async (w, a, s) => new Call($"/api/v1/clusters/{(await w.ClusterAsync(a, s)).Cluster}/manifest"), Owned(409, 409, 409)),
        new("POST", "/api/v1/clusters/{id}:plan", OwnedScenarios, async (w, a, s) => new Call($"/api/v1/clusters/{(await w.ClusterAsync(a, s)).Cluster}:plan", new { action = "start" }), Owned(409, 403, 409)),
        .. new[] { "start", "stop", "restart", "delete", "recover", "cease", "resize", "scale_out", "scale_in", "update_config", "upgrade", "rollback", "run_action" }.Select(action =>
            new Entry("POST", "/api/v1/clusters/{id}:" + action, OwnedScenarios, async (w, a, s) => new Call($"/api/v1/clusters/{(await w.ClusterAsync(a, s)).Cluster}:{action}", ActionBody(action, w)), Owned(ActionStatus(action), 403, ActionStatus(action)))),
        new("GET", "/api/v1/jobs/{id}", OwnedScenarios, async (w, a, s) => new Call($"/api/v1/jobs/{(await w.ClusterAsync(a, s)).Job}"), Owned(200, 200, 200)),
        new("POST", "/api/v1/jobs/{id}:retry", OwnedScenarios, async (w, a, s) => new Call($"/api/v1/jobs/{(await w.ClusterAsync(a, s)).Job}:retry"), Owned(409, 403, 409)),
        new("POST", "/api/v1/jobs/{id}:cancel", OwnedScenarios, async (w, a, s) => new Call($"/api/v1/jobs/{(await w.ClusterAsync(a, s, fresh: true)).Job}:cancel"), Owned(200, 403, 200)),
        new("GET", "/api/v1/events", OwnedScenarios, async (w, a, s) => new Call($"/api/v1/events?cluster={(await w.ClusterAsync(a, s)).Cluster}&follow=false"), Owned(200, 200, 200)),

        new("GET", "/api/v1/categories", NoScenario, (_, _, _) => Task.FromResult(new Call("/api/v1/categories")), SignedIn(200)),
        new("POST", "/api/v1/categories", NoScenario, (_, _, _) => Task.FromResult(new Call("/api/v1/categories", new { name = ServerFixture.Unique("cat") })), AdminOnly(201)),
        new("GET", "/api/v1/categories/{id}", NoScenario, async (w, _, _) => new Call($"/api/v1/categories/{await w.CategoryAsync()}"), SignedIn(200)),
        new("PATCH", "/api/v1/categories/{id}", NoScenario, async (w, _, _) => new Call($"/api/v1/categories/{await w.CategoryAsync()}", new { description = "d" }), AdminOnly(200)),
        new("DELETE", "/api/v1/categories/{id}", NoScenario, async (w, _, _) => new Call($"/api/v1/categories/{await w.CategoryAsync()}"), AdminOnly(204)),
    ];

    /// <summary>Bodies that pass validation, so an authorized caller meets the busy cluster (409) rather than a 400.</summary>
    private static object? ActionBody(string action, World world) => action switch
    {
        "resize" => new { roles = new { zk_node = new { cpu = 2 } } },
        "scale_out" => new { roles = new { zk_node = 1 } },
        "scale_in" => new { node_ids = new[] { "cln-any" } },
        "update_config" => new { values = new { env = new { tick_time = 3000 } } },
        "upgrade" => new { app_version_id = world.Deployable.Version },
        "run_action" => new { name = "anything" },
        _ => null,
    };

    /// <summary>
    /// What an authorized caller gets on a cluster whose create job runs: busy (409), or the refusal its body
    /// causes first — an upgrade to the version it already runs is invalid (400), and a never-upgraded cluster
    /// has nothing to roll back to (409).
    /// </summary>
    private static int ActionStatus(string action) => action == "upgrade" ? 400 : 409;

    private static string Key(string method, string pattern) => $"{method} {pattern.TrimEnd('/')}";

    [Fact]
    public void EveryEndpoint_HasAMatrixEntry()
    {
        var endpoints = Server.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith("/api/", StringComparison.Ordinal) == true)
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["*"]).Select(m => Key(m, e.RoutePattern.RawText!)))
            .ToHashSet();
        var covered = Matrix.Select(m => Key(m.Method, m.Pattern)).ToHashSet();

        Assert.True(endpoints.Count > 30, $"Only {endpoints.Count} endpoints found; the endpoint listing is broken.");
        Assert.Empty(endpoints.Except(covered));
        Assert.Empty(covered.Except(endpoints));
    }

    [Fact]
    public async Task EveryEndpoint_RoleAndOwnership_GetTheExpectedStatus()
    {
        var world = await CreateWorldAsync();
        var failures = new List<string>();
        var checkedCount = 0;
        foreach (var entry in Matrix)
        {
            foreach (var actor in Actors)
            {
                foreach (var scenario in entry.Scenarios)
                {
                    var call = await entry.Prepare(world, actor, scenario);

                    // Sign-out ends the caller's sign-in, so it runs on a sign-in of its own.
                    using var fresh = entry.Pattern == "/api/v1/auth/logout" && actor != "anonymous" ? await Server.LoginAsync(Name(actor), Password(actor)) : null;
                    var session = fresh ?? world.As(actor);
                    var response = await session.SendAsync(new HttpMethod(entry.Method), call.Path, call.Body);
                    var expected = entry.Expect(actor, scenario);
                    checkedCount++;
                    if ((int)response.Status != expected)
                    {
                        failures.Add($"{entry.Method} {entry.Pattern} as {actor} on {scenario}: expected {expected}, got {response}");
                    }
                    else if (expected >= 400 && response.Code is null)
                    {
                        failures.Add($"{entry.Method} {entry.Pattern} as {actor} on {scenario}: {expected} without a problem code");
                    }
                }
            }
        }

        Assert.True(failures.Count == 0, $"{failures.Count} of {checkedCount} cases failed:\n" + string.Join("\n", failures));
        Assert.True(checkedCount > 200, $"Only {checkedCount} cases ran.");
    }

    private string Password(string actor) => actor == "admin" ? TestServer.AdminPassword : "password-" + Name(actor);

    private string Name(string actor) => actor == "admin" ? "admin" : $"{actor}-{_suffix}";

    private readonly string _suffix = Guid.NewGuid().ToString("N")[..6];

    private async Task<World> CreateWorldAsync()
    {
        using var setup = await Server.LoginAdminAsync();
        var group = await setup.PostAsync("/api/v1/groups", new { name = ServerFixture.Unique("matrix") });
        var sessions = new Dictionary<string, ApiSession>
        {
            ["anonymous"] = Server.Anonymous(),
            ["admin"] = await Server.LoginAsync("admin", TestServer.AdminPassword),
        };
        foreach (var role in new[] { "isv", "developer", "user" })
        {
            await setup.PostAsync("/api/v1/users", new { name = Name(role), password = "password-" + Name(role), roles = new[] { role }, group_ids = new[] { group.Id } });
            sessions[role] = await Server.LoginAsync(Name(role), "password-" + Name(role));
        }

        var ownerName = $"owner-{_suffix}";
        await setup.PostAsync("/api/v1/users", new { name = ownerName, password = "password-owner", roles = new[] { "user" }, group_ids = new[] { group.Id } });
        var owner = await Server.LoginAsync(ownerName, "password-owner");
        var strangers = await setup.PostAsync("/api/v1/groups", new { name = ServerFixture.Unique("strangers") });
        var strangerName = $"stranger-{_suffix}";
        await setup.PostAsync("/api/v1/users", new { name = strangerName, password = "password-stranger", roles = new[] { "developer" }, group_ids = new[] { strangers.Id } });
        var stranger = await Server.LoginAsync(strangerName, "password-stranger");
        var repoId = await FakeCloudWorld.PublicRepoAsync(sessions["admin"]);
        var deployable = (await FakeCloudWorld.ReleaseSampleAsync(sessions["admin"], repoId, ServerFixture.Unique("zk"), "1.0.0"), await FakeCloudWorld.FakeRuntimeAsync(sessions["admin"]));
        return new World { Server = Server, Sessions = sessions, Owner = owner, SharedGroupId = group.Id, Stranger = stranger, Deployable = deployable };
    }
}

public sealed class SqliteAuthorizationMatrixTests(SqliteFakeCloudServerFixture fixture) : AuthorizationMatrixTests(fixture), IClassFixture<SqliteFakeCloudServerFixture>;

public sealed class PostgresAuthorizationMatrixTests(PostgresFakeCloudServerFixture fixture) : AuthorizationMatrixTests(fixture), IClassFixture<PostgresFakeCloudServerFixture>;

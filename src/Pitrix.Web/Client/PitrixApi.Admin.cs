using System.Globalization;
using System.Text.Json.Nodes;

namespace Pitrix.Web.Client;

public sealed partial class PitrixApi
{
    private AdminApi? _admin;

    /// <summary>The calls of the administration pages (review, repos, runtimes, categories, users, groups, audit).</summary>
    public AdminApi Admin => _admin ??= new AdminApi(this);

    /// <summary>
    /// The administration calls, kept apart so their names never meet another area's. Whether the caller may
    /// make them is the API's to say: a non-admin gets its refusal.
    /// </summary>
    public sealed class AdminApi(PitrixApi api)
    {
        private static readonly CancellationToken None = CancellationToken.None;

        /// <summary>
        /// Asks the API whether the caller administers the platform, by reading one user (an admin-only
        /// resource): a non-admin gets the API's refusal as an <see cref="ApiException"/>.
        /// </summary>
        public Task CheckAccessAsync() => api.GetAsync<PageOf<AdminUser>>("api/v1/users?limit=1", None);

        public Task<PageOf<AdminReviewItem>> ListReviewsAsync(string? status, string? q, string? sort, int limit, int offset) =>
            api.GetAsync<PageOf<AdminReviewItem>>("api/v1/reviews" + Query(("status", status), ("q", q), ("sort", sort), ("limit", Number(limit)), ("offset", Number(offset))), None);

        public Task<AdminVersionDetail> GetVersionAsync(string id) => api.GetAsync<AdminVersionDetail>("api/v1/app_versions/" + Esc(id), None);

        public Task<List<AdminVersionEvent>> ListVersionEventsAsync(string id) => api.GetAsync<List<AdminVersionEvent>>($"api/v1/app_versions/{Esc(id)}/events", None);

        /// <summary><c>POST /app_versions/{id}:{action}</c> — review, pass, reject (message required), suspend, …</summary>
        public Task MoveVersionAsync(string id, string action, string? message) =>
            api.SendAsync<JsonNode>(HttpMethod.Post, $"api/v1/app_versions/{Esc(id)}:{action}", new { message }, authenticate: true, None);

        public Task<PageOf<AdminRepo>> ListReposAsync(string? q, string? type, int limit, int offset) =>
            api.GetAsync<PageOf<AdminRepo>>("api/v1/repos" + Query(("q", q), ("type", type), ("limit", Number(limit)), ("offset", Number(offset))), None);

        public Task<AdminRepo> GetRepoAsync(string id) => api.GetAsync<AdminRepo>("api/v1/repos/" + Esc(id), None);

        public Task<AdminRepo> CreateRepoAsync(AdminNewRepo repo) => api.SendAsync<AdminRepo>(HttpMethod.Post, "api/v1/repos", repo, authenticate: true, None);

        public Task DeleteRepoAsync(string id) => api.SendAsync<JsonNode>(HttpMethod.Delete, "api/v1/repos/" + Esc(id), null, authenticate: true, None);

        public Task<AdminRepoValidation> ValidateRepoAsync(string? url, AdminRepoCredential? credential) =>
            api.SendAsync<AdminRepoValidation>(HttpMethod.Post, "api/v1/repos:validate", new { url, credential }, authenticate: true, None);

        public Task<AdminRepoSync> SyncRepoAsync(string id) => api.SendAsync<AdminRepoSync>(HttpMethod.Post, $"api/v1/repos/{Esc(id)}:sync", null, authenticate: true, None);

        public Task<PageOf<AdminRepoSync>> ListSyncsAsync(string id, int limit, int offset) =>
            api.GetAsync<PageOf<AdminRepoSync>>($"api/v1/repos/{Esc(id)}/syncs" + Query(("limit", Number(limit)), ("offset", Number(offset))), None);

        public Task<AdminRepoSync> GetSyncAsync(string id, string syncId) => api.GetAsync<AdminRepoSync>($"api/v1/repos/{Esc(id)}/syncs/{Esc(syncId)}", None);

        public Task<List<AdminProvider>> ListProvidersAsync() => api.GetAsync<List<AdminProvider>>("api/v1/providers", None);

        public Task<PageOf<AdminRuntime>> ListRuntimesAsync(string? q, string? provider, int limit, int offset) =>
            api.GetAsync<PageOf<AdminRuntime>>("api/v1/runtimes" + Query(("q", q), ("provider", provider), ("limit", Number(limit)), ("offset", Number(offset))), None);

        public Task<AdminRuntime> CreateRuntimeAsync(AdminNewRuntime runtime) => api.SendAsync<AdminRuntime>(HttpMethod.Post, "api/v1/runtimes", runtime, authenticate: true, None);

        public Task DeleteRuntimeAsync(string id) => api.SendAsync<JsonNode>(HttpMethod.Delete, "api/v1/runtimes/" + Esc(id), null, authenticate: true, None);

        public Task<AdminRuntimeValidation> ValidateRuntimeAsync(string id) =>
            api.SendAsync<AdminRuntimeValidation>(HttpMethod.Post, $"api/v1/runtimes/{Esc(id)}:validate", null, authenticate: true, None);

        public Task<PageOf<AdminCredential>> ListCredentialsAsync(int limit, int offset) =>
            api.GetAsync<PageOf<AdminCredential>>("api/v1/credentials" + Query(("limit", Number(limit)), ("offset", Number(offset))), None);

        public Task<AdminCredential> CreateCredentialAsync(AdminNewCredential credential) =>
            api.SendAsync<AdminCredential>(HttpMethod.Post, "api/v1/credentials", credential, authenticate: true, None);

        public Task DeleteCredentialAsync(string id) => api.SendAsync<JsonNode>(HttpMethod.Delete, "api/v1/credentials/" + Esc(id), null, authenticate: true, None);

        public Task<PageOf<AdminCategory>> ListCategoriesAsync(string? q, int limit, int offset) =>
            api.GetAsync<PageOf<AdminCategory>>("api/v1/categories" + Query(("q", q), ("limit", Number(limit)), ("offset", Number(offset))), None);

        public Task<AdminCategory> CreateCategoryAsync(string? name, string? description) =>
            api.SendAsync<AdminCategory>(HttpMethod.Post, "api/v1/categories", new { name, description }, authenticate: true, None);

        public Task<AdminCategory> RenameCategoryAsync(string id, string? name) =>
            api.SendAsync<AdminCategory>(HttpMethod.Patch, "api/v1/categories/" + Esc(id), new { name }, authenticate: true, None);

        public Task DeleteCategoryAsync(string id) => api.SendAsync<JsonNode>(HttpMethod.Delete, "api/v1/categories/" + Esc(id), null, authenticate: true, None);

        public Task<PageOf<AdminUser>> ListUsersAsync(string? q, string? role, bool? disabled, string? groupId, int limit, int offset) =>
            api.GetAsync<PageOf<AdminUser>>("api/v1/users" + Query(
                ("q", q), ("role", role), ("disabled", disabled is { } d ? (d ? "true" : "false") : null), ("group_id", groupId), ("limit", Number(limit)), ("offset", Number(offset))), None);

        public Task<AdminUser> GetUserAsync(string id) => api.GetAsync<AdminUser>("api/v1/users/" + Esc(id), None);

        public Task<AdminUser> CreateUserAsync(AdminNewUser user) => api.SendAsync<AdminUser>(HttpMethod.Post, "api/v1/users", user, authenticate: true, None);

        public Task<AdminUser> SetRolesAsync(string id, IReadOnlyList<string> roles) =>
            api.SendAsync<AdminUser>(HttpMethod.Put, $"api/v1/users/{Esc(id)}/roles", new { roles }, authenticate: true, None);

        public Task<AdminUser> SetDisabledAsync(string id, bool disabled) =>
            api.SendAsync<AdminUser>(HttpMethod.Patch, "api/v1/users/" + Esc(id), new { disabled }, authenticate: true, None);

        public Task<PageOf<AdminGroup>> ListGroupsAsync(int limit, int offset) =>
            api.GetAsync<PageOf<AdminGroup>>("api/v1/groups" + Query(("sort", "name"), ("limit", Number(limit)), ("offset", Number(offset))), None);

        /// <summary>Every group, page by page (the tree needs them all; groups are few).</summary>
        public async Task<List<AdminGroup>> ListAllGroupsAsync()
        {
            var all = new List<AdminGroup>();
            while (true)
            {
                var page = await ListGroupsAsync(200, all.Count);
                all.AddRange(page.Items);
                if (page.Items.Count == 0 || all.Count >= page.Total)
                {
                    return all;
                }
            }
        }

        public Task<AdminGroup> GetGroupAsync(string id) => api.GetAsync<AdminGroup>("api/v1/groups/" + Esc(id), None);

        public Task<AdminGroup> CreateGroupAsync(string? name, string? description, string? parentId) =>
            api.SendAsync<AdminGroup>(HttpMethod.Post, "api/v1/groups", new { name, description, parent_id = parentId }, authenticate: true, None);

        public Task AddMemberAsync(string groupId, string userId) =>
            api.SendAsync<JsonNode>(HttpMethod.Put, $"api/v1/groups/{Esc(groupId)}/members/{Esc(userId)}", null, authenticate: true, None);

        public Task RemoveMemberAsync(string groupId, string userId) =>
            api.SendAsync<JsonNode>(HttpMethod.Delete, $"api/v1/groups/{Esc(groupId)}/members/{Esc(userId)}", null, authenticate: true, None);

        public Task<PageOf<AdminAuditEntry>> ListAuditAsync(AdminAuditQuery query) =>
            api.GetAsync<PageOf<AdminAuditEntry>>("api/v1/audit" + Query(
                ("user_id", query.UserId), ("action", query.Action), ("resource_type", query.ResourceType), ("resource_id", query.ResourceId), ("outcome", query.Outcome),
                ("since", query.Since?.ToString("O", CultureInfo.InvariantCulture)), ("until", query.Until?.ToString("O", CultureInfo.InvariantCulture)), ("q", query.Q),
                ("sort", "-at"), ("limit", Number(query.Limit)), ("offset", Number(query.Offset))), None);

        private static string Esc(string value) => Uri.EscapeDataString(value);

        private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);
    }
}

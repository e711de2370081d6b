using System.Globalization;

namespace Pitrix.Web.Client;

/// <summary>The deploy wizard's calls: released versions, a version's form sources and translations, plan and create.</summary>
public sealed partial class PitrixApi
{
    /// <summary>The app's released versions, newest first, one page of them.</summary>
    public Task<PageOf<AppVersionInfo>> ListDeployableVersionsAsync(string appId, int limit, int offset, CancellationToken cancellationToken) =>
        GetAsync<PageOf<AppVersionInfo>>(
            $"api/v1/apps/{Uri.EscapeDataString(appId)}/versions?status=active&limit={limit.ToString(CultureInfo.InvariantCulture)}&offset={offset.ToString(CultureInfo.InvariantCulture)}",
            cancellationToken);

    /// <summary>A version with its configuration schema (config.json, or values.yaml and values.schema.json).</summary>
    public Task<DeployVersionInfo> GetDeployVersionAsync(string versionId, CancellationToken cancellationToken) =>
        GetAsync<DeployVersionInfo>("api/v1/app_versions/" + Uri.EscapeDataString(versionId), cancellationToken);

    public Task<DeployLocales> GetDeployLocalesAsync(string versionId, CancellationToken cancellationToken) =>
        GetAsync<DeployLocales>($"api/v1/app_versions/{Uri.EscapeDataString(versionId)}/locales", cancellationToken);

    /// <summary>The task DAG creating the cluster would run; nothing is created. Values the package refuses throw, with errors by path.</summary>
    public Task<DeployPlan> PlanDeployAsync(DeployRequest body, CancellationToken cancellationToken) =>
        SendAsync<DeployPlan>(HttpMethod.Post, "api/v1/clusters:plan", body, authenticate: true, cancellationToken);

    /// <summary>Creates the cluster; its job runs in the background.</summary>
    public Task<DeployedCluster> DeployAsync(DeployRequest body, CancellationToken cancellationToken) =>
        SendAsync<DeployedCluster>(HttpMethod.Post, "api/v1/clusters", body, authenticate: true, cancellationToken);
}

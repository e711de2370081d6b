using Pitrix.Web.Client;

namespace Pitrix.Web.Components.Pages.Clusters;

/// <summary>An action the cluster page offers: its key, its button, what it does, and whether it asks for input first.</summary>
public sealed record ClusterActionKind(string Key, string Label, string Description, bool NeedsInput = false, bool Danger = false);

/// <summary>
/// Which actions a cluster offers, by its format and status. The API decides for real (and says why it
/// refuses); these mirror its rules so the page does not offer what cannot work: the engine's allowed
/// statuses per action, and Helm releases, which change replicas and resources through their values only.
/// </summary>
public static class ClusterActions
{
    public static readonly ClusterActionKind Start = new("start", "Start", "Starts every node of the stopped cluster.");
    public static readonly ClusterActionKind Stop = new("stop", "Stop", "Stops every node; the cluster keeps its nodes and data and can be started again.");
    public static readonly ClusterActionKind Restart = new("restart", "Restart", "Restarts the app on every node.");
    public static readonly ClusterActionKind Scale = new("scale", "Scale", "Changes how many nodes a role has: new nodes are created and join, or the newest nodes leave and are removed.", NeedsInput: true);
    public static readonly ClusterActionKind Resize = new("resize", "Resize", "Changes the CPU and memory of a role's nodes.", NeedsInput: true);
    public static readonly ClusterActionKind UpdateConfig = new("update_config", "Update config", "Changes the cluster's configuration values; node counts and sizes change through Scale and Resize.", NeedsInput: true);
    public static readonly ClusterActionKind Upgrade = new("upgrade", "Upgrade", "Moves the cluster to another version of its app, keeping its values.", NeedsInput: true);
    public static readonly ClusterActionKind Rollback = new("rollback", "Roll back", "Returns the cluster to the version (and values) it had before its last upgrade.");
    public static readonly ClusterActionKind Custom = new("custom", "Run action", "Runs an action the app's package declares, on every node of the roles that declare it.", NeedsInput: true);
    public static readonly ClusterActionKind Delete = new("delete", "Delete", "Stops the cluster and keeps its nodes for the grace period, during which it can be recovered; then it is ceased for good.", Danger: true);
    public static readonly ClusterActionKind Recover = new("recover", "Recover", "Brings a deleted cluster back, with its nodes and data.");

    public static IReadOnlyList<ClusterActionKind> All { get; } = [Start, Stop, Restart, Scale, Resize, UpdateConfig, Upgrade, Rollback, Custom, Recover, Delete];

    public static ClusterActionKind? Find(string key) => All.FirstOrDefault(a => a.Key == key);

    /// <summary>The actions <paramref name="detail"/>'s cluster accepts now, in the order of the page's buttons.</summary>
    public static IReadOnlyList<ClusterActionKind> AvailableFor(ClusterDetail detail)
    {
        var cluster = detail.Cluster;
        var vm = cluster.Format != "helm";
        var status = cluster.Status;
        var available = new List<ClusterActionKind>();
        void Offer(ClusterActionKind action, bool when)
        {
            if (when)
            {
                available.Add(action);
            }
        }

        Offer(Start, vm && status == "stopped");
        Offer(Stop, vm && status == "active");
        Offer(Restart, vm && status == "active");
        Offer(Scale, vm && status == "active" && detail.Roles.Count > 0);
        Offer(Resize, vm && status is "active" or "stopped" && detail.Roles.Count > 0);
        Offer(UpdateConfig, status is "active" or "stopped");
        Offer(Upgrade, status is "active" or "stopped");
        Offer(Rollback, status is "active" or "stopped" && cluster.PreviousAppVersionId is not null);
        Offer(Custom, vm && status == "active" && detail.CustomActions is { Count: > 0 });
        Offer(Recover, status == "deleted");
        Offer(Delete, status is "active" or "stopped" or "failed" or "suspended");
        return available;
    }
}

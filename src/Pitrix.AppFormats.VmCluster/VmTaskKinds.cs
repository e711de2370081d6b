namespace Pitrix.AppFormats.VmCluster;

/// <summary>The task kinds the vmcluster format plans, each run by a handler of this assembly.</summary>
public static class VmTaskKinds
{
    /// <summary>Finds or creates the runtime's network and its frontgate, and waits until the frontgate is connected to Pilot.</summary>
    public const string EnsureFrontgate = "vm.ensure_frontgate";

    /// <summary>Creates (or finds, by idempotency key) a node's data volume and records it on the node.</summary>
    public const string CreateVolume = "vm.create_volume";

    /// <summary>Creates (or finds) a node's instance with a join token in its user data, and records its id and IP.</summary>
    public const string CreateInstance = "vm.create_instance";

    /// <summary>Starts, stops, resizes or terminates a node's instance.</summary>
    public const string Instance = "vm.instance";

    /// <summary>Grows a node's volume.</summary>
    public const string ResizeVolume = "vm.resize_volume";

    /// <summary>Terminates a node's instance and deletes its volume: the compensation of a node's creation, and a node's removal.</summary>
    public const string RemoveNode = "vm.remove_node";

    /// <summary>Waits until the node's drone answers a ping through its frontgate.</summary>
    public const string WaitAgent = "vm.wait_agent";

    /// <summary>Installs the app version's files on a node.</summary>
    public const string InstallFiles = "vm.install_files";

    /// <summary>Writes the cluster's metadata (hosts, cluster, env, adding/deleting hosts) to its frontgate.</summary>
    public const string RegisterMetadata = "vm.register_metadata";

    /// <summary>Removes metadata keys or prefixes of the cluster.</summary>
    public const string DeregisterMetadata = "vm.deregister_metadata";

    /// <summary>Starts or stops config rendering on a node.</summary>
    public const string ConfigWatch = "vm.config_watch";

    /// <summary>Configures a node's health check.</summary>
    public const string HealthCheck = "vm.health_check";

    /// <summary>
    /// After a cease: terminates the runtime's frontgate (and deletes its network) when no other cluster that is
    /// not ceased uses the runtime, as OpenPitrix's <c>frontgate_auto_delete</c>; the next create makes a new one.
    /// </summary>
    public const string ReleaseFrontgate = "vm.release_frontgate";

    /// <summary>Runs one service command of a role on some of its nodes, in parallel, and waits for every result.</summary>
    public const string Run = "vm.run";
}

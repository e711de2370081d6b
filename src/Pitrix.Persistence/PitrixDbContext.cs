using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Pitrix.Core.Agents;
using Pitrix.Core.Audit;
using Pitrix.Core.Catalog;
using Pitrix.Core.Clusters;
using Pitrix.Core.Engine;
using Pitrix.Core.Identity;
using Pitrix.Core.Runtimes;

namespace Pitrix.Persistence;

/// <summary>
/// The Pitrix database. Provider-specific subclasses (<see cref="SqlitePitrixDbContext"/>,
/// <see cref="PostgresPitrixDbContext"/>) exist only so each has its own migrations.
/// </summary>
public abstract class PitrixDbContext(DbContextOptions options) : DbContext(options)
{
    public DbSet<User> Users => Set<User>();

    public DbSet<UserRole> UserRoles => Set<UserRole>();

    public DbSet<Group> Groups => Set<Group>();

    public DbSet<GroupMember> GroupMembers => Set<GroupMember>();

    public DbSet<Session> Sessions => Set<Session>();

    public DbSet<ApiToken> ApiTokens => Set<ApiToken>();

    public DbSet<Runtime> Runtimes => Set<Runtime>();

    public DbSet<RuntimeCredential> RuntimeCredentials => Set<RuntimeCredential>();

    public DbSet<AuditEntry> AuditEntries => Set<AuditEntry>();

    public DbSet<Repo> Repos => Set<Repo>();

    public DbSet<RepoSync> RepoSyncs => Set<RepoSync>();

    public DbSet<App> Apps => Set<App>();

    public DbSet<AppVersion> AppVersions => Set<AppVersion>();

    public DbSet<AppVersionEvent> AppVersionEvents => Set<AppVersionEvent>();

    public DbSet<Category> Categories => Set<Category>();

    public DbSet<AppCategory> AppCategories => Set<AppCategory>();

    public DbSet<Blob> Blobs => Set<Blob>();

    public DbSet<Job> Jobs => Set<Job>();

    public DbSet<JobTask> JobTasks => Set<JobTask>();

    public DbSet<JobTaskAttempt> JobTaskAttempts => Set<JobTaskAttempt>();

    public DbSet<EngineEvent> Events => Set<EngineEvent>();

    public DbSet<Cluster> Clusters => Set<Cluster>();

    public DbSet<ClusterRole> ClusterRoles => Set<ClusterRole>();

    public DbSet<ClusterNode> ClusterNodes => Set<ClusterNode>();

    public DbSet<ClusterObservation> ClusterObservations => Set<ClusterObservation>();

    public DbSet<AgentJoinToken> AgentJoinTokens => Set<AgentJoinToken>();

    public DbSet<AgentNode> AgentNodes => Set<AgentNode>();

    public DbSet<AgentFrontgate> AgentFrontgates => Set<AgentFrontgate>();

    public DbSet<AgentCommandRecord> AgentCommandResults => Set<AgentCommandRecord>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<User>(e =>
        {
            e.ToTable("users");
            e.HasKey(u => u.Id);
            e.Property(u => u.Id).HasMaxLength(40);
            e.Property(u => u.Name).HasMaxLength(64);
            e.Property(u => u.NormalizedName).HasMaxLength(64);
            e.HasIndex(u => u.NormalizedName).IsUnique();
            e.Property(u => u.DisplayName).HasMaxLength(128);
            e.Property(u => u.Email).HasMaxLength(256);
            e.HasMany(u => u.Roles).WithOne().HasForeignKey(r => r.UserId).OnDelete(DeleteBehavior.Cascade);
            e.HasMany(u => u.Groups).WithOne().HasForeignKey(g => g.UserId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<UserRole>(e =>
        {
            e.ToTable("user_roles");
            e.HasKey(r => new { r.UserId, r.Role });
            e.Property(r => r.Role).HasMaxLength(32);
        });
        modelBuilder.Entity<Group>(e =>
        {
            e.ToTable("groups");
            e.HasKey(g => g.Id);
            e.Property(g => g.Id).HasMaxLength(40);
            e.Property(g => g.Name).HasMaxLength(64);
            e.Property(g => g.NormalizedName).HasMaxLength(64);
            e.HasIndex(g => g.NormalizedName).IsUnique();
            e.Property(g => g.Description).HasMaxLength(1024);
            e.HasOne<Group>().WithMany().HasForeignKey(g => g.ParentId).OnDelete(DeleteBehavior.Restrict);
        });
        modelBuilder.Entity<GroupMember>(e =>
        {
            e.ToTable("group_members");
            e.HasKey(m => new { m.GroupId, m.UserId });
            e.HasOne<Group>().WithMany().HasForeignKey(m => m.GroupId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<Session>(e =>
        {
            e.ToTable("sessions");
            e.HasKey(s => s.Id);
            e.HasIndex(s => s.RefreshTokenHash).IsUnique();
            e.HasIndex(s => s.PreviousRefreshTokenHash);
            e.HasIndex(s => s.UserId);
            e.HasOne<User>().WithMany().HasForeignKey(s => s.UserId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<ApiToken>(e =>
        {
            e.ToTable("api_tokens");
            e.HasKey(t => t.Id);
            e.Property(t => t.Name).HasMaxLength(64);
            e.HasIndex(t => t.TokenHash).IsUnique();
            e.HasIndex(t => t.UserId);
            e.HasOne<User>().WithMany().HasForeignKey(t => t.UserId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<RuntimeCredential>(e =>
        {
            e.ToTable("runtime_credentials");
            e.HasKey(c => c.Id);
            e.Property(c => c.Name).HasMaxLength(64);
            e.Property(c => c.Provider).HasMaxLength(32);
            e.Property(c => c.Description).HasMaxLength(1024);
            e.Property(c => c.EndpointUrl).HasMaxLength(2048);
            e.Property(c => c.Visibility).HasConversion<string>().HasMaxLength(16);
            e.HasIndex(c => new { c.OwnerId, c.Name }).IsUnique();
            e.HasOne<User>().WithMany().HasForeignKey(c => c.OwnerId).OnDelete(DeleteBehavior.Restrict);
            e.HasOne<Group>().WithMany().HasForeignKey(c => c.GroupId).OnDelete(DeleteBehavior.Restrict);
        });
        modelBuilder.Entity<Runtime>(e =>
        {
            e.ToTable("runtimes");
            e.HasKey(r => r.Id);
            e.Property(r => r.Name).HasMaxLength(64);
            e.Property(r => r.Provider).HasMaxLength(32);
            e.Property(r => r.Zone).HasMaxLength(128);
            e.Property(r => r.Description).HasMaxLength(1024);
            e.Property(r => r.Visibility).HasConversion<string>().HasMaxLength(16);
            e.Property(r => r.Labels).AsJsonMap();
            e.HasIndex(r => new { r.OwnerId, r.Name }).IsUnique();
            e.HasIndex(r => r.Provider);
            e.HasOne<User>().WithMany().HasForeignKey(r => r.OwnerId).OnDelete(DeleteBehavior.Restrict);
            e.HasOne<Group>().WithMany().HasForeignKey(r => r.GroupId).OnDelete(DeleteBehavior.Restrict);
            e.HasOne<RuntimeCredential>().WithMany().HasForeignKey(r => r.CredentialId).OnDelete(DeleteBehavior.Restrict);
        });
        modelBuilder.Entity<AuditEntry>(e =>
        {
            e.ToTable("audit_entries");
            e.HasKey(a => a.Id);
            e.HasIndex(a => a.At);
            e.HasIndex(a => new { a.UserId, a.At });
            e.Property(a => a.Action).HasMaxLength(64);
            e.Property(a => a.ResourceType).HasMaxLength(32);
            e.Property(a => a.ResourceId).HasMaxLength(64);
            e.Property(a => a.Address).HasMaxLength(64);
            e.Property(a => a.Method).HasMaxLength(8);
            e.Property(a => a.Path).HasMaxLength(512);
            e.Property(a => a.Outcome).HasMaxLength(16);
            e.Property(a => a.ErrorCode).HasMaxLength(64);
        });
        OnCatalogCreating(modelBuilder);
        OnEngineCreating(modelBuilder);
        OnClustersCreating(modelBuilder);
        OnAgentsCreating(modelBuilder);
    }

    private static void OnAgentsCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<AgentJoinToken>(e =>
        {
            e.ToTable("agent_join_tokens");
            e.HasKey(t => t.TokenHash);
            e.Property(t => t.TokenHash).HasMaxLength(64);
            e.Property(t => t.AgentKind).HasMaxLength(16);
            e.Property(t => t.AgentId).HasMaxLength(128);
            e.HasIndex(t => t.ExpiresAt);
        });
        modelBuilder.Entity<AgentNode>(e =>
        {
            e.ToTable("agent_nodes");
            e.HasKey(n => n.NodeId);
            e.Property(n => n.NodeId).HasMaxLength(128);
            e.Property(n => n.FrontgateId).HasMaxLength(128);
            e.Property(n => n.HealthState).HasConversion<string>().HasMaxLength(16);
            e.Property(n => n.HealthDetail).HasMaxLength(1024);
            e.HasIndex(n => n.FrontgateId);
        });
        modelBuilder.Entity<AgentFrontgate>(e =>
        {
            e.ToTable("agent_frontgates");
            e.HasKey(f => f.Id);
            e.Property(f => f.Id).HasMaxLength(128);
            e.Property(f => f.Version).HasMaxLength(64);
        });
        modelBuilder.Entity<AgentCommandRecord>(e =>
        {
            e.ToTable("agent_command_results");

            // One result per node and task: the key itself makes a repeated report a no-op.
            e.HasKey(r => new { r.NodeId, r.TaskId });
            e.Property(r => r.NodeId).HasMaxLength(128);
            e.Property(r => r.TaskId).HasMaxLength(160);
            e.Property(r => r.FrontgateId).HasMaxLength(128);
            e.Property(r => r.ErrorCode).HasMaxLength(64);
            e.Property(r => r.ErrorMessage).HasMaxLength(2048);
            e.HasIndex(r => r.ReceivedAt);
        });
    }

    private static void OnClustersCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Cluster>(e =>
        {
            e.ToTable("clusters");
            e.HasKey(c => c.Id);
            e.Property(c => c.Name).HasMaxLength(64);
            e.Property(c => c.Description).HasMaxLength(1024);
            e.Property(c => c.Format).HasMaxLength(32);
            e.Property(c => c.Status).HasMaxLength(16);
            e.Property(c => c.Visibility).HasConversion<string>().HasMaxLength(16);
            e.Property(c => c.Endpoints).AsJsonMap();
            e.Property(c => c.Labels).AsJsonMap();

            // Whoever releases or takes the lease must have seen the current holder: a stale copy cannot free a newer job's lease.
            e.Property(c => c.LeaseJobId).IsConcurrencyToken();
            e.HasIndex(c => new { c.OwnerId, c.CreatedAt });
            e.HasIndex(c => c.Status);
            e.HasIndex(c => c.RuntimeId);
            e.HasIndex(c => c.AppVersionId);
            e.HasOne<User>().WithMany().HasForeignKey(c => c.OwnerId).OnDelete(DeleteBehavior.Restrict);
            e.HasOne<Group>().WithMany().HasForeignKey(c => c.GroupId).OnDelete(DeleteBehavior.Restrict);
            e.HasOne<Runtime>().WithMany().HasForeignKey(c => c.RuntimeId).OnDelete(DeleteBehavior.Restrict);
            e.HasOne<AppVersion>().WithMany().HasForeignKey(c => c.AppVersionId).OnDelete(DeleteBehavior.Restrict);
        });
        modelBuilder.Entity<ClusterRole>(e =>
        {
            e.ToTable("cluster_roles");
            e.HasKey(r => new { r.ClusterId, r.Name });
            e.Property(r => r.Name).HasMaxLength(64);
            e.Property(r => r.Env).AsJsonMap();
            e.HasOne<Cluster>().WithMany().HasForeignKey(r => r.ClusterId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<ClusterNode>(e =>
        {
            e.ToTable("cluster_nodes");
            e.HasKey(n => n.Id);
            e.Property(n => n.Role).HasMaxLength(64);
            e.Property(n => n.Status).HasMaxLength(16);
            e.Property(n => n.Health).HasMaxLength(16);
            e.Property(n => n.InstanceId).HasMaxLength(128);
            e.Property(n => n.PrivateIp).HasMaxLength(64);
            e.Property(n => n.Volumes).AsJsonList();
            e.HasIndex(n => new { n.ClusterId, n.ServerId }).IsUnique();
            e.HasOne<Cluster>().WithMany().HasForeignKey(n => n.ClusterId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<ClusterObservation>(e =>
        {
            e.ToTable("cluster_observations");
            e.HasKey(o => o.ClusterId);
            e.Property(o => o.State).HasMaxLength(16);
            e.Property(o => o.Message).HasMaxLength(4096);
            e.Property(o => o.Workloads).AsJson();
            e.Property(o => o.Pods).AsJson();
            e.Property(o => o.Endpoints).AsJsonMap();
            e.HasOne<Cluster>().WithMany().HasForeignKey(o => o.ClusterId).OnDelete(DeleteBehavior.Cascade);
        });
    }

    private static void OnEngineCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Job>(e =>
        {
            e.ToTable("jobs");
            e.HasKey(j => j.Id);
            e.Property(j => j.ClusterId).HasMaxLength(40);
            e.Property(j => j.Action).HasMaxLength(32);
            e.Property(j => j.Status).HasMaxLength(16);
            e.Property(j => j.RequestedBy).HasMaxLength(64);
            e.Property(j => j.ErrorCode).HasMaxLength(64);
            e.Property(j => j.RuntimeId).HasMaxLength(40);
            e.HasIndex(j => new { j.ClusterId, j.CreatedAt });
            e.HasIndex(j => new { j.Applied, j.Status });
            e.HasIndex(j => j.Status);
        });
        modelBuilder.Entity<JobTask>(e =>
        {
            e.ToTable("job_tasks");
            e.HasKey(t => t.Id);
            e.Property(t => t.Key).HasMaxLength(128);
            e.HasIndex(t => new { t.JobId, t.Key }).IsUnique();
            e.Property(t => t.Kind).HasMaxLength(64);
            e.Property(t => t.Status).HasMaxLength(16);
            e.Property(t => t.IdempotencyKey).HasMaxLength(160);
            e.Property(t => t.LeaseOwner).HasMaxLength(128);
            e.Property(t => t.ErrorCode).HasMaxLength(64);
            e.Property(t => t.DependsOn).AsJsonList();
            e.Property(t => t.ClusterId).HasMaxLength(40);
            e.Property(t => t.RuntimeId).HasMaxLength(40);
            e.HasIndex(t => new { t.Status, t.NotBefore });

            // Claims take the oldest ready tasks first.
            e.HasIndex(t => new { t.Status, t.CreatedAt });
            e.HasIndex(t => new { t.Status, t.LeaseExpiresAt });
            e.HasOne<Job>().WithMany().HasForeignKey(t => t.JobId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<JobTaskAttempt>(e =>
        {
            e.ToTable("job_task_attempts");
            e.HasKey(a => a.Id);
            e.HasIndex(a => new { a.TaskId, a.Number }).IsUnique();
            e.Property(a => a.Worker).HasMaxLength(128);
            e.Property(a => a.Outcome).HasMaxLength(16);
            e.Property(a => a.ErrorCode).HasMaxLength(64);
            e.HasOne<JobTask>().WithMany().HasForeignKey(a => a.TaskId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<EngineEvent>(e =>
        {
            e.ToTable("events");
            e.HasKey(v => v.Seq);
            e.Property(v => v.Seq).ValueGeneratedOnAdd();
            e.Property(v => v.ClusterId).HasMaxLength(40);
            e.Property(v => v.Type).HasMaxLength(64);
            e.HasIndex(v => new { v.ClusterId, v.Seq });
        });
    }

    private static void OnCatalogCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Repo>(e =>
        {
            e.ToTable("repos");
            e.HasKey(r => r.Id);
            e.Property(r => r.Name).HasMaxLength(64);
            e.HasIndex(r => new { r.OwnerId, r.Name }).IsUnique();
            e.Property(r => r.Description).HasMaxLength(1024);
            e.Property(r => r.Type).HasMaxLength(16);
            e.Property(r => r.Url).HasMaxLength(2048);
            e.Property(r => r.Visibility).HasConversion<string>().HasMaxLength(16);
            e.Property(r => r.Providers).AsJsonList();
            e.Property(r => r.Selectors).AsJsonList();
            e.Property(r => r.GroupIds).AsJsonList();
            e.Property(r => r.Labels).AsJsonMap();
            e.Property(r => r.DefaultStatus).HasMaxLength(16);
            e.Property(r => r.FetchPackages).HasMaxLength(16);
            e.Property(r => r.SyncLeaseOwner).HasMaxLength(128);
            e.Property(r => r.IndexETag).HasMaxLength(512);
            e.Property(r => r.IndexDigest).HasMaxLength(64);
            e.Property(r => r.LastSyncStatus).HasMaxLength(32);
            e.HasIndex(r => r.NextSyncAt);
            e.HasOne<User>().WithMany().HasForeignKey(r => r.OwnerId).OnDelete(DeleteBehavior.Restrict);
            e.HasOne<Group>().WithMany().HasForeignKey(r => r.GroupId).OnDelete(DeleteBehavior.Restrict);
        });
        modelBuilder.Entity<RepoSync>(e =>
        {
            e.ToTable("repo_syncs");
            e.HasKey(s => s.Id);
            e.HasIndex(s => new { s.RepoId, s.QueuedAt });
            e.HasIndex(s => s.Status);
            e.Property(s => s.Trigger).HasMaxLength(16);
            e.Property(s => s.Status).HasMaxLength(32);
            e.Property(s => s.Worker).HasMaxLength(128);
            e.Property(s => s.ErrorCode).HasMaxLength(64);
            e.Property(s => s.Errors).AsJson();
            e.HasOne<Repo>().WithMany().HasForeignKey(s => s.RepoId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<App>(e =>
        {
            e.ToTable("apps");
            e.HasKey(a => a.Id);
            e.Property(a => a.Name).HasMaxLength(128);
            e.HasIndex(a => new { a.RepoId, a.Name }).IsUnique();
            e.HasIndex(a => a.Name);
            e.HasIndex(a => a.Status);
            e.Property(a => a.Format).HasMaxLength(16);
            e.Property(a => a.Status).HasMaxLength(16);
            e.Property(a => a.Icon).HasMaxLength(2048);
            e.Property(a => a.Home).HasMaxLength(2048);
            e.Property(a => a.Keywords).AsJsonList();
            e.Property(a => a.Sources).AsJsonList();
            e.Property(a => a.Screenshots).AsJsonList();
            e.Property(a => a.Maintainers).AsJson();
            e.Property(a => a.LatestVersion).HasMaxLength(128);
            e.Property(a => a.ActiveVersion).HasMaxLength(128);
            e.HasOne<Repo>().WithMany().HasForeignKey(a => a.RepoId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<AppVersion>(e =>
        {
            e.ToTable("app_versions");
            e.HasKey(v => v.Id);
            e.Property(v => v.Version).HasMaxLength(128);
            e.HasIndex(v => new { v.AppId, v.Version }).IsUnique();
            e.HasIndex(v => new { v.AppId, v.SortKey });
            e.HasIndex(v => new { v.RepoId, v.Status });
            e.HasIndex(v => v.Status);
            e.Property(v => v.SortKey).HasMaxLength(256);
            e.Property(v => v.AppVersionLabel).HasMaxLength(128);
            e.Property(v => v.Format).HasMaxLength(16);
            e.Property(v => v.Status).HasMaxLength(16);
            e.Property(v => v.Icon).HasMaxLength(2048);
            e.Property(v => v.Home).HasMaxLength(2048);
            e.Property(v => v.PackageUrl).HasMaxLength(2048);
            e.Property(v => v.Digest).HasMaxLength(64);
            e.Property(v => v.PackageDigest).HasMaxLength(64);
            e.Property(v => v.EntryFingerprint).HasMaxLength(64);
            e.Property(v => v.DetailsStatus).HasMaxLength(16);
            e.Property(v => v.Keywords).AsJsonList();
            e.Property(v => v.Sources).AsJsonList();
            e.Property(v => v.Screenshots).AsJsonList();
            e.Property(v => v.Maintainers).AsJson();
            e.HasOne<App>().WithMany().HasForeignKey(v => v.AppId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<AppVersionEvent>(e =>
        {
            e.ToTable("app_version_events");
            e.HasKey(v => v.Id);
            e.HasIndex(v => new { v.VersionId, v.At });
            e.HasIndex(v => new { v.AppId, v.At });
            e.Property(v => v.Action).HasMaxLength(32);
            e.Property(v => v.FromStatus).HasMaxLength(16);
            e.Property(v => v.ToStatus).HasMaxLength(16);
            e.Property(v => v.ActorName).HasMaxLength(64);
            e.HasOne<AppVersion>().WithMany().HasForeignKey(v => v.VersionId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<Category>(e =>
        {
            e.ToTable("categories");
            e.HasKey(c => c.Id);
            e.Property(c => c.Name).HasMaxLength(64);
            e.HasIndex(c => c.Name).IsUnique();
            e.Property(c => c.Description).HasMaxLength(1024);
            e.Property(c => c.Icon).HasMaxLength(65536);
            e.Property(c => c.Locale).AsJsonMap();
        });
        modelBuilder.Entity<AppCategory>(e =>
        {
            e.ToTable("app_categories");
            e.HasKey(c => new { c.AppId, c.CategoryId });
            e.HasIndex(c => c.CategoryId);
            e.HasOne<App>().WithMany().HasForeignKey(c => c.AppId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<Category>().WithMany().HasForeignKey(c => c.CategoryId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<Blob>(e =>
        {
            e.ToTable("blobs");
            e.HasKey(b => b.Digest);
            e.Property(b => b.Digest).HasMaxLength(64);
            e.Property(b => b.MediaType).HasMaxLength(128);
        });
    }
}

/// <summary>JSON columns for small collections, the same on SQLite and PostgreSQL.</summary>
internal static class JsonColumns
{
    public static PropertyBuilder<Dictionary<string, string>> AsJsonMap(this PropertyBuilder<Dictionary<string, string>> property) =>
        property.HasConversion(
            v => JsonSerializer.Serialize(v, JsonSerializerOptions.Default),
            v => JsonSerializer.Deserialize<Dictionary<string, string>>(v, JsonSerializerOptions.Default) ?? new Dictionary<string, string>(),
            new ValueComparer<Dictionary<string, string>>(
                (a, b) => a != null && b != null && a.Count == b.Count && !a.Except(b).Any(),
                v => v.Aggregate(0, (h, p) => HashCode.Combine(h, p.Key.GetHashCode(StringComparison.Ordinal), p.Value.GetHashCode(StringComparison.Ordinal))),
                v => new Dictionary<string, string>(v, StringComparer.Ordinal)));

    public static PropertyBuilder<List<string>> AsJsonList(this PropertyBuilder<List<string>> property) =>
        property.HasConversion(
            v => JsonSerializer.Serialize(v, JsonSerializerOptions.Default),
            v => JsonSerializer.Deserialize<List<string>>(v, JsonSerializerOptions.Default) ?? new List<string>(),
            new ValueComparer<List<string>>(
                (a, b) => a != null && b != null && a.SequenceEqual(b),
                v => v.Aggregate(0, (h, s) => HashCode.Combine(h, s.GetHashCode(StringComparison.Ordinal))),
                v => v.ToList()));

    public static PropertyBuilder<List<T>> AsJson<T>(this PropertyBuilder<List<T>> property) =>
        property.HasConversion(
            v => JsonSerializer.Serialize(v, JsonSerializerOptions.Default),
            v => JsonSerializer.Deserialize<List<T>>(v, JsonSerializerOptions.Default) ?? new List<T>(),
            new ValueComparer<List<T>>(
                (a, b) => a != null && b != null && JsonSerializer.Serialize(a, JsonSerializerOptions.Default) == JsonSerializer.Serialize(b, JsonSerializerOptions.Default),
                v => JsonSerializer.Serialize(v, JsonSerializerOptions.Default).GetHashCode(StringComparison.Ordinal),
                v => JsonSerializer.Deserialize<List<T>>(JsonSerializer.Serialize(v, JsonSerializerOptions.Default), JsonSerializerOptions.Default) ?? new List<T>()));
}

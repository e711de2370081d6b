using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Pitrix.Core.Audit;
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
            e.Property(r => r.Labels).HasConversion(
                v => JsonSerializer.Serialize(v, JsonSerializerOptions.Default),
                v => JsonSerializer.Deserialize<Dictionary<string, string>>(v, JsonSerializerOptions.Default) ?? new Dictionary<string, string>(),
                new ValueComparer<Dictionary<string, string>>(
                    (a, b) => a != null && b != null && a.Count == b.Count && !a.Except(b).Any(),
                    v => v.Aggregate(0, (h, p) => HashCode.Combine(h, p.Key.GetHashCode(StringComparison.Ordinal), p.Value.GetHashCode(StringComparison.Ordinal))),
                    v => new Dictionary<string, string>(v, StringComparer.Ordinal)));
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
    }
}

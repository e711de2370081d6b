using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Pitrix.Api.Security;
using Pitrix.Core;
using Pitrix.Core.Identity;
using Pitrix.Persistence;

namespace Pitrix.Server;

/// <summary>Applies migrations and, on the very first start, creates the <c>admin</c> user.</summary>
public static class DatabaseInitializer
{
    public const string AdminPasswordVariable = "PITRIX_ADMIN_PASSWORD";

    /// <summary>Migrates; then, when <paramref name="adminPassword"/> is not null and no user exists, creates the admin (an empty password means: generate one and print it).</summary>
    public static async Task InitializeAsync(IServiceProvider services, string? adminPassword, TextWriter output, CancellationToken cancellationToken)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PitrixDbContext>();
        await db.Database.MigrateAsync(cancellationToken);
        if (adminPassword is null || await db.Users.AnyAsync(cancellationToken))
        {
            return;
        }

        var configured = adminPassword;
        var password = string.IsNullOrEmpty(configured) ? GeneratePassword() : configured;
        var now = scope.ServiceProvider.GetRequiredService<TimeProvider>().GetUtcNow();
        var admin = new User { Id = Id.New(IdPrefix.User), Name = "admin", NormalizedName = "admin", PasswordHash = "", DisplayName = "Administrator", CreatedAt = now, UpdatedAt = now };
        admin.PasswordHash = scope.ServiceProvider.GetRequiredService<PasswordPolicy>().Hash(admin, password);
        admin.Roles.Add(new UserRole { UserId = admin.Id, Role = Role.Admin });
        db.Users.Add(admin);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // Another server instance created it at the same moment.
            return;
        }

        if (string.IsNullOrEmpty(configured))
        {
            await output.WriteLineAsync($"""

                ================================================================
                 Created user 'admin' with password: {password}
                 It is shown only this once. Change it with `pitrix passwd`.
                ================================================================

                """);
        }
        else
        {
            await output.WriteLineAsync($"Created user 'admin' with the password from {AdminPasswordVariable}.");
        }
    }

    private static string GeneratePassword() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(18)).Replace('+', 'x').Replace('/', 'y');
}

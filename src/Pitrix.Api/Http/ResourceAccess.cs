using Microsoft.EntityFrameworkCore;
using Pitrix.Api.Security;
using Pitrix.Core;
using Pitrix.Core.Access;

namespace Pitrix.Api.Http;

public static class ResourceAccess
{
    /// <summary>Loads a resource and checks the operation with <see cref="AccessPolicy"/>; unreadable resources are not found.</summary>
    public static async Task<Result<T>> FindAuthorizedAsync<T>(this DbSet<T> set, string id, Caller caller, Operation operation, string resourceType, CancellationToken cancellationToken)
        where T : class, IOwnedResource
    {
        var resource = await set.SingleOrDefaultAsync(r => r.Id == id, cancellationToken);
        if (resource is null)
        {
            return Error.NotFound(resourceType, id);
        }

        return AccessPolicy.Check(caller.Principal, resource, operation, resourceType) is { } denied ? denied : resource;
    }
}

namespace Pitrix.Api;

/// <summary>Endpoint-level authorization policies (role gates); resource checks go through AccessPolicy.</summary>
public static class ApiPolicies
{
    public const string Admin = "admin";
}

using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Pitrix.Api.Http;

/// <summary>Describes the bearer scheme in the OpenAPI document so the reference page can send tokens.</summary>
public sealed class BearerSecurityTransformer : IOpenApiDocumentTransformer
{
    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes["bearer"] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            Description = "A JWT access token from POST /api/v1/auth/login, or a personal API token (pxt_...).",
        };
        document.Security ??= [];
        document.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("bearer", document)] = [] });
        document.Info.Title = "Pitrix API";
        return Task.CompletedTask;
    }
}

using System.Reflection;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Pitrix.Api.Http;

/// <summary>
/// Documents what every endpoint shares but the framework cannot see: the list parameters bound by
/// <see cref="ListQuery"/> and the problem-details response of every failure.
/// </summary>
public sealed class ConventionsOperationTransformer : IOpenApiOperationTransformer
{
    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var method = context.Description.ActionDescriptor.EndpointMetadata.OfType<MethodInfo>().FirstOrDefault();
        if (method?.GetParameters().Any(p => p.ParameterType == typeof(ListQuery)) == true)
        {
            operation.Parameters ??= [];
            operation.Parameters.Add(Query("limit", JsonSchemaType.Integer, $"Items per page, 1-{ListQuery.MaxLimit}. Default {ListQuery.DefaultLimit}."));
            operation.Parameters.Add(Query("offset", JsonSchemaType.Integer, "Items to skip. Default 0."));
            operation.Parameters.Add(Query("sort", JsonSchemaType.String, "Field to sort by; prefix '-' for descending."));
            operation.Parameters.Add(Query("q", JsonSchemaType.String, "Free-text search."));
        }

        operation.Responses ??= [];
        operation.Responses["default"] = new OpenApiResponse
        {
            Description = "An RFC 9457 problem: `code` is stable (for example `runtime.not_found`), `errors` names invalid fields.",
            Content = new Dictionary<string, OpenApiMediaType>
            {
                ["application/problem+json"] = new()
                {
                    Schema = new OpenApiSchema
                    {
                        Type = JsonSchemaType.Object,
                        Properties = new Dictionary<string, IOpenApiSchema>
                        {
                            ["type"] = new OpenApiSchema { Type = JsonSchemaType.String },
                            ["title"] = new OpenApiSchema { Type = JsonSchemaType.String },
                            ["status"] = new OpenApiSchema { Type = JsonSchemaType.Integer },
                            ["detail"] = new OpenApiSchema { Type = JsonSchemaType.String },
                            ["code"] = new OpenApiSchema { Type = JsonSchemaType.String },
                            ["trace_id"] = new OpenApiSchema { Type = JsonSchemaType.String },
                            ["errors"] = new OpenApiSchema
                            {
                                Type = JsonSchemaType.Object,
                                AdditionalProperties = new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.String } },
                            },
                        },
                        Example = JsonNode.Parse("""{"type":"https://pitrix.dev/problems/validation.failed","title":"Bad Request","status":400,"code":"validation.failed","errors":{"name":["Required."]}}"""),
                    },
                },
            },
        };
        return Task.CompletedTask;
    }

    private static OpenApiParameter Query(string name, JsonSchemaType type, string description) =>
        new() { Name = name, In = ParameterLocation.Query, Description = description, Schema = new OpenApiSchema { Type = type } };
}

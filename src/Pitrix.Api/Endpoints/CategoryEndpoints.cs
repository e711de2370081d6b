using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Pitrix.Api.Auditing;
using Pitrix.Api.Http;
using Pitrix.Api.Security;
using Pitrix.Catalog;
using Pitrix.Core;
using Pitrix.Core.Catalog;
using Pitrix.Persistence;

namespace Pitrix.Api.Endpoints;

/// <summary>Store categories: everyone reads them, admins manage them.</summary>
public static partial class CategoryEndpoints
{
    private const string ResourceType = "category";

    private static readonly Dictionary<string, System.Linq.Expressions.Expression<Func<Category, object?>>> SortKeys = new(StringComparer.Ordinal)
    {
        ["name"] = c => c.Name,
        ["created_at"] = c => c.CreatedAt,
    };

    public static void MapCategoryEndpoints(this IEndpointRouteBuilder api)
    {
        var categories = api.MapGroup("/categories").WithTags("Categories").WithMetadata(new ResourceTypeMetadata(ResourceType));
        categories.MapGet("/", ListAsync).WithName("category.list");
        categories.MapGet("/{id}", GetAsync).WithName("category.get");
        categories.MapPost("/", CreateAsync).WithName("category.create").RequireAuthorization(ApiPolicies.Admin);
        categories.MapPatch("/{id}", UpdateAsync).WithName("category.update").RequireAuthorization(ApiPolicies.Admin);
        categories.MapDelete("/{id}", DeleteAsync).WithName("category.delete").RequireAuthorization(ApiPolicies.Admin);
    }

    private static async Task<Results<Ok<Page<CategoryDto>>, ProblemHttpResult>> ListAsync(ListQuery list, Caller caller, PitrixDbContext db, CancellationToken cancellationToken)
    {
        if (list.Validate(SortKeys.Keys) is { } invalid)
        {
            return Problems.From(invalid);
        }

        var query = db.Categories.AsNoTracking();
        if (list.Q is { } q)
        {
            query = query.Where(c => c.Name.Contains(q));
        }

        var counts = await CountsAsync(db, caller, cancellationToken);
        return TypedResults.Ok(await query.ToPageAsync(list, SortKeys, c => CategoryDto.From(c, counts.GetValueOrDefault(c.Id)), cancellationToken));
    }

    private static async Task<Results<Ok<CategoryDto>, ProblemHttpResult>> GetAsync(string id, Caller caller, PitrixDbContext db, CancellationToken cancellationToken)
    {
        var category = await db.Categories.AsNoTracking().SingleOrDefaultAsync(c => c.Id == id, cancellationToken);
        if (category is null)
        {
            return Problems.From(Error.NotFound(ResourceType, id));
        }

        var counts = await CountsAsync(db, caller, cancellationToken);
        return TypedResults.Ok(CategoryDto.From(category, counts.GetValueOrDefault(id)));
    }

    private static async Task<Results<Created<CategoryDto>, ProblemHttpResult>> CreateAsync(CreateCategoryRequest request, PitrixDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = new FieldErrors().Required("name", request.Name).MaxLength("name", request.Name, 64);
        Check(errors, request.Locale, request.Description, request.Icon);
        if (errors.ToError() is { } invalid)
        {
            return Problems.From(invalid);
        }

        if (await db.Categories.AnyAsync(c => c.Name == request.Name, cancellationToken))
        {
            return Problems.From(Error.Conflict("category.name_taken", $"A category named '{request.Name}' already exists."));
        }

        var now = time.GetUtcNow();
        var category = new Category
        {
            Id = Id.New(IdPrefix.Category),
            Name = request.Name!.Trim(),
            Locale = request.Locale ?? [],
            Description = request.Description,
            Icon = request.Icon,
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Categories.Add(category);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created($"/api/v1/categories/{category.Id}", CategoryDto.From(category, 0));
    }

    private static async Task<Results<Ok<CategoryDto>, ProblemHttpResult>> UpdateAsync(string id, UpdateCategoryRequest request, Caller caller, PitrixDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = new FieldErrors();
        if (request.Name is not null)
        {
            errors.Required("name", request.Name).MaxLength("name", request.Name, 64);
        }

        Check(errors, request.Locale, request.Description, request.Icon);
        if (errors.ToError() is { } invalid)
        {
            return Problems.From(invalid);
        }

        var category = await db.Categories.SingleOrDefaultAsync(c => c.Id == id, cancellationToken);
        if (category is null)
        {
            return Problems.From(Error.NotFound(ResourceType, id));
        }

        if (request.Name is not null && request.Name != category.Name && await db.Categories.AnyAsync(c => c.Name == request.Name, cancellationToken))
        {
            return Problems.From(Error.Conflict("category.name_taken", $"A category named '{request.Name}' already exists."));
        }

        category.Name = request.Name?.Trim() ?? category.Name;
        category.Locale = request.Locale ?? category.Locale;
        category.Description = request.Description ?? category.Description;
        category.Icon = request.Icon is null ? category.Icon : request.Icon.Length == 0 ? null : request.Icon;
        category.UpdatedAt = time.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        var counts = await CountsAsync(db, caller, cancellationToken);
        return TypedResults.Ok(CategoryDto.From(category, counts.GetValueOrDefault(id)));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string id, PitrixDbContext db, CancellationToken cancellationToken)
    {
        var category = await db.Categories.SingleOrDefaultAsync(c => c.Id == id, cancellationToken);
        if (category is null)
        {
            return Problems.From(Error.NotFound(ResourceType, id));
        }

        db.Categories.Remove(category);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    /// <summary>Active apps per category that the caller can see, so counts never reveal hidden apps.</summary>
    private static async Task<Dictionary<string, int>> CountsAsync(PitrixDbContext db, Caller caller, CancellationToken cancellationToken)
    {
        var scope = await CatalogAccess.ScopeAsync(db, caller.Principal, cancellationToken);
        var visible = db.Apps.Visible(scope).Where(a => a.Status == "active");
        return await db.AppCategories.Join(visible, c => c.AppId, a => a.Id, (c, _) => c.CategoryId)
            .GroupBy(c => c).Select(g => new { g.Key, Count = g.Count() })
            .ToDictionaryAsync(g => g.Key, g => g.Count, cancellationToken);
    }

    private static void Check(FieldErrors errors, Dictionary<string, string>? locale, string? description, string? icon)
    {
        errors.MaxLength("description", description, 1024);
        foreach (var (language, name) in locale ?? [])
        {
            if (!LocalePattern().IsMatch(language))
            {
                errors.Add($"locale.{language}", "A locale is a language tag such as en, zh-cn or pt-BR.");
            }

            if (string.IsNullOrWhiteSpace(name) || name.Length > 64)
            {
                errors.Add($"locale.{language}", "A localized name is 1-64 characters.");
            }
        }

        if (icon is { Length: > 0 } && (icon.Length > 65536 || !(icon.StartsWith("https://", StringComparison.Ordinal) || icon.StartsWith("http://", StringComparison.Ordinal) || icon.StartsWith("data:image/", StringComparison.Ordinal))))
        {
            errors.Add("icon", "An http(s) URL or a data:image/… URL of at most 64 KiB.");
        }
    }

    [GeneratedRegex("^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")]
    private static partial Regex LocalePattern();
}

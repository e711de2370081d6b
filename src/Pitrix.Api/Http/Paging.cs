using System.Linq.Expressions;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Pitrix.Core;

namespace Pitrix.Api.Http;

/// <summary>
/// The list conventions every collection endpoint shares: <c>limit</c> (default 20, at most 200),
/// <c>offset</c>, <c>sort</c> (a field name, <c>-</c> for descending) and <c>q</c> (free-text search).
/// </summary>
public sealed record ListQuery(int Limit, int Offset, string? Sort, string? Q)
{
    public const int DefaultLimit = 20;
    public const int MaxLimit = 200;

    public static ValueTask<ListQuery?> BindAsync(HttpContext context)
    {
        var query = context.Request.Query;
        var limit = int.TryParse(query["limit"], out var l) ? l : (query.ContainsKey("limit") ? -1 : DefaultLimit);
        var offset = int.TryParse(query["offset"], out var o) ? o : (query.ContainsKey("offset") ? -1 : 0);
        var q = query["q"].ToString();
        var sort = query["sort"].ToString();
        return ValueTask.FromResult<ListQuery?>(new ListQuery(limit, offset, sort.Length == 0 ? null : sort, q.Length == 0 ? null : q));
    }

    public Error? Validate(IReadOnlyCollection<string> sortable)
    {
        var errors = new FieldErrors();
        if (Limit is < 1 or > MaxLimit)
        {
            errors.Add("limit", $"Must be an integer from 1 to {MaxLimit}.");
        }

        if (Offset < 0)
        {
            errors.Add("offset", "Must be a non-negative integer.");
        }

        if (Sort is not null && !sortable.Contains(Sort.TrimStart('-')))
        {
            errors.Add("sort", $"Must be one of {string.Join(", ", sortable)}, optionally prefixed with '-' for descending.");
        }

        return errors.ToError();
    }
}

/// <summary>One page of a collection with the total count of matching items.</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, int Total, int Limit, int Offset)
{
    public int? NextOffset => Offset + Items.Count < Total ? Offset + Items.Count : null;
}

public static class PagingExtensions
{
    /// <summary>Applies sort and paging; <paramref name="sortKeys"/> maps each sortable field to its key, and the first is the default.</summary>
    public static async Task<Page<TDto>> ToPageAsync<T, TDto>(
        this IQueryable<T> query,
        ListQuery list,
        IReadOnlyDictionary<string, Expression<Func<T, object?>>> sortKeys,
        Func<T, TDto> map,
        CancellationToken cancellationToken)
    {
        var total = await query.CountAsync(cancellationToken);
        var field = list.Sort?.TrimStart('-') ?? sortKeys.Keys.First();
        var descending = list.Sort?.StartsWith('-') ?? false;
        var key = sortKeys[field];
        var ordered = descending ? query.OrderByDescending(key) : query.OrderBy(key);
        var items = await ordered.Skip(list.Offset).Take(list.Limit).ToListAsync(cancellationToken);
        return new Page<TDto>(items.Select(map).ToList(), total, list.Limit, list.Offset);
    }
}

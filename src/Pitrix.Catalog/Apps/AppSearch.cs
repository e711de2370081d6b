using System.Text;
using Microsoft.EntityFrameworkCore;
using Pitrix.Core.Catalog;
using Pitrix.Persistence;

namespace Pitrix.Catalog.Apps;

/// <summary>A full-text match: the app and its rank (lower is better).</summary>
public sealed class SearchHit
{
    public required string AppId { get; init; }

    public double Rank { get; init; }
}

/// <summary>
/// Full-text search over apps' name, description, keywords and maintainers: SQLite FTS5 (bm25) or
/// PostgreSQL <c>tsvector</c> (ts_rank_cd), both weighted name first. Every word must match, as a prefix.
/// </summary>
public static class AppSearch
{
    public const int MaxTerms = 8;

    /// <summary>The words of a query: letters and digits only, so nothing reaches the query syntax of either engine.</summary>
    public static IReadOnlyList<string> Terms(string? q)
    {
        if (string.IsNullOrWhiteSpace(q))
        {
            return [];
        }

        var terms = new List<string>();
        var word = new StringBuilder();
        foreach (var c in q.Normalize(NormalizationForm.FormKC))
        {
            if (char.IsLetterOrDigit(c))
            {
                word.Append(char.ToLowerInvariant(c));
            }
            else if (word.Length > 0)
            {
                terms.Add(word.ToString());
                word.Clear();
            }
        }

        if (word.Length > 0)
        {
            terms.Add(word.ToString());
        }

        return terms.Where(t => t.Length <= 64).Distinct(StringComparer.Ordinal).Take(MaxTerms).ToList();
    }

    /// <summary>
    /// Matching app ids with their rank, composable with further LINQ (joins, filters, paging). The
    /// parameter is named explicitly: EF 10 names raw-SQL and LINQ parameters alike (<c>p0</c>), and they
    /// collide once the query is paged.
    /// </summary>
    public static IQueryable<SearchHit> Search(PitrixDbContext db, IReadOnlyList<string> terms)
    {
        if (db is SqlitePitrixDbContext)
        {
            var match = string.Join(' ', terms.Select(t => $"\"{t}\"*"));

            // bm25 weights: name, description, keywords+maintainers. The unary + keeps the rowid join from
            // reaching FTS5 as a usable constraint, so the planner always runs the MATCH once and joins its
            // hits to apps. Without it, once the caller adds filters (provider, category, repo) SQLite may
            // drive from apps and probe the index per app with "rowid = ? AND MATCH", which re-expands every
            // prefix term per probe: 50-110 ms instead of ~1 ms for a count over 1,500 apps.
            return db.Database.SqlQueryRaw<SearchHit>(
                """SELECT a."Id" AS "AppId", bm25(apps_fts, 10.0, 1.0, 4.0) AS "Rank" FROM apps_fts JOIN apps a ON a.rowid = +apps_fts.rowid WHERE apps_fts MATCH @search_terms""",
                new Microsoft.Data.Sqlite.SqliteParameter("@search_terms", match));
        }

        // PostgreSQL's parser reads a word differently alone and inside a hyphenated name ("8e0995b2" is a
        // number and a word when alone; "-87940821" in "zk-87940821" is a signed number), so each term matches
        // in any of its forms: as written, as a negative number, or as the parser reads it alone.
        var sql = new StringBuilder("""SELECT a."Id" AS "AppId", -ts_rank_cd(a.search_vector, q.query) AS "Rank" FROM apps a, (SELECT """);
        var parameters = new List<object>();
        for (var i = 0; i < terms.Count; i++)
        {
            sql.Append(i == 0 ? "(" : " && (")
                .Append("CAST(@search_literal").Append(i).Append(" AS tsquery) || to_tsquery('simple', @search_parsed").Append(i).Append("))");
            parameters.Add(new Npgsql.NpgsqlParameter("search_literal" + i, $"'{terms[i]}':* | '-{terms[i]}':*"));
            parameters.Add(new Npgsql.NpgsqlParameter("search_parsed" + i, terms[i] + ":*"));
        }

        sql.Append(""") AS q(query) WHERE a.search_vector @@ q.query""");
        return db.Database.SqlQueryRaw<SearchHit>(sql.ToString(), [.. parameters]);
    }
}

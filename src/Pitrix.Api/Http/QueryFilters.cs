using Pitrix.Core;
using Pitrix.Core.Access;

namespace Pitrix.Api.Http;

/// <summary>Query-string filters several list endpoints share.</summary>
public static class QueryFilters
{
    /// <summary>Parses <c>visibility=private|group|public</c>; null text means no filter. Returns the error for anything else.</summary>
    public static Error? ParseVisibility(string? text, out Visibility? visibility)
    {
        visibility = null;
        if (text is null)
        {
            return null;
        }

        if (!Enum.TryParse<Visibility>(text, ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed))
        {
            return new FieldErrors().Add("visibility", "Must be private, group or public.").ToError();
        }

        visibility = parsed;
        return null;
    }
}

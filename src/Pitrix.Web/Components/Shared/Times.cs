using System.Globalization;

namespace Pitrix.Web.Components.Shared;

/// <summary>How every console page writes a moment: in UTC, to the minute, saying so.</summary>
public static class Times
{
    public static string When(DateTimeOffset at) => at.ToUniversalTime().ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);

    public static string When(DateTimeOffset? at) => at is { } value ? When(value) : "—";

    /// <summary>The machine-readable form, for <c>&lt;time datetime&gt;</c>.</summary>
    public static string Iso(DateTimeOffset at) => at.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture);
}

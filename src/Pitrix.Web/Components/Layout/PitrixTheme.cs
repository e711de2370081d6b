using MudBlazor;

namespace Pitrix.Web.Components.Layout;

/// <summary>The console's colours: one theme, so every page looks the same.</summary>
internal static class PitrixTheme
{
    public static MudTheme Theme { get; } = new()
    {
        PaletteLight = new PaletteLight
        {
            Primary = "#1f5f8b",
            Secondary = "#2e7d6b",
            AppbarBackground = "#1f5f8b",
        },
    };
}

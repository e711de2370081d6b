using System.Globalization;
using Pitrix.Web.Client;

namespace Pitrix.Web.Components.Pages.Clusters;

/// <summary>How the cluster pages put formats, actions and times into words, and look up names that may be gone.</summary>
public static class ClusterText
{
    public static string FormatLabel(string format) => format switch
    {
        "vmcluster" => "VM cluster",
        "helm" => "Helm chart",
        _ => format,
    };

    public static string ActionLabel(string action) => action.Replace('_', ' ');

    /// <summary>The name of something a cluster refers to; null when the user may no longer see it (an app unreleased since).</summary>
    public static async Task<string?> NameOrNullAsync<T>(Func<Task<T>> get, Func<T, string> name)
    {
        try
        {
            return name(await get());
        }
        catch (ApiException ex) when (ex.Status is 403 or 404)
        {
            return null;
        }
    }
}

using Pitrix.Templates;

namespace Pitrix.Drone.Confd;

/// <summary>
/// confd's <c>getenv</c> for drone templates, limited to the node's <c>PITRIX_*</c> variables so a template can
/// write <c>dataDir={{getenv "PITRIX_ROOT"}}/var/lib/zookeeper</c> but cannot read the drone's other environment.
/// </summary>
public static class ConfdEnvironment
{
    /// <summary>The only names <c>getenv</c> reads.</summary>
    public const string Prefix = "PITRIX_";

    /// <summary>
    /// Registers <c>getenv NAME [DEFAULT]</c>: the value of <paramref name="variables"/>[NAME], or DEFAULT (or "")
    /// when it is unset or empty, as confd's does. A name not starting with <see cref="Prefix"/> fails the template.
    /// </summary>
    public static FunctionLibrary AddGetenv(this FunctionLibrary library, IReadOnlyDictionary<string, string> variables) =>
        library.Add("getenv", [GoParam.String, GoParam.String], a =>
        {
            var name = (string)a[0]!;
            if (!name.StartsWith(Prefix, StringComparison.Ordinal))
            {
                throw new TemplateFunctionException($"getenv: only {Prefix}* variables may be read, not '{name}'");
            }

            return variables.TryGetValue(name, out var value) && value.Length > 0 ? value
                : a.Length > 1 ? (string)a[1]! : "";
        }, isVariadic: true);
}

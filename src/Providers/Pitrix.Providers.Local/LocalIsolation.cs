namespace Pitrix.Providers.Local;

/// <summary>How the networks of a local cloud keep their instances apart, chosen by a runtime's <c>isolation</c> label.</summary>
public enum LocalIsolation
{
    /// <summary>
    /// The default: a network is a block of loopback addresses (in <c>127.0.0.0/8</c>) and every instance runs on
    /// the host's own network stack, bound to its own address. Needs no privilege; the server reaches every node.
    /// </summary>
    Loopback,

    /// <summary>
    /// Root only: each instance has a Linux network namespace of its own, the network's instances joined by a
    /// bridge in a namespace of the network, with private addresses (default a /24 in <c>198.18.0.0/15</c>);
    /// the server has no route to any of them. The frontgate listens inside its instance's namespace and dials
    /// Pilot from the host, the only way in, as in a VPC.
    /// </summary>
    Netns,
}

/// <summary>Parsing of the <c>isolation</c> runtime label.</summary>
public static class LocalIsolationLabel
{
    /// <summary>The runtime label that chooses the isolation: <c>loopback</c> (default) or <c>netns</c>.</summary>
    public const string Key = "isolation";

    /// <summary>The isolation a runtime's labels ask for, or an error message naming the label and its values.</summary>
    public static (LocalIsolation Isolation, string? Error) Parse(IReadOnlyDictionary<string, string> labels) =>
        !labels.TryGetValue(Key, out var value) ? (LocalIsolation.Loopback, null)
        : value switch
        {
            "loopback" => (LocalIsolation.Loopback, null),
            "netns" => (LocalIsolation.Netns, null),
            _ => (LocalIsolation.Loopback, $"The label {Key}={value} names no isolation of the local runtime; use loopback (the default) or netns (root only)."),
        };
}

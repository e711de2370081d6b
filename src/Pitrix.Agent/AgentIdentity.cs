using System.Diagnostics.CodeAnalysis;
using System.Formats.Asn1;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;

namespace Pitrix.Agent;

/// <summary>What kind of party of the agent network a certificate names.</summary>
public enum AgentKind
{
    /// <summary>A drone: the agent in one node of a cluster.</summary>
    Node,

    /// <summary>A frontgate: the relay of one private network.</summary>
    Frontgate,

    /// <summary>The server's Pilot endpoint (server certificates only).</summary>
    Pilot,
}

/// <summary>
/// Who a party of the agent network is, as written in its certificate: a subject alternative name URI
/// <c>pitrix://node/&lt;id&gt;</c>, <c>pitrix://frontgate/&lt;id&gt;</c> or <c>pitrix://pilot/&lt;id&gt;</c>,
/// and the id again as the subject common name for humans reading the certificate.
/// </summary>
public sealed partial record AgentIdentity
{
    /// <summary>The URI scheme of agent identities.</summary>
    public const string Scheme = "pitrix";

    private AgentIdentity(AgentKind kind, string id)
    {
        Kind = kind;
        Id = id;
    }

    public AgentKind Kind { get; }

    public string Id { get; }

    /// <summary>The identity as a URI, like <c>pitrix://node/nd-abc</c>.</summary>
    public string Uri => $"{Scheme}://{KindSegment(Kind)}/{Id}";

    public static AgentIdentity Node(string nodeId) => Create(AgentKind.Node, nodeId);

    public static AgentIdentity Frontgate(string frontgateId) => Create(AgentKind.Frontgate, frontgateId);

    public static AgentIdentity Pilot(string pilotId) => Create(AgentKind.Pilot, pilotId);

    /// <summary>Creates an identity; throws when <paramref name="id"/> is not a valid agent id.</summary>
    public static AgentIdentity Create(AgentKind kind, string id)
    {
        if (!IsValidId(id))
        {
            throw new ArgumentException($"'{id}' is not a valid agent id: 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit.", nameof(id));
        }

        return new AgentIdentity(kind, id);
    }

    /// <summary>Parses <c>pitrix://&lt;kind&gt;/&lt;id&gt;</c>.</summary>
    public static bool TryParse(string? uri, [NotNullWhen(true)] out AgentIdentity? identity)
    {
        identity = null;
        const string prefix = Scheme + "://";
        if (uri is null || !uri.StartsWith(prefix, StringComparison.Ordinal))
        {
            return false;
        }

        var rest = uri.AsSpan(prefix.Length);
        var slash = rest.IndexOf('/');
        if (slash <= 0)
        {
            return false;
        }

        AgentKind? kind = rest[..slash] switch
        {
            "node" => AgentKind.Node,
            "frontgate" => AgentKind.Frontgate,
            "pilot" => AgentKind.Pilot,
            _ => null,
        };
        var id = rest[(slash + 1)..].ToString();
        if (kind is null || !IsValidId(id))
        {
            return false;
        }

        identity = new AgentIdentity(kind.Value, id);
        return true;
    }

    /// <summary>
    /// Reads the identity from a certificate's subject alternative names. Returns null when the
    /// certificate names no agent or more than one: an ambiguous certificate identifies nobody.
    /// Does not check who issued the certificate; callers get certificates that were already validated.
    /// </summary>
    public static AgentIdentity? FromCertificate(X509Certificate2 certificate)
    {
        AgentIdentity? found = null;
        foreach (var uri in SubjectAlternativeUris(certificate))
        {
            if (TryParse(uri, out var identity))
            {
                if (found is not null)
                {
                    return null;
                }

                found = identity;
            }
        }

        return found;
    }

    public override string ToString() => Uri;

    internal static IEnumerable<string> SubjectAlternativeUris(X509Certificate2 certificate)
    {
        // .NET reads DNS names and IP addresses from the SAN extension but not URIs, so the URI
        // entries ([6] IA5String in GeneralNames, RFC 5280 §4.2.1.6) are read here.
        var extension = certificate.Extensions["2.5.29.17"];
        if (extension is null)
        {
            return [];
        }

        var uris = new List<string>();
        var uriTag = new Asn1Tag(TagClass.ContextSpecific, 6);
        try
        {
            var reader = new AsnReader(extension.RawData, AsnEncodingRules.DER);
            var names = reader.ReadSequence();
            while (names.HasData)
            {
                if (names.PeekTag() == uriTag)
                {
                    uris.Add(names.ReadCharacterString(UniversalTagNumber.IA5String, uriTag));
                }
                else
                {
                    names.ReadEncodedValue();
                }
            }
        }
        catch (AsnContentException)
        {
            return [];
        }

        return uris;
    }

    private static string KindSegment(AgentKind kind) => kind switch
    {
        AgentKind.Node => "node",
        AgentKind.Frontgate => "frontgate",
        AgentKind.Pilot => "pilot",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    private static bool IsValidId(string? id) => id is not null && IdPattern().IsMatch(id);

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")]
    private static partial Regex IdPattern();
}

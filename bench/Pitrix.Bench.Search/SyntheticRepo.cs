using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Pitrix.Bench.Search;

/// <summary>
/// A Helm repo index with realistic word variety: descriptions and keywords are drawn from a Zipf
/// distribution over a vocabulary (real words at the head, made-up words in the tail), and chart
/// names combine a stem and a suffix, with popular stems shared by many charts. So a search for a
/// head word matches most apps, one for a tail word only one or two, and a name prefix some dozens.
/// The entry shape (maintainers, keywords, sources, digests) is the indexer benchmark's.
/// </summary>
public sealed class SyntheticRepo
{
    private static readonly string[] HeadWords =
    [
        "application", "kubernetes", "server", "cloud", "service", "data", "open", "source", "deploy", "cluster",
        "database", "monitoring", "platform", "web", "management", "storage", "metrics", "network", "secure", "scalable",
        "distributed", "container", "operator", "engine", "proxy", "cache", "search", "analytics", "stream", "message",
        "queue", "backup", "logging", "tracing", "identity", "access", "gateway", "api", "dashboard", "workflow",
        "pipeline", "build", "registry", "mesh", "ingress", "certificate", "secret", "config", "scheduler", "batch",
        "realtime", "graph", "document", "relational", "timeseries", "object", "file", "block", "replication", "sharding",
        "highly", "available", "lightweight", "fast", "simple", "modern", "enterprise", "community", "edition", "plugin",
        "extension", "framework", "runtime", "serverless", "function", "event", "driven", "notification", "email", "chat",
        "collaboration", "wiki", "content", "media", "video", "audio", "image", "machine", "learning", "model",
        "inference", "training", "notebook", "python", "java", "golang", "rust", "node", "javascript", "frontend",
        "backend", "microservice", "rest", "grpc", "websocket", "http", "tls", "oauth", "ldap", "saml",
        "single", "sign", "authentication", "authorization", "policy", "compliance", "audit", "scanner", "vulnerability", "firewall",
        "dns", "load", "balancer", "routing", "discovery", "consensus", "election", "coordination", "lock", "key",
        "value", "store", "column", "wide", "ledger", "blockchain", "iot", "device", "edge", "gpu",
        "hpc", "simulation", "geospatial", "maps", "payment", "commerce", "shop", "crm", "erp", "ticketing",
        "helpdesk", "forum", "blog", "cms", "static", "site", "generator", "template", "render", "report",
        "spreadsheet", "office", "calendar", "contacts", "password", "vault", "encryption", "signing", "artifact", "package",
        "mirror", "repository", "git", "review", "testing", "load-testing", "chaos", "benchmark", "profiling", "debugging",
        "alerting", "paging", "incident", "status", "uptime", "synthetic", "probe", "exporter", "collector", "agent",
        "daemon", "sidecar", "controller", "webhook", "admission", "crd", "custom", "resource", "autoscaler", "quota",
    ];

    private static readonly string[] Stems =
    [
        "redis", "postgresql", "mysql", "mariadb", "mongodb", "kafka", "rabbitmq", "nginx", "apache", "grafana",
        "prometheus", "elasticsearch", "opensearch", "kibana", "logstash", "fluentd", "fluentbit", "jaeger", "zipkin", "tempo",
        "loki", "thanos", "cortex", "mimir", "vault", "consul", "etcd", "zookeeper", "cassandra", "scylla",
        "cockroach", "tidb", "clickhouse", "druid", "pinot", "spark", "flink", "airflow", "argo", "tekton",
        "jenkins", "gitea", "gitlab", "harbor", "nexus", "minio", "ceph", "longhorn", "velero", "keycloak",
        "dex", "oauth2", "cert", "external", "traefik", "envoy", "istio", "linkerd", "kong", "haproxy",
        "memcached", "nats", "pulsar", "emqx", "mosquitto", "influxdb", "timescale", "victoria", "questdb", "neo4j",
        "arangodb", "couchdb", "couchbase", "solr", "meilisearch", "typesense", "wordpress", "drupal", "joomla", "ghost",
        "nextcloud", "owncloud", "mattermost", "rocketchat", "matrix", "jitsi", "discourse", "mediawiki", "bookstack", "outline",
        "superset", "metabase", "redash", "jupyter", "mlflow", "kubeflow", "ray", "seldon", "triton", "ollama",
    ];

    private static readonly string[] Suffixes =
    [
        "operator", "exporter", "proxy", "ui", "agent", "gateway", "cluster", "ha", "standalone", "backup",
        "controller", "dashboard", "connector", "bridge", "sidecar", "cli", "server", "worker", "stack", "lite",
    ];

    private static readonly string[] FirstNames = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "yusuf"];

    private static readonly string[] Syllables = ["ka", "zo", "ri", "mun", "tel", "vor", "qua", "bex", "lin", "dra", "sto", "fen", "gri", "pol", "yat", "nex", "ush", "cor", "mip", "zan", "tro", "wel", "jib", "hox"];

    private readonly List<ChartSpec> _public;
    private readonly List<ChartSpec> _private;

    private SyntheticRepo(List<ChartSpec> publicCharts, List<ChartSpec> privateCharts)
    {
        _public = publicCharts;
        _private = privateCharts;
    }

    /// <summary>The word only the private repo's charts contain: a visibility check searches for it.</summary>
    public const string PrivateOnlyWord = "confidentialx";

    public IReadOnlyList<ChartSpec> PublicCharts => _public;

    public static SyntheticRepo Generate(int publicApps, int privateApps, int seed = 42)
    {
        var random = new Random(seed);
        var vocabulary = Vocabulary(4000);
        var zipfWords = new Zipf(vocabulary.Length, 1.0);
        var zipfStems = new Zipf(Stems.Length, 0.9);
        var used = new HashSet<string>(StringComparer.Ordinal);
        List<ChartSpec> Charts(int count, string namePrefix, string? extraWord)
        {
            var charts = new List<ChartSpec>(count);
            for (var i = 0; i < count; i++)
            {
                string name;
                do
                {
                    name = $"{namePrefix}{Stems[zipfStems.Sample(random)]}-{Suffixes[random.Next(Suffixes.Length)]}";
                    if (used.Contains(name))
                    {
                        name += "-" + random.Next(2, 100).ToString(CultureInfo.InvariantCulture);
                    }
                }
                while (!used.Add(name));

                var words = Enumerable.Range(0, random.Next(12, 26)).Select(_ => vocabulary[zipfWords.Sample(random)]).ToList();
                if (extraWord is not null)
                {
                    words.Insert(random.Next(words.Count), extraWord);
                }

                var description = char.ToUpperInvariant(words[0][0]) + string.Join(' ', words)[1..] + ".";
                var keywords = Enumerable.Range(0, random.Next(2, 6)).Select(_ => vocabulary[zipfWords.Sample(random)]).Distinct(StringComparer.Ordinal).ToList();
                var maintainer = FirstNames[random.Next(FirstNames.Length)];
                charts.Add(new ChartSpec(name, description, keywords, maintainer));
            }

            return charts;
        }

        var publicCharts = Charts(publicApps, "", null);
        var privateCharts = Charts(privateApps, "internal-", PrivateOnlyWord);
        return new SyntheticRepo(publicCharts, privateCharts);
    }

    public string PublicIndex(int versions) => Index(_public, versions);

    public string PrivateIndex(int versions) => Index(_private, versions);

    /// <summary>Query terms of each kind, chosen by how many public apps they match (document frequency).</summary>
    public QueryTerms Terms()
    {
        var documentFrequency = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var chart in _public)
        {
            foreach (var word in chart.Words())
            {
                documentFrequency[word] = documentFrequency.GetValueOrDefault(word) + 1;
            }
        }

        var n = _public.Count;
        List<string> Band(double from, double to, int take) => documentFrequency
            .Where(kv => kv.Value >= from * n && kv.Value <= to * n && kv.Key.Length >= 3)
            .OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => kv.Key).Take(take).ToList();

        var common = Band(0.15, 0.70, 10);
        var medium = Band(0.01, 0.05, 10);
        var rare = documentFrequency.Where(kv => kv.Value <= 2 && !Stems.Contains(kv.Key) && kv.Key.Length >= 5)
            .OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key).Where((_, i) => i % 97 == 0).Take(10).ToList();
        var stemsInUse = _public.Select(c => c.Name.Split('-')[0]).GroupBy(s => s, StringComparer.Ordinal)
            .OrderByDescending(g => g.Count()).Select(g => g.Key).Where(s => s.Length >= 5).ToList();
        var prefixes = Enumerable.Range(0, 10).Select(i => stemsInUse[i * stemsInUse.Count / 10][..4]).Distinct(StringComparer.Ordinal).ToList();
        var twoWords = common.Zip(medium, (c, m) => $"{c} {m}").ToList();
        List<string> noMatch = ["zzqxv", "nonexistentword", "qwxzplk", "abcdefghijk", "xylophonez"];
        return new QueryTerms(common, rare, prefixes, twoWords, noMatch, documentFrequency);
    }

    private static string Index(List<ChartSpec> charts, int versions)
    {
        var yaml = new StringBuilder("apiVersion: v1\nentries:\n");
        foreach (var chart in charts)
        {
            yaml.Append(CultureInfo.InvariantCulture, $"  {chart.Name}:\n");
            for (var v = versions - 1; v >= 0; v--)
            {
                var digest = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{chart.Name}/{v}")));
                yaml.Append(CultureInfo.InvariantCulture, $"""
                      - apiVersion: v2
                        name: {chart.Name}
                        version: 1.{v}.0
                        appVersion: "{v}.0"
                        description: "{chart.Description}"
                        home: https://example.com/apps/{chart.Name}
                        icon: https://example.com/apps/{chart.Name}/icon.png
                        keywords: [{string.Join(", ", chart.Keywords)}]
                        maintainers:
                        - name: {chart.Maintainer}
                          email: {chart.Maintainer}@example.com
                        - name: Second Maintainer
                          email: second@example.com
                        sources: [https://github.com/example/{chart.Name}]
                        created: 2026-01-01T00:00:00Z
                        digest: {digest}
                        urls: [{chart.Name}-1.{v}.0.tgz]

                    """);
            }
        }

        return yaml.ToString();
    }

    private static string[] Vocabulary(int size)
    {
        var words = new List<string>(HeadWords);
        var seen = new HashSet<string>(HeadWords, StringComparer.Ordinal);
        var random = new Random(7);
        while (words.Count < size)
        {
            var word = string.Concat(Enumerable.Range(0, random.Next(2, 4)).Select(_ => Syllables[random.Next(Syllables.Length)]));
            if (seen.Add(word) && !Stems.Contains(word) && word != PrivateOnlyWord)
            {
                words.Add(word);
            }
        }

        return [.. words];
    }
}

public sealed record ChartSpec(string Name, string Description, IReadOnlyList<string> Keywords, string Maintainer)
{
    /// <summary>The distinct lower-case words a search can match.</summary>
    public IEnumerable<string> Words() =>
        Name.Split('-').Concat(Description.TrimEnd('.').ToLowerInvariant().Split(' ', '-')).Concat(Keywords.SelectMany(k => k.Split('-'))).Append(Maintainer).Distinct(StringComparer.Ordinal);
}

public sealed record QueryTerms(
    IReadOnlyList<string> Common,
    IReadOnlyList<string> Rare,
    IReadOnlyList<string> Prefixes,
    IReadOnlyList<string> TwoWords,
    IReadOnlyList<string> NoMatch,
    IReadOnlyDictionary<string, int> DocumentFrequency);

/// <summary>Samples ranks 0..n-1 with probability proportional to 1/(rank+1)^s.</summary>
internal sealed class Zipf
{
    private readonly double[] _cumulative;

    public Zipf(int n, double s)
    {
        _cumulative = new double[n];
        var sum = 0.0;
        for (var i = 0; i < n; i++)
        {
            sum += 1.0 / Math.Pow(i + 1, s);
            _cumulative[i] = sum;
        }

        for (var i = 0; i < n; i++)
        {
            _cumulative[i] /= sum;
        }
    }

    public int Sample(Random random)
    {
        var index = Array.BinarySearch(_cumulative, random.NextDouble());
        return Math.Min(_cumulative.Length - 1, index < 0 ? ~index : index);
    }
}

using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Pitrix.Bench.Templates;
using Pitrix.Packages.VmCluster;
using Pitrix.Templates;

// Template rendering: Pitrix's engine (BenchmarkDotNet, in-process) beside Go's text/template on the
// same inputs, measured in the same run. Both engines' outputs are compared first, so both do the same work.
var exportDirectory = Directory.CreateTempSubdirectory("pitrix-bench-").FullName;
Inputs.Export(exportDirectory);
var go = Inputs.RunGo(exportDirectory);
Console.WriteLine(go);

var config = ManualConfig.CreateEmpty()
    .AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance))
    .AddDiagnoser(BenchmarkDotNet.Diagnosers.MemoryDiagnoser.Default)
    .AddLogger(BenchmarkDotNet.Loggers.ConsoleLogger.Default)
    .AddColumnProvider(BenchmarkDotNet.Columns.DefaultColumnProviders.Instance);
BenchmarkRunner.Run<RenderBenchmarks>(config);
Console.WriteLine("Go reference, same run:");
Console.WriteLine(go);

namespace Pitrix.Bench.Templates
{
    [MemoryDiagnoser]
    public class RenderBenchmarks
    {
        private TemplateSet _cluster = null!;
        private object? _clusterData;
        private TemplateSet _confd = null!;
        private string _clusterTemplateText = "";
        private JsonObject _clusterValues = null!;

        [GlobalSetup]
        public void Setup()
        {
            (_clusterTemplateText, _clusterValues) = Inputs.ZooKeeper();
            _cluster = Inputs.ClusterSet(_clusterTemplateText);
            _clusterData = ClusterTemplate.ToTemplateValue(_clusterValues);
            _confd = Inputs.ConfdSet();
        }

        [Benchmark(Description = "cluster.json.tmpl (zookeeper), execute")]
        public string ClusterExecute() => _cluster.Execute("zk", _clusterData);

        [Benchmark(Description = "cluster.json.tmpl (zookeeper), rewrite+parse+execute+JSON")]
        public JsonObject ClusterEndToEnd() => ClusterTemplate.Render(File.ReadAllText(Inputs.Sample("cluster.json.tmpl")), _clusterValues);

        [Benchmark(Description = "confd haproxy.cfg.tmpl (202 lines), execute")]
        public string ConfdExecute() => _confd.Execute("haproxy", null);
    }

    internal static class Inputs
    {
        public static string Root { get; } = FindRoot();

        public static string Sample(string file) => Path.Combine(Root, "samples", "vmcluster", "zookeeper", file);

        public static (string Template, JsonObject Values) ZooKeeper()
        {
            var schema = ConfigSchema.Parse(File.ReadAllText(Sample("config.json")));
            var values = schema.SampleValues();
            values["cluster"]!["subnet"] = "vxnet-bench";
            return (ClusterTemplate.Rewrite(File.ReadAllText(Sample("cluster.json.tmpl"))), values);
        }

        public static TemplateSet ClusterSet(string rewritten)
        {
            var functions = new FunctionLibrary();
            functions.Add("pitrixJson", [GoParam.Any], a => JsonSerializer.Serialize(a[0]));
            functions.Add("pitrixJsonEscape", [GoParam.Any], a => JsonSerializer.Serialize(Convert.ToString(a[0], System.Globalization.CultureInfo.InvariantCulture) ?? "")[1..^1]);
            var set = new TemplateSet(functions);
            set.Parse("zk", rewritten);
            return set;
        }

        public static Dictionary<string, string> Metadata()
        {
            var kv = new Dictionary<string, string>(StringComparer.Ordinal) { ["/env/maxconn"] = "8192", ["/cluster/name"] = "bench" };
            string[] services = ["web", "api", "auth", "search", "media", "cart", "orders", "users", "admin", "metrics", "static", "ws"];
            foreach (var service in services)
            {
                kv[$"/env/{service}_port"] = "8080";
                kv[$"/env/{service}_tags"] = "blue,green,canary";
                for (var i = 1; i <= 10; i++)
                {
                    kv[$"/hosts/{service}/{service}-{i:00}/ip"] = $"10.1.{Array.IndexOf(services, service)}.{i}";
                    kv[$"/hosts/{service}/{service}-{i:00}/port"] = "8080";
                }
            }

            kv["/env/admin_acl"] = "10.0.0.0/8";
            return kv;
        }

        public static TemplateSet ConfdSet()
        {
            var set = new TemplateSet(new FunctionLibrary().AddConfd(new InMemoryKeyValueView(Metadata())));
            set.Parse("haproxy", File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "inputs", "haproxy.cfg.tmpl")));
            return set;
        }

        public static void Export(string directory)
        {
            var (template, values) = ZooKeeper();
            File.WriteAllText(Path.Combine(directory, "zk.tmpl"), template);
            File.WriteAllText(Path.Combine(directory, "zk.json"), values.ToJsonString());
            File.Copy(Path.Combine(AppContext.BaseDirectory, "inputs", "haproxy.cfg.tmpl"), Path.Combine(directory, "haproxy.cfg.tmpl"));
            File.WriteAllText(Path.Combine(directory, "kv.json"), JsonSerializer.Serialize(Metadata()));
        }

        /// <summary>Builds and runs the Go program, then checks both engines rendered the same bytes.</summary>
        public static string RunGo(string directory)
        {
            var source = Path.Combine(AppContext.BaseDirectory, "gobench", "main.go");
            var binary = Path.Combine(directory, "gobench");
            Run("go", ["build", "-o", binary, source], new Dictionary<string, string> { ["GO111MODULE"] = "off", ["GOCACHE"] = Path.Combine(directory, "gocache"), ["GOPATH"] = Path.Combine(directory, "gopath") });
            var output = Run(binary, [directory], []);

            var ours = ClusterSet(File.ReadAllText(Path.Combine(directory, "zk.tmpl"))).Execute("zk", TemplateValues.FromJson(File.ReadAllText(Path.Combine(directory, "zk.json"))));
            Check("cluster.json.tmpl", ours, File.ReadAllText(Path.Combine(directory, "zk.out")));
            Check("haproxy.cfg.tmpl", ConfdSet().Execute("haproxy", null), File.ReadAllText(Path.Combine(directory, "haproxy.out")));
            return output.TrimEnd();
        }

        private static void Check(string name, string ours, string go)
        {
            if (ours != go)
            {
                throw new InvalidOperationException($"{name}: our output differs from Go's; the comparison would be unfair.\n--- ours\n{ours}\n--- go\n{go}");
            }
        }

        private static string Run(string file, string[] args, Dictionary<string, string> environment)
        {
            var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var arg in args)
            {
                start.ArgumentList.Add(arg);
            }

            foreach (var (key, value) in environment)
            {
                start.Environment[key] = value;
            }

            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEnd();
            var error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            return process.ExitCode == 0 ? output : throw new InvalidOperationException($"{file} failed: {error}");
        }

        private static string FindRoot()
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Pitrix.slnx")))
                {
                    return dir.FullName;
                }
            }

            throw new InvalidOperationException("Pitrix.slnx not found.");
        }
    }
}

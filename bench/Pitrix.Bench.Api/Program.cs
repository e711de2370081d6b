using System.Diagnostics;
using System.Globalization;
using System.Net;
using Pitrix.Testing;

// Load driver for the REST API: starts a real server on a loopback port (SQLite, or PostgreSQL from
// PITRIX_TEST_POSTGRES), then measures sign-in latency and authenticated read/write throughput with
// a bounded number of concurrent clients for a bounded time. Traffic stays on 127.0.0.1.
var database = Arg("--database", "sqlite");
var seconds = int.Parse(Arg("--seconds", "10"), CultureInfo.InvariantCulture);
var concurrency = int.Parse(Arg("--concurrency", "8"), CultureInfo.InvariantCulture);

await using var server = await TestServer.StartAsync(database, "--Logging:LogLevel:Default=Error");
using var admin = await server.LoginAdminAsync();
for (var i = 0; i < 100; i++)
{
    await admin.PostAsync("/api/v1/runtimes", new { name = $"seed-{i}", provider = "local" });
}

Console.WriteLine($"database={database} concurrency={concurrency} seconds={seconds} cores={Environment.ProcessorCount}");
Console.WriteLine("| scenario | requests | errors | req/s | p50 ms | p95 ms | p99 ms |");
Console.WriteLine("|---|---|---|---|---|---|---|");

var logins = new List<double>();
for (var i = 0; i < 30; i++)
{
    var watch = Stopwatch.StartNew();
    using var session = await server.LoginAsync("admin", TestServer.AdminPassword);
    logins.Add(watch.Elapsed.TotalMilliseconds);
}

Report("login (sequential, PBKDF2)", logins, 0, logins.Sum() / 1000);

var token = (string)(await admin.PostAsync("/api/v1/me/tokens", new { name = "bench" })).Body!["token"]!;

// Warm-up under the same load, unreported: tiered JIT needs seconds of traffic before the code is
// at full speed, and without this the first scenario measured looks much slower than the rest.
await RunAsync("warm-up (JWT)", admin.Token!, s => s.GetAsync("/api/v1/runtimes?limit=20"), HttpStatusCode.OK, report: false);
await RunAsync("warm-up (API token)", token, s => s.GetAsync("/api/v1/runtimes?limit=20"), HttpStatusCode.OK, report: false);

await RunAsync("GET /runtimes?limit=20 (JWT)", admin.Token!, s => s.GetAsync("/api/v1/runtimes?limit=20"), HttpStatusCode.OK);
await RunAsync("GET /runtimes?limit=20 (API token)", token, s => s.GetAsync("/api/v1/runtimes?limit=20"), HttpStatusCode.OK);
var counter = 0;
await RunAsync("POST /runtimes (audited write)", admin.Token!, s => s.PostAsync("/api/v1/runtimes", new { name = $"bench-{Interlocked.Increment(ref counter)}", provider = "local" }), HttpStatusCode.Created);

async Task RunAsync(string name, string bearer, Func<ApiSession, Task<ApiResponse>> call, HttpStatusCode expected, bool report = true)
{
    var latencies = new List<double>();
    var errors = 0;
    var deadline = Stopwatch.StartNew();
    var workers = Enumerable.Range(0, concurrency).Select(async _ =>
    {
        using var session = server.Anonymous();
        session.Token = bearer;
        var mine = new List<double>();
        var failed = 0;
        while (deadline.Elapsed.TotalSeconds < seconds && mine.Count < 1_000_000)
        {
            var watch = Stopwatch.StartNew();
            var response = await call(session);
            mine.Add(watch.Elapsed.TotalMilliseconds);
            if (response.Status != expected)
            {
                failed++;
            }
        }

        lock (latencies)
        {
            latencies.AddRange(mine);
            errors += failed;
        }
    });
    await Task.WhenAll(workers);
    if (report)
    {
        Report(name, latencies, errors, deadline.Elapsed.TotalSeconds);
    }
}

static void Report(string name, List<double> latencies, int errors, double elapsedSeconds)
{
    latencies.Sort();
    double P(double q) => latencies[Math.Min(latencies.Count - 1, (int)(q * latencies.Count))];
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"| {name} | {latencies.Count} | {errors} | {latencies.Count / elapsedSeconds:0} | {P(0.50):0.0} | {P(0.95):0.0} | {P(0.99):0.0} |"));
}

string Arg(string name, string fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : fallback;
}

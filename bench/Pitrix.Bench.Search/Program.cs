using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Pitrix.Bench.Search;
using Pitrix.Testing;

// Catalog search benchmark: starts the real server (SQLite, or PostgreSQL from PITRIX_TEST_POSTGRES) on a
// loopback port, syncs a synthetic public Helm repo (--apps x --versions) and a private one through the
// API, then sends GET /api/v1/apps searches, browses and filtered searches as a plain user: first
// open-loop at a fixed arrival rate, with latency counted from each request's scheduled time so that
// queueing counts, then closed-loop with --concurrency clients to find the ceiling. Traffic stays on 127.0.0.1.
var database = Arg("--database", "sqlite");
var rate = IntArg("--rate", 200);
var seconds = IntArg("--seconds", 20);
var warmupSeconds = IntArg("--warmup", 10);
var concurrency = IntArg("--concurrency", 8);
var closedSeconds = IntArg("--closed-seconds", 10);
var appCount = IntArg("--apps", 1500);
var versionCount = IntArg("--versions", 10);
var privateAppCount = IntArg("--private-apps", 300);
var keep = args.Contains("--keep");
var consoleRepeats = IntArg("--console-pages", 0);
var consoleOnly = args.Contains("--console-only");

var work = Directory.CreateTempSubdirectory("pitrix-bench-search-").FullName;
try
{
    var synthetic = SyntheticRepo.Generate(appCount, privateAppCount);
    var publicDirectory = Directory.CreateDirectory(Path.Combine(work, "public")).FullName;
    var privateDirectory = Directory.CreateDirectory(Path.Combine(work, "private")).FullName;
    await File.WriteAllTextAsync(Path.Combine(publicDirectory, "index.yaml"), synthetic.PublicIndex(versionCount));
    await File.WriteAllTextAsync(Path.Combine(privateDirectory, "index.yaml"), synthetic.PrivateIndex(versionCount));

    // The test fixture turns SQLite connection pooling off (so test directories can be deleted at once);
    // pitrix-server pools, and so does this benchmark.
    List<string> serverArgs = ["--Logging:LogLevel:Default=Error", "--Logging:LogLevel:Microsoft.Hosting.Lifetime=Error"];
    if (database == "sqlite")
    {
        serverArgs.Add($"--connection-string=Data Source={Path.Combine(work, "pitrix.db")}");
    }

    // Arguments after "--" go to the server, e.g. "-- --Logging:LogLevel:Microsoft.EntityFrameworkCore.Database.Command=Information".
    serverArgs.AddRange(args.SkipWhile(a => a != "--").Skip(1));

    await using var server = await TestServer.StartAsync(database, [.. serverArgs]);
    using var admin = await server.LoginAdminAsync();
    Console.WriteLine($"database={database} apps={appCount} versions={appCount * versionCount} private_apps={privateAppCount} cores={Environment.ProcessorCount} " +
        $"index={new FileInfo(Path.Combine(publicDirectory, "index.yaml")).Length / 1024 / 1024.0:0.0} MiB");

    var publicRepo = await CreateRepoAsync(admin, "bench-public", publicDirectory, "public");
    var privateRepo = await CreateRepoAsync(admin, "bench-private", privateDirectory, "private");
    using var user = await server.CreateUserAsync("searcher", ["user"]);

    // Categories on a third of the public apps, so the category filter has something to select.
    var appIds = await ListAppIdsAsync(admin, publicRepo);
    var categoryIds = new List<string>();
    foreach (var name in new[] { "Databases", "Monitoring", "Networking", "Developer tools" })
    {
        categoryIds.Add((await admin.PostAsync("/api/v1/categories", new { name })).Id);
    }

    for (var i = 0; i < appIds.Count; i += 3)
    {
        var set = await admin.PutAsync($"/api/v1/apps/{appIds[i]}/categories", new { category_ids = new[] { categoryIds[i / 3 % categoryIds.Count] } });
        Expect(set.Status == HttpStatusCode.OK, $"Setting categories failed: {set}");
    }

    var terms = synthetic.Terms();
    var browsable = (int)(await user.GetAsync("/api/v1/apps?limit=1")).Body!["total"]!;
    await CheckVisibilityAsync(admin, user, privateAppCount, browsable, appCount);
    var mix = new RequestMix(terms, categoryIds, browsable);
    await PrintSelectivityAsync(user, mix, terms);

    if (consoleRepeats > 0)
    {
        // The store's pages (search, filters, a deep page), an app with its versions, the deploy wizard's version step, my clusters.
        var someApp = appIds[appIds.Count / 2];
        await ConsolePages.MeasureAsync(server.Address, "searcher", "password-searcher",
        [
            ("store, first page", "/"),
            ("store, search", "/?q=" + Uri.EscapeDataString(terms.Common[0])),
            ("store, search + category", $"/?q={Uri.EscapeDataString(terms.Common[1])}&category={categoryIds[0]}"),
            ("store, provider filter, page 20", "/?provider=kubernetes&page=20"),
            ("app page", "/apps/" + someApp),
            ("deploy wizard, versions", $"/apps/{someApp}/deploy"),
            ("my clusters", "/clusters"),
        ], consoleRepeats);
        if (consoleOnly)
        {
            return;
        }
    }

    using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue }) { BaseAddress = server.Address, Timeout = TimeSpan.FromSeconds(30) };
    http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", user.Token);

    // Warm-up under the measured load, unreported: tiered JIT needs seconds of traffic before the code
    // runs at full speed (see Pitrix.Bench.Api), and the databases need their pages cached.
    _ = await OpenLoopAsync(http, mix, rate, warmupSeconds, 0);
    var open = await OpenLoopAsync(http, mix, rate, seconds, rate * warmupSeconds);
    Report($"open loop, {rate} req/s scheduled for {seconds} s (latency from scheduled send time)", open.Samples, open.Elapsed,
        $"sent at {open.Samples.Length / open.SendSeconds:0.0} req/s; peak in flight {open.PeakInFlight}; send lag p99 {Percentile(open.SendLags, 0.99):0.0} ms");
    var closed = await ClosedLoopAsync(http, mix, concurrency, closedSeconds);
    Report($"closed loop, {concurrency} clients for {closedSeconds} s (maximum throughput)", closed.Samples, closed.Elapsed, null);
}
finally
{
    if (keep)
    {
        Console.WriteLine($"kept {work}");
    }
    else
    {
        Directory.Delete(work, recursive: true);
    }
}

async Task<string> CreateRepoAsync(ApiSession admin, string name, string directory, string visibility)
{
    var watch = Stopwatch.StartNew();
    var created = await admin.PostAsync("/api/v1/repos", new { name, url = new Uri(directory + "/").AbsoluteUri, fetch_packages = "none", visibility });
    Expect(created.Status == HttpStatusCode.Created, $"Creating repo {name} failed: {created}");
    var id = created.Id;
    while (true)
    {
        var syncs = await admin.GetAsync($"/api/v1/repos/{id}/syncs?limit=1");
        var sync = syncs.Body?["items"]?.AsArray().FirstOrDefault();
        var status = (string?)sync?["status"];
        if (status is "succeeded" or "partially_succeeded" or "failed")
        {
            var started = DateTimeOffset.Parse((string)sync!["started_at"]!, CultureInfo.InvariantCulture);
            var finished = DateTimeOffset.Parse((string)sync["finished_at"]!, CultureInfo.InvariantCulture);
            Console.WriteLine($"repo {name} ({visibility}): first sync {status} in {(finished - started).TotalMilliseconds:0} ms " +
                $"({watch.ElapsedMilliseconds} ms from create until seen), added {sync["added"]}, failed {sync["failed"]}");
            Expect(status != "failed", $"Sync of {name} failed: {sync}");
            return id;
        }

        await Task.Delay(250);
    }
}

static async Task<List<string>> ListAppIdsAsync(ApiSession session, string repoId)
{
    var ids = new List<string>();
    while (true)
    {
        var page = await session.GetAsync($"/api/v1/apps?repo={repoId}&limit=200&offset={ids.Count}");
        var items = page.Body!["items"]!.AsArray();
        ids.AddRange(items.Select(i => (string)i!["id"]!));
        if (items.Count == 0 || page.Body["next_offset"] is null)
        {
            return ids;
        }
    }
}

// The user must see the public apps and none of the private repo's; the admin sees both.
static async Task CheckVisibilityAsync(ApiSession admin, ApiSession user, int privateApps, int browsable, int publicApps)
{
    var asUser = (int)(await user.GetAsync($"/api/v1/apps?q={SyntheticRepo.PrivateOnlyWord}")).Body!["total"]!;
    var asAdmin = (int)(await admin.GetAsync($"/api/v1/apps?q={SyntheticRepo.PrivateOnlyWord}")).Body!["total"]!;
    Console.WriteLine($"visibility: user browses {browsable} apps; private-only word matches {asUser} for the user, {asAdmin} for the admin");
    Expect(asUser == 0 && asAdmin == privateApps && browsable == publicApps, "Visibility is not what the benchmark expects.");
}

static async Task PrintSelectivityAsync(ApiSession user, RequestMix mix, QueryTerms terms)
{
    Console.WriteLine("selectivity (apps the user's search matches, of the terms each kind rotates through):");
    foreach (var (kind, list) in new[] { ("common", terms.Common), ("rare", terms.Rare), ("prefix", terms.Prefixes), ("two-word", terms.TwoWords), ("no-match", terms.NoMatch) })
    {
        var totals = new List<string>();
        foreach (var term in list)
        {
            var response = await user.GetAsync($"/api/v1/apps?limit=1&q={Uri.EscapeDataString(term)}");
            Expect(response.Status == HttpStatusCode.OK, $"Search for '{term}' failed: {response}");
            totals.Add($"{term}={response.Body!["total"]}");
        }

        Console.WriteLine($"  {kind}: {string.Join(", ", totals)}");
    }

    foreach (var path in mix.Paths)
    {
        var response = await user.GetAsync(path.Path);
        Expect(response.Status == HttpStatusCode.OK, $"{path.Path} failed: {response}");
    }
}

static async Task<Run> OpenLoopAsync(HttpClient http, RequestMix mix, int rate, int seconds, long first)
{
    var count = rate * seconds;
    var samples = new Sample[count];
    var lags = new double[count];
    var tasks = new Task[count];
    var interval = (double)Stopwatch.Frequency / rate;
    var inFlight = 0;
    var peak = 0;
    var start = Stopwatch.GetTimestamp();
    for (var i = 0; i < count; i++)
    {
        var due = start + (long)(i * interval);
        var wait = due - Stopwatch.GetTimestamp();
        if (wait > 0)
        {
            await Task.Delay(TimeSpan.FromTicks(wait * TimeSpan.TicksPerSecond / Stopwatch.Frequency));
        }

        lags[i] = Stopwatch.GetElapsedTime(due).TotalMilliseconds;
        var (kind, path) = mix.At(first + i);
        var index = i;
        peak = Math.Max(peak, Interlocked.Increment(ref inFlight));
        tasks[i] = SendAsync(http, path, due).ContinueWith(t =>
        {
            Interlocked.Decrement(ref inFlight);
            samples[index] = new Sample(kind, t.Result.Milliseconds, t.Result.Ok);
        }, TaskScheduler.Default);
    }

    var sendSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
    await Task.WhenAll(tasks);
    return new Run(samples, Stopwatch.GetElapsedTime(start).TotalSeconds, sendSeconds, peak, lags);
}

static async Task<Run> ClosedLoopAsync(HttpClient http, RequestMix mix, int clients, int seconds)
{
    var samples = new List<Sample>();
    long next = 0;
    var start = Stopwatch.GetTimestamp();
    var workers = Enumerable.Range(0, clients).Select(async _ =>
    {
        var mine = new List<Sample>();
        while (Stopwatch.GetElapsedTime(start).TotalSeconds < seconds)
        {
            var (kind, path) = mix.At(Interlocked.Increment(ref next));
            var (ms, ok) = await SendAsync(http, path, Stopwatch.GetTimestamp());
            mine.Add(new Sample(kind, ms, ok));
        }

        lock (samples)
        {
            samples.AddRange(mine);
        }
    });
    await Task.WhenAll(workers);
    var elapsed = Stopwatch.GetElapsedTime(start).TotalSeconds;
    return new Run([.. samples], elapsed, elapsed, clients, []);
}

static async Task<(double Milliseconds, bool Ok)> SendAsync(HttpClient http, string path, long since)
{
    try
    {
        using var response = await http.GetAsync(new Uri(path, UriKind.Relative));
        _ = await response.Content.ReadAsByteArrayAsync();
        return (Stopwatch.GetElapsedTime(since).TotalMilliseconds, response.StatusCode == HttpStatusCode.OK);
    }
    catch (HttpRequestException)
    {
        return (Stopwatch.GetElapsedTime(since).TotalMilliseconds, false);
    }
    catch (TaskCanceledException)
    {
        return (Stopwatch.GetElapsedTime(since).TotalMilliseconds, false);
    }
}

static void Report(string title, Sample[] samples, double elapsedSeconds, string? note)
{
    Console.WriteLine();
    Console.WriteLine($"{title}{(note is null ? "" : "; " + note)}");
    Console.WriteLine("| request kind | requests | errors | req/s | p50 ms | p95 ms | p99 ms | max ms |");
    Console.WriteLine("|---|---|---|---|---|---|---|---|");
    var groups = RequestMix.Kinds.Select(k => (k, samples.Where(s => s.Kind == k).ToArray()))
        .Append(("all searches (q=)", samples.Where(s => s.Kind.StartsWith("search", StringComparison.Ordinal) || s.Kind.StartsWith("filter", StringComparison.Ordinal)).ToArray()))
        .Append(("overall", samples));
    foreach (var (kind, group) in groups)
    {
        var latencies = group.Select(s => s.Milliseconds).ToArray();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {kind} | {group.Length} | {group.Count(s => !s.Ok)} | {group.Length / elapsedSeconds:0} | {Percentile(latencies, 0.50):0.0} | {Percentile(latencies, 0.95):0.0} | {Percentile(latencies, 0.99):0.0} | {latencies.DefaultIfEmpty().Max():0.0} |"));
    }
}

static double Percentile(double[] values, double q)
{
    if (values.Length == 0)
    {
        return double.NaN;
    }

    var sorted = values.Order().ToArray();
    return sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)];
}

static void Expect(bool condition, string message)
{
    if (!condition)
    {
        throw new InvalidOperationException(message);
    }
}

int IntArg(string name, int fallback) => int.Parse(Arg(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

string Arg(string name, string fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : fallback;
}

internal readonly record struct Sample(string Kind, double Milliseconds, bool Ok);

internal sealed record Run(Sample[] Samples, double Elapsed, double SendSeconds, int PeakInFlight, double[] SendLags);

/// <summary>
/// The rotating request mix: of every ten requests, seven are searches (two common words, two name
/// prefixes, a rare word, two words, no match), one browses by name at a moving offset, and two
/// are searches filtered by category or by provider.
/// </summary>
internal sealed class RequestMix(QueryTerms terms, IReadOnlyList<string> categoryIds, int browsable)
{
    public static readonly string[] Kinds =
        ["search: common word", "search: rare word", "search: name prefix", "search: two words", "search: no match", "browse: sort=name&offset", "filter: q + category", "filter: q + provider"];

    private static readonly int[] Slots = [0, 2, 1, 5, 3, 6, 2, 4, 7, 0];

    public IEnumerable<(string Kind, string Path)> Paths => Enumerable.Range(0, Slots.Length).Select(i => At(i));

    public (string Kind, string Path) At(long sequence)
    {
        var kind = Slots[sequence % Slots.Length];
        var round = (int)(sequence / Slots.Length);
        string Pick(IReadOnlyList<string> list) => Uri.EscapeDataString(list[round % list.Count]);
        var path = kind switch
        {
            0 => $"/api/v1/apps?q={Pick(terms.Common)}&limit=20",
            1 => $"/api/v1/apps?q={Pick(terms.Rare)}&limit=20",
            2 => $"/api/v1/apps?q={Pick(terms.Prefixes)}&limit=20",
            3 => $"/api/v1/apps?q={Pick(terms.TwoWords)}&limit=20",
            4 => $"/api/v1/apps?q={Pick(terms.NoMatch)}&limit=20",
            5 => $"/api/v1/apps?limit=20&sort=name&offset={(long)round * 137 % Math.Max(1, browsable - 20)}",
            6 => $"/api/v1/apps?q={Pick(terms.Common)}&category={categoryIds[round % categoryIds.Count]}&limit=20",
            _ => $"/api/v1/apps?q={Pick(terms.Prefixes)}&provider=kubernetes&limit=20",
        };
        return (Kinds[kind], path);
    }
}

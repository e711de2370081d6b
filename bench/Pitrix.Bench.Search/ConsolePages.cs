using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace Pitrix.Bench.Search;

/// <summary>
/// The web console's pages over the benchmark's catalog, fetched as a signed-in browser would (the session
/// cookie from the sign-in form): one client, each page requested in turn, the time until its whole HTML
/// (streamed pages included) has arrived.
/// </summary>
internal static partial class ConsolePages
{
    public static async Task MeasureAsync(Uri address, string user, string password, IReadOnlyList<(string Name, string Path)> pages, int repeats)
    {
        using var http = new HttpClient(new SocketsHttpHandler { CookieContainer = new CookieContainer(), UseCookies = true, AllowAutoRedirect = false })
        {
            BaseAddress = address,
            Timeout = TimeSpan.FromSeconds(60),
        };
        var form = await http.GetStringAsync(new Uri("/signin", UriKind.Relative));
        var token = AntiforgeryField().Match(form).Groups[1].Value;
        using var body = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "signin",
            ["__RequestVerificationToken"] = WebUtility.HtmlDecode(token),
            ["Username"] = user,
            ["Password"] = password,
        });
        using var signedIn = await http.PostAsync(new Uri("/signin", UriKind.Relative), body);
        if (signedIn.StatusCode != HttpStatusCode.Redirect)
        {
            throw new InvalidOperationException($"The console's sign-in answered {(int)signedIn.StatusCode}.");
        }

        Console.WriteLine($"console pages, signed in as {user}, {repeats} requests each after 3 unreported (one client, whole HTML):");
        Console.WriteLine("| page | path | p50 ms | p90 ms | max ms | HTML KiB |");
        Console.WriteLine("|---|---|---|---|---|---|");
        foreach (var (name, path) in pages)
        {
            var times = new List<double>();
            var size = 0;
            for (var i = 0; i < repeats + 3; i++)
            {
                var watch = Stopwatch.StartNew();
                using var response = await http.GetAsync(new Uri(path, UriKind.Relative));
                var html = await response.Content.ReadAsStringAsync();
                watch.Stop();
                if (response.StatusCode != HttpStatusCode.OK || html.Contains("data-testid=\"problem\"", StringComparison.Ordinal))
                {
                    throw new InvalidOperationException($"{path} answered {(int)response.StatusCode}{(html.Contains("data-testid=\"problem\"", StringComparison.Ordinal) ? " with a problem" : "")}.");
                }

                if (i >= 3)
                {
                    times.Add(watch.Elapsed.TotalMilliseconds);
                    size = html.Length;
                }
            }

            times.Sort();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {name} | `{path}` | {times[times.Count / 2]:0.0} | {times[(int)Math.Ceiling(times.Count * 0.9) - 1]:0.0} | {times[^1]:0.0} | {size / 1024.0:0} |"));
        }
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();
}

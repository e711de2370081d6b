using Microsoft.Playwright;
using Pitrix.Testing;
using Xunit;

namespace Pitrix.Web.Tests;

/// <summary>
/// A real Pitrix server (the API and the web console) and a headless Debian chromium driven by Playwright,
/// shared by the tests of a class; each test opens its own browser context (its own cookies).
/// </summary>
public abstract class BrowserFixture : IAsyncLifetime
{
    public const string ChromiumVariable = "PITRIX_CHROMIUM";
    public const string DefaultChromium = "/usr/bin/chromium";

    private TestServer? _server;
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public TestServer Server => _server ?? throw new InvalidOperationException("The server has not started.");

    public IBrowser Browser => _browser ?? throw new InvalidOperationException("The browser has not started.");

    /// <summary>Extra server arguments, such as a short access-token lifetime.</summary>
    protected virtual string[] ServerArguments => [];

    /// <summary>Extra registrations for the server, such as the fake cloud.</summary>
    protected virtual Action<Microsoft.AspNetCore.Builder.WebApplicationBuilder>? Configure => null;

    /// <summary>Where screenshots go: <c>TestResults/web/</c> at the repository root (ignored by git).</summary>
    public static string ScreenshotDirectory { get; } = RepoFiles.Path("TestResults", "web");

    public async Task InitializeAsync()
    {
        var chromium = Environment.GetEnvironmentVariable(ChromiumVariable) is { Length: > 0 } configured ? configured : DefaultChromium;
        if (!File.Exists(chromium))
        {
            throw new InvalidOperationException(
                $"Chromium was not found at {chromium}. The web console's browser tests drive Debian's chromium: install it with " +
                $"'apt-get install -y chromium' (./test.sh does), or set {ChromiumVariable} to a chromium executable.");
        }

        // The suite shares two cores with every other test project: wait for the page longer than Playwright's 5 s.
        Assertions.SetDefaultExpectTimeout(20_000);
        _server = await TestServer.StartAsync("sqlite", Configure, ServerArguments);
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = chromium, Headless = true });
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.CloseAsync();
        }

        _playwright?.Dispose();
        if (_server is not null)
        {
            var dataDirectory = _server.DataDirectory;
            await _server.DisposeAsync();

            // A test that deployed on the local runtime leaves agents and app processes (each carries the server's
            // data directory in PITRIX_ROOT): they end with the server, whatever the test did or failed to do.
            foreach (var pid in ClustersWorld.ProcessesUnder(dataDirectory))
            {
                try
                {
                    using var process = System.Diagnostics.Process.GetProcessById(pid);
                    process.Kill();
                    await process.WaitForExitAsync();
                }
                catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
                {
                    // Already gone.
                }
            }
        }
    }

    /// <summary>A new browser context (no cookies) on the server, with a laptop-sized window.</summary>
    public Task<IBrowserContext> NewContextAsync() =>
        Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = Server.Address.ToString(),
            ViewportSize = new ViewportSize { Width = 1366, Height = 850 },
        });

    /// <summary>Saves a full-page screenshot as <c>TestResults/web/{name}.png</c>.</summary>
    public static async Task ScreenshotAsync(IPage page, string name)
    {
        Directory.CreateDirectory(ScreenshotDirectory);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDirectory, name + ".png"), FullPage = true });
    }
}

public sealed class ConsoleFixture : BrowserFixture
{
    /// <summary>Small store pages, so paging is exercised by a few apps.</summary>
    protected override string[] ServerArguments => ["--Web:StorePageSize=6"];
}

/// <summary>Access tokens that live one second: every page load finds its token about to expire and refreshes it.</summary>
public sealed class ShortTokenFixture : BrowserFixture
{
    protected override string[] ServerArguments => ["--Auth:AccessTokenLifetime=00:00:01"];
}

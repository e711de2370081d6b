using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Pitrix.Web.Client;

/// <summary>
/// Where the console reaches the REST API: <see cref="WebOptions.ApiBaseUrl"/>, or else this server's own
/// listening address, read once the server has bound its ports (so a port 0 listener works too).
/// </summary>
public sealed class ApiAddress(IServer server, IOptions<WebOptions> options)
{
    private Uri? _resolved;

    public Uri BaseAddress => _resolved ??= Resolve();

    private Uri Resolve()
    {
        if (options.Value.ApiBaseUrl is { } configured)
        {
            return new Uri(configured.TrimEnd('/') + "/");
        }

        var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        return FromListening(addresses)
            ?? throw new InvalidOperationException(
                $"The web console cannot tell how to reach this server's API (listening on: {string.Join(", ", addresses)}); set Web:ApiBaseUrl.");
    }

    /// <summary>The loopback URL of the first TCP listener, http before https; wildcard hosts become loopback.</summary>
    public static Uri? FromListening(IEnumerable<string> addresses)
    {
        var parsed = addresses.Select(BindingAddress.Parse).Where(a => !a.IsUnixPipe && !a.IsNamedPipe).ToList();
        var chosen = parsed.FirstOrDefault(a => a.Scheme == "http") ?? parsed.FirstOrDefault(a => a.Scheme == "https");
        if (chosen is null)
        {
            return null;
        }

        var host = chosen.Host switch
        {
            "0.0.0.0" or "+" or "*" or "" => "127.0.0.1",
            "[::]" or "::" => "[::1]",
            var h => h,
        };
        return new Uri($"{chosen.Scheme}://{host}:{chosen.Port}/");
    }
}

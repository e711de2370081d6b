using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace Pitrix.Pilot;

/// <summary>Where Pilot listens once started (the actual port when configured with port 0) and the address frontgates are told to dial.</summary>
public sealed class PilotEndpoint(IOptions<PilotOptions> options)
{
    private readonly TaskCompletionSource<IPEndPoint> _bound = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private IPEndPoint? _boundEndPoint;

    /// <summary>The address and port Pilot's listener is bound to; null until it has started.</summary>
    public IPEndPoint? BoundEndPoint => _boundEndPoint;

    /// <summary>The listener as an https URL with the bound port, like <c>https://127.0.0.1:9114</c>; null until it has started.</summary>
    public Uri? ListenAddress => _boundEndPoint is null ? null : new Uri(UrlOf(_boundEndPoint));

    /// <summary>
    /// <see cref="PilotOptions.PublicAddress"/>, or else the listen address with the port bound (waiting
    /// for the listener to start when it was configured with port 0).
    /// </summary>
    public async Task<string> GetPublicAddressAsync(CancellationToken cancellationToken)
    {
        var configured = options.Value;
        if (!string.IsNullOrWhiteSpace(configured.PublicAddress))
        {
            return configured.PublicAddress.TrimEnd('/');
        }

        var listen = configured.ListenEndPoint;
        return UrlOf(listen.Port != 0 ? listen : await _bound.Task.WaitAsync(cancellationToken));
    }

    internal void SetBound(IPEndPoint endPoint)
    {
        _boundEndPoint = endPoint;
        _bound.TrySetResult(endPoint);
    }

    private static string UrlOf(IPEndPoint endPoint) =>
        endPoint.AddressFamily == AddressFamily.InterNetworkV6 ? $"https://[{endPoint.Address}]:{endPoint.Port}" : $"https://{endPoint.Address}:{endPoint.Port}";
}

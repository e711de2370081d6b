using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;

namespace Pitrix.Web.Client;

/// <summary>
/// Tells the API which browser a console call is made for: the browser's address, sealed with the server's
/// Data Protection key ring for one minute, in <c>X-Pitrix-Console-Client</c>. The API (Pitrix.Api's
/// ConsoleClientAddress, same header and purpose) unseals it and rate-limits sign-ins and audits by it,
/// instead of by the console's own loopback address. An API that cannot unseal it (another key ring) ignores it.
/// </summary>
public sealed class ClientAddressHandler(IHttpContextAccessor accessor, IDataProtectionProvider protection) : DelegatingHandler
{
    public const string HeaderName = "X-Pitrix-Console-Client";

    public const string Purpose = "Pitrix.Web.ClientAddress.v1";

    private static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(1);

    private readonly ITimeLimitedDataProtector _protector = protection.CreateProtector(Purpose).ToTimeLimitedDataProtector();

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (accessor.HttpContext?.Connection.RemoteIpAddress is { } address)
        {
            request.Headers.Remove(HeaderName);
            request.Headers.TryAddWithoutValidation(HeaderName, _protector.Protect(address.ToString(), Lifetime));
        }

        return base.SendAsync(request, cancellationToken);
    }
}

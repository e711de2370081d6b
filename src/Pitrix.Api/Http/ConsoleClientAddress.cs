using System.Net;
using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;

namespace Pitrix.Api.Http;

/// <summary>
/// The address of the browser behind a web-console request. The console calls this API over loopback on the
/// user's behalf, so without this every console sign-in would share one login rate limit and every audit
/// record would say 127.0.0.1. The console sends the browser's address in <see cref="HeaderName"/>, sealed
/// with the server's Data Protection key ring under <see cref="Purpose"/> and valid for a minute; the API
/// takes it as the connection's remote address only when it unseals. A plain or forged header is dropped
/// and changes nothing, so no client can choose the address it is limited and audited under.
/// (Pitrix.Web seals with the same header name and purpose; it does not reference this assembly.)
/// </summary>
public sealed class ConsoleClientAddress(RequestDelegate next, IDataProtectionProvider protection)
{
    public const string HeaderName = "X-Pitrix-Console-Client";

    public const string Purpose = "Pitrix.Web.ClientAddress.v1";

    private readonly ITimeLimitedDataProtector _protector = protection.CreateProtector(Purpose).ToTimeLimitedDataProtector();

    public Task InvokeAsync(HttpContext context)
    {
        if (context.Request.Headers.TryGetValue(HeaderName, out var sealedValue))
        {
            context.Request.Headers.Remove(HeaderName);
            if (Unseal(sealedValue.ToString()) is { } address)
            {
                context.Connection.RemoteIpAddress = address;
            }
        }

        return next(context);
    }

    private IPAddress? Unseal(string value)
    {
        try
        {
            return IPAddress.TryParse(_protector.Unprotect(value), out var address) ? address : null;
        }
        catch (Exception ex) when (ex is CryptographicException or FormatException)
        {
            return null;
        }
    }
}

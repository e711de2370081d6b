using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using Pitrix.Core.Hosting;

namespace Pitrix.Api.Security;

/// <summary>The HMAC key access tokens are signed with: configured, or created once in the key directory.</summary>
public sealed class SigningKeyProvider
{
    public SigningKeyProvider(IOptions<AuthOptions> options, DataDirectory dataDirectory)
    {
        byte[] key;
        if (options.Value.SigningKey is { } configured)
        {
            key = Convert.FromBase64String(configured);
        }
        else
        {
            Directory.CreateDirectory(dataDirectory.KeysPath);
            var path = Path.Combine(dataDirectory.KeysPath, "jwt-signing.key");
            if (!File.Exists(path))
            {
                var fresh = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
                var temp = path + ".tmp";
                File.WriteAllText(temp, fresh);
                if (!OperatingSystem.IsWindows())
                {
                    File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                }

                // Another process starting at the same moment may have won; keep whichever landed first.
                try
                {
                    File.Move(temp, path, overwrite: false);
                }
                catch (IOException) when (File.Exists(path))
                {
                    File.Delete(temp);
                }
            }

            key = Convert.FromBase64String(File.ReadAllText(path).Trim());
        }

        Key = new SymmetricSecurityKey(key) { KeyId = Convert.ToHexStringLower(SHA256.HashData(key))[..16] };
    }

    public SymmetricSecurityKey Key { get; }
}

using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Pitrix.Api.Http;
using Pitrix.Core.Identity;

namespace Pitrix.Api.Security;

/// <summary>Hashes and checks passwords with ASP.NET Core Identity's PBKDF2 hasher, and enforces the length rule.</summary>
public sealed class PasswordPolicy(IOptions<AuthOptions> options)
{
    private static readonly User DummyUser = new() { Id = "usr-dummy", Name = "dummy", NormalizedName = "dummy", PasswordHash = "" };
    private readonly PasswordHasher<User> _hasher = new();
    private readonly string _dummyHash = new PasswordHasher<User>().HashPassword(DummyUser, "not-a-password");

    public string Hash(User user, string password) => _hasher.HashPassword(user, password);

    public bool Verify(User? user, string password)
    {
        if (user is null)
        {
            // Spend the same time as for a real account, so timing does not reveal which names exist.
            _hasher.VerifyHashedPassword(DummyUser, _dummyHash, password);
            return false;
        }

        return _hasher.VerifyHashedPassword(user, user.PasswordHash, password) != PasswordVerificationResult.Failed;
    }

    public void Check(FieldErrors errors, string field, string? password)
    {
        if (string.IsNullOrEmpty(password))
        {
            errors.Add(field, "Required.");
        }
        else if (password.Length < options.Value.MinPasswordLength)
        {
            errors.Add(field, $"At least {options.Value.MinPasswordLength} characters.");
        }
        else if (password.Length > 1024)
        {
            errors.Add(field, "At most 1024 characters.");
        }
    }
}

using System.Security.Cryptography;
using System.Text;

namespace TeamsMediaBridge.Bridge;

/// <summary>
/// Checks "Authorization: Bearer &lt;secret&gt;" in constant time. Both sides are hashed first so
/// neither the secret's content nor its length leaks through timing.
/// </summary>
public sealed class SharedSecret
{
    private readonly byte[] _expectedHash;

    public SharedSecret(string secret)
    {
        ArgumentException.ThrowIfNullOrEmpty(secret);
        _expectedHash = SHA256.HashData(Encoding.UTF8.GetBytes(secret));
    }

    public bool IsAuthorized(string? authorizationHeader)
    {
        const string prefix = "Bearer ";
        if (authorizationHeader is null || !authorizationHeader.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
        var presented = SHA256.HashData(Encoding.UTF8.GetBytes(authorizationHeader.AsSpan(prefix.Length).Trim().ToString()));
        return CryptographicOperations.FixedTimeEquals(presented, _expectedHash);
    }
}

namespace Pitrix.Core.Hosting;

/// <summary>The server's data directory: the SQLite file, the key ring and the local runtime's work area.</summary>
public sealed record DataDirectory(string Path)
{
    /// <summary>Data-protection keys and the token signing key. Never stored in the database.</summary>
    public string KeysPath => System.IO.Path.Combine(Path, "keys");
}

namespace Pitrix.Testing;

/// <summary>Finds files of this repository (samples) from the test's output directory.</summary>
public static class RepoFiles
{
    public static string Root { get; } = FindRoot();

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    /// <summary>Reads a directory into the relative-path → bytes shape archives produce.</summary>
    public static Task<IReadOnlyDictionary<string, byte[]>> ReadDirectoryAsync(string directory) =>
        Pitrix.Packages.PackageSource.LoadAsync(directory, CancellationToken.None);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Pitrix.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Pitrix.slnx not found above " + AppContext.BaseDirectory);
    }
}

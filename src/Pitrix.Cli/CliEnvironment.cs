namespace Pitrix.Cli;

/// <summary>
/// Everything the CLI touches outside itself, so tests can run it in-process: standard streams,
/// where its configuration lives, and how it reaches the server.
/// </summary>
public sealed record CliEnvironment(TextReader Input, TextWriter Output, TextWriter Error, string ConfigPath, bool InputIsTerminal)
{
    public Func<HttpMessageHandler>? HandlerFactory { get; init; }

    /// <summary>Whether standard output takes ANSI colors: a terminal, and <c>NO_COLOR</c> unset (no-color.org).</summary>
    public bool Colors { get; init; }

    /// <summary>The clock that paces polling (<c>repo sync --wait</c>).</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    public static CliEnvironment FromProcess()
    {
        var path = Environment.GetEnvironmentVariable("PITRIX_CONFIG");
        if (string.IsNullOrEmpty(path))
        {
            var configHome = Environment.GetEnvironmentVariable("XDG_CONFIG_HOME");
            if (string.IsNullOrEmpty(configHome))
            {
                configHome = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config");
            }

            path = Path.Combine(configHome, "pitrix", "config.json");
        }

        return new CliEnvironment(Console.In, Console.Out, Console.Error, path, !Console.IsInputRedirected)
        {
            Colors = !Console.IsOutputRedirected && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR")),
        };
    }
}

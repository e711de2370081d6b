using Microsoft.Extensions.Configuration;
using Pitrix.Core.Agents;
using Pitrix.Frontgate;

// pitrix-frontgate --bootstrap FILE --data-dir DIR [--config FILE] [--listen-netns PATH]
// Exit codes: 0 stopped, 2 usage, 3 bad bootstrap or configuration, 4 enrollment refused.
string? bootstrapPath = null, dataDirectory = null, configPath = null, listenNamespace = null;
for (var i = 0; i < args.Length; i++)
{
    var value = i + 1 < args.Length ? args[i + 1] : null;
    switch (args[i])
    {
        case "--bootstrap" when value is not null:
            bootstrapPath = value;
            i++;
            break;
        case "--data-dir" when value is not null:
            dataDirectory = value;
            i++;
            break;
        case "--config" when value is not null:
            configPath = value;
            i++;
            break;
        case "--listen-netns" when value is not null:
            listenNamespace = value;
            i++;
            break;
        default:
            return Usage($"unexpected argument '{args[i]}'");
    }
}

if (bootstrapPath is null || dataDirectory is null)
{
    return Usage("--bootstrap and --data-dir are required");
}

var bootstrap = File.Exists(bootstrapPath) ? AgentBootstrap.TryParse(File.ReadAllText(bootstrapPath)) : null;
if (bootstrap is null)
{
    await Console.Error.WriteLineAsync($"pitrix-frontgate: frontgate.bootstrap_invalid: '{bootstrapPath}' is missing or not an agent bootstrap (JSON).");
    return 3;
}

var configuration = new ConfigurationBuilder();
if (configPath is not null)
{
    configuration.AddJsonFile(Path.GetFullPath(configPath), optional: false);
}

// Environment variables override the file, like Frontgate__Metadata__Backend=etcd.
configuration.AddEnvironmentVariables();

using var stopping = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stopping.Cancel();
};

try
{
    await using var host = await FrontgateHost.StartAsync(
        new FrontgateHostSettings { Bootstrap = bootstrap, DataDirectory = dataDirectory, Configuration = configuration.Build(), ListenNetworkNamespace = listenNamespace },
        stopping.Token);
    Console.WriteLine($"pitrix-frontgate {host.Identity} serving drones on {host.DroneAddress}");
    await host.WaitForShutdownAsync(stopping.Token);
    return 0;
}
catch (FrontgateStartupException exception)
{
    await Console.Error.WriteLineAsync($"pitrix-frontgate: {exception.Code}: {exception.Message}");
    return exception.Code == FrontgateStartupException.EnrollmentRefused ? 4 : 3;
}
catch (Microsoft.Extensions.Options.OptionsValidationException exception)
{
    await Console.Error.WriteLineAsync($"pitrix-frontgate: frontgate.config_invalid: {exception.Message}");
    return 3;
}
catch (OperationCanceledException) when (stopping.IsCancellationRequested)
{
    return 0;
}

static int Usage(string problem)
{
    Console.Error.WriteLine($"pitrix-frontgate: {problem}");
    Console.Error.WriteLine("usage: pitrix-frontgate --bootstrap FILE --data-dir DIR [--config FILE] [--listen-netns PATH]");
    return 2;
}

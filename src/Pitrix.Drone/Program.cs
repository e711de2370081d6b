using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Pitrix.Drone.Agent;

var options = DroneCommandLine.TryParse(args, Environment.GetEnvironmentVariable, out var error);
if (options is null)
{
    await Console.Error.WriteLineAsync($"pitrix-drone: {error}");
    return 2;
}

using var loggerFactory = LoggerFactory.Create(logging => logging.AddSimpleConsole(console =>
{
    console.SingleLine = true;
    console.UseUtcTimestamp = true;
    console.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
}));
using var stop = new CancellationTokenSource();
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    stop.Cancel();
});
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, context =>
{
    context.Cancel = true;
    stop.Cancel();
});

await using var drone = new DroneAgent(options, loggerFactory.CreateLogger<DroneAgent>());
await drone.RunAsync(stop.Token);
return 0;

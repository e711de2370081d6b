using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Pitrix.Engine;
using Pitrix.Persistence;

// A bare engine process for tests and benchmarks: the engine worker with the noop task kind, nothing else.
// Settings come as configuration, e.g.
//   dotnet Pitrix.Engine.Worker.dll --Database:Provider=postgres --Database:ConnectionString="Host=…" --Engine:InstanceId=w1
// It prints "ready" once started and stops on SIGTERM or when its standard input closes (so a parent that
// dies does not leave it behind).
var builder = Host.CreateApplicationBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
var database = builder.Configuration.GetSection(DatabaseOptions.SectionName).Get<DatabaseOptions>() ?? new DatabaseOptions();
builder.Services.AddPitrixPersistence(database);
builder.Services.AddEngine(builder.Configuration);
using var host = builder.Build();
await host.StartAsync();
Console.WriteLine("ready");
var stdinClosed = Task.Run(async () =>
{
    using var input = Console.OpenStandardInput();
    var buffer = new byte[64];
    while (await input.ReadAsync(buffer) > 0)
    {
    }
});
var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
await Task.WhenAny(stdinClosed, Task.Delay(Timeout.Infinite, lifetime.ApplicationStopping));
await host.StopAsync();

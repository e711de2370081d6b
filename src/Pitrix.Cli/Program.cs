using Pitrix.Cli;

return await CliApp.RunAsync(args, CliEnvironment.FromProcess());

using Pitrix.Server;

return await PitrixServer.RunAsync(args);

using Pitrix.Providers.Fake;
using Pitrix.Server;

// pitrix-server plus the FAKE cloud (provider "fake", standing in for vmcluster packages): tests only.
return await PitrixServer.RunAsync(args, builder => builder.Services.AddFakeCloud());

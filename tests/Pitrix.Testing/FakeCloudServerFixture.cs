using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Pitrix.Providers.Fake;

namespace Pitrix.Testing;

/// <summary>A server with the FAKE cloud (a labelled test double for a VM cloud) standing in for vmcluster packages.</summary>
public abstract class FakeCloudServerFixture : ServerFixture
{
    protected override Action<WebApplicationBuilder>? Configure => builder =>
    {
        builder.Configuration["Engine:PollInterval"] = "00:00:00.100";
        builder.Services.AddFakeCloud();
    };
}

public sealed class SqliteFakeCloudServerFixture : FakeCloudServerFixture
{
    public override string DatabaseKind => "sqlite";
}

public sealed class PostgresFakeCloudServerFixture : FakeCloudServerFixture
{
    public override string DatabaseKind => "postgres";
}

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Pitrix.Agent;

public static class AgentSecurityServiceCollectionExtensions
{
    /// <summary>
    /// Registers the agent network's PKI: <see cref="AgentPkiOptions"/> (bound from
    /// <see cref="AgentPkiOptions.SectionName"/>, validated on start), the <see cref="CertificateAuthority"/>
    /// loaded or created in its directory, <see cref="JoinTokens"/>, and the in-memory
    /// <see cref="IJoinTokenStore"/> unless another store was registered first. Map
    /// <see cref="EnrollmentService"/> with <c>MapGrpcService</c> on an enrollment listener.
    /// </summary>
    public static IServiceCollection AddAgentSecurity(this IServiceCollection services, Action<AgentPkiOptions>? configure = null)
    {
        var options = services.AddOptions<AgentPkiOptions>().BindConfiguration(AgentPkiOptions.SectionName).ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.AddSingleton<IValidateOptions<AgentPkiOptions>, AgentPkiOptionsValidator>();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IJoinTokenStore, InMemoryJoinTokenStore>();
        services.TryAddSingleton<JoinTokens>();
        services.TryAddSingleton(sp => CertificateAuthority.LoadOrCreate(
            sp.GetRequiredService<IOptions<AgentPkiOptions>>().Value.CaDirectory,
            sp.GetRequiredService<TimeProvider>()));
        services.AddGrpc();
        return services;
    }
}

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pitrix.Agent;
using Pitrix.Core.Agents;
using Pitrix.Core.Hosting;
using Pitrix.Core.Security;

namespace Pitrix.Pilot;

public static class PilotServiceCollectionExtensions
{
    /// <summary>
    /// Registers Pilot: <see cref="PilotOptions"/> (section <see cref="PilotOptions.SectionName"/>, validated
    /// on start), the agent PKI with its CA in <c>&lt;data dir&gt;/pki</c> unless <c>Agent:Pki:CaDirectory</c>
    /// says otherwise and its key encrypted with the host's <see cref="ISecretProtector"/>, join tokens in the
    /// database (<see cref="DbJoinTokenStore"/>), <see cref="IAgentNetwork"/> (<see cref="AgentNetwork"/>),
    /// <see cref="PilotEndpoint"/>, and the hosted listener serving <see cref="PilotService"/> and
    /// <see cref="EnrollmentService"/>. Needs <c>PitrixDbContext</c>, <see cref="DataDirectory"/> and an
    /// <see cref="ISecretProtector"/> from the host.
    /// </summary>
    public static IServiceCollection AddPilot(this IServiceCollection services)
    {
        services.AddOptions<PilotOptions>().BindConfiguration(PilotOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<PilotOptions>, PilotOptionsValidator>();
        services.AddOptions<AgentPkiOptions>().PostConfigure<DataDirectory>((pki, data) =>
        {
            if (string.IsNullOrWhiteSpace(pki.CaDirectory))
            {
                pki.CaDirectory = Path.Combine(data.Path, "pki");
            }
        });
        services.TryAddSingleton(TimeProvider.System);

        // Registered before AddAgentSecurity, whose defaults (an in-memory store, a plaintext key) only fill gaps.
        services.RemoveAll<IJoinTokenStore>();
        services.AddSingleton<IJoinTokenStore, DbJoinTokenStore>();
        services.RemoveAll<CertificateAuthority>();
        services.AddSingleton(sp => CertificateAuthority.LoadOrCreate(
            sp.GetRequiredService<IOptions<AgentPkiOptions>>().Value.CaDirectory,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ISecretProtector>()));
        services.AddAgentSecurity();
        services.TryAddSingleton<EnrollmentService>();

        services.AddSingleton<FrontgateRegistry>();
        services.AddSingleton<CommandResultSignals>();
        services.AddSingleton<PilotStore>();
        services.AddSingleton<PilotEndpoint>();
        services.AddSingleton<EnrollmentRelay>();
        services.AddSingleton<CommandResultWriter>();
        services.AddHostedService(sp => sp.GetRequiredService<CommandResultWriter>());
        services.AddSingleton(sp => new PilotService(
            sp.GetRequiredService<FrontgateRegistry>(),
            sp.GetRequiredService<PilotStore>(),
            sp.GetRequiredService<EnrollmentRelay>(),
            sp.GetRequiredService<CommandResultWriter>(),
            sp.GetRequiredService<IOptions<PilotOptions>>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<PilotService>>()));
        services.AddSingleton(sp => new AgentNetwork(
            sp.GetRequiredService<FrontgateRegistry>(),
            sp.GetRequiredService<PilotStore>(),
            sp.GetRequiredService<CommandResultSignals>(),
            sp.GetRequiredService<JoinTokens>(),
            sp.GetRequiredService<CertificateAuthority>(),
            sp.GetRequiredService<PilotEndpoint>(),
            sp.GetRequiredService<IOptions<PilotOptions>>(),
            sp.GetRequiredService<IOptions<AgentPkiOptions>>(),
            sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<IAgentNetwork>(sp => sp.GetRequiredService<AgentNetwork>());
        services.AddHostedService<PilotHost>();
        return services;
    }
}

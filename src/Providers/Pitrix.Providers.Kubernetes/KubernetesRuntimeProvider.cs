using System.Net;
using System.Net.Http;
using System.Security.Authentication;
using System.Text.RegularExpressions;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Pitrix.Core.Runtimes;

namespace Pitrix.Providers.Kubernetes;

/// <summary>
/// The <c>kubernetes</c> provider: a runtime is one namespace (its zone) of a cluster reached with a kubeconfig
/// credential (self-contained; see <see cref="Kubeconfigs"/>), in the context named by the runtime's
/// <c>kubernetes.context</c> label or the kubeconfig's current one. Validation asks the real API server: is it
/// reachable and which version, does the namespace exist (or may it be created), and — with
/// SelfSubjectAccessReview — may this identity do, in that namespace, what installing and managing a release
/// needs. Each missing permission is named by verb and resource.
/// </summary>
public sealed partial class KubernetesRuntimeProvider : IRuntimeProvider
{
    public const string ProviderName = "kubernetes";

    /// <summary>The runtime label choosing the kubeconfig's context.</summary>
    public const string ContextLabel = "kubernetes.context";

    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(10);

    /// <summary>What a release needs in its namespace: (API group, resource, verbs).</summary>
    public static IReadOnlyList<(string Group, string Resource, string[] Verbs)> ReleasePermissions { get; } =
    [
        ("", "secrets", ["get", "list", "create", "update", "patch", "delete"]),
        ("", "configmaps", ["get", "list", "create", "update", "patch", "delete"]),
        ("", "services", ["get", "list", "create", "update", "patch", "delete"]),
        ("", "serviceaccounts", ["get", "list", "create", "update", "patch", "delete"]),
        ("", "persistentvolumeclaims", ["get", "list", "create", "update", "patch", "delete"]),
        ("", "pods", ["get", "list", "watch"]),
        ("apps", "deployments", ["get", "list", "watch", "create", "update", "patch", "delete"]),
        ("apps", "statefulsets", ["get", "list", "watch", "create", "update", "patch", "delete"]),
        ("apps", "daemonsets", ["get", "list", "watch", "create", "update", "patch", "delete"]),
        ("batch", "jobs", ["get", "list", "watch", "create", "update", "patch", "delete"]),
        ("networking.k8s.io", "ingresses", ["get", "list", "create", "update", "patch", "delete"]),
    ];

    public string Name => ProviderName;

    public string DisplayName => "Kubernetes (a namespace)";

    public bool RequiresCredential => true;

    public string? ValidateZone(string zone) =>
        NamespacePattern().IsMatch(zone)
            ? null
            : "A Kubernetes zone is a namespace: 1-63 lower-case letters, digits or '-', starting and ending with a letter or digit.";

    public async Task<RuntimeValidationReport> ValidateAsync(RuntimeValidationContext context, CancellationToken cancellationToken)
    {
        var checks = new List<RuntimeCheck>();
        if (ValidateZone(context.Zone) is { } zoneError)
        {
            return new RuntimeValidationReport([new RuntimeCheck("zone", false, zoneError)]);
        }

        if (string.IsNullOrWhiteSpace(context.Secret))
        {
            return new RuntimeValidationReport([new RuntimeCheck("kubeconfig", false, "A kubernetes runtime needs a credential holding a kubeconfig.")]);
        }

        KubernetesClientConfiguration configuration;
        try
        {
            configuration = Kubeconfigs.Load(context.Secret, context.Labels.GetValueOrDefault(ContextLabel));
        }
        catch (KubeconfigException e)
        {
            return new RuntimeValidationReport([new RuntimeCheck("kubeconfig", false, $"{e.Code}: {e.Message}")]);
        }

        checks.Add(new RuntimeCheck("kubeconfig", true, configuration.SkipTlsVerify
            ? $"Context '{configuration.CurrentContext}' for {configuration.Host}; TLS verification is OFF (insecure-skip-tls-verify)."
            : $"Context '{configuration.CurrentContext}' for {configuration.Host}."));
        using var client = new k8s.Kubernetes(configuration);

        // Reachable, and which server: every later check needs it.
        try
        {
            var version = await CallAsync(ct => client.Version.GetCodeAsync(ct), cancellationToken);
            checks.Add(new RuntimeCheck("api", true, $"{configuration.Host} answers: Kubernetes {version.GitVersion}."));
        }
        catch (Exception e) when (Unreachable(e) is { } reason)
        {
            checks.Add(new RuntimeCheck("api", false, $"Cannot reach {configuration.Host}: {reason}"));
            return new RuntimeValidationReport(checks);
        }

        checks.Add(await CheckNamespaceAsync(client, context.Zone, cancellationToken));
        checks.Add(await CheckPermissionsAsync(client, context.Zone, cancellationToken));
        return new RuntimeValidationReport(checks);
    }

    private static async Task<RuntimeCheck> CheckNamespaceAsync(k8s.Kubernetes client, string @namespace, CancellationToken cancellationToken)
    {
        try
        {
            var found = await CallAsync(ct => client.CoreV1.ReadNamespaceAsync(@namespace, cancellationToken: ct), cancellationToken);
            return new RuntimeCheck("namespace", true, $"Namespace {@namespace} exists ({found.Status?.Phase ?? "Active"}).");
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            var mayCreate = await AllowedAsync(client, new V1ResourceAttributes { Verb = "create", Resource = "namespaces" }, cancellationToken);
            return mayCreate
                ? new RuntimeCheck("namespace", true, $"Namespace {@namespace} does not exist; it is created at the first install.")
                : new RuntimeCheck("namespace", false, $"Namespace {@namespace} does not exist and this identity may not create namespaces (create namespaces is denied); create it or grant that.");
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Forbidden)
        {
            // May not read namespaces: common for namespace-scoped identities; the permission check tells the rest.
            return new RuntimeCheck("namespace", true, $"Namespace {@namespace} cannot be read by this identity (get namespaces is denied); assumed to exist.");
        }
    }

    private static async Task<RuntimeCheck> CheckPermissionsAsync(k8s.Kubernetes client, string @namespace, CancellationToken cancellationToken)
    {
        var wanted = ReleasePermissions.SelectMany(p => p.Verbs.Select(v => (p.Group, p.Resource, Verb: v))).ToList();
        using var gate = new SemaphoreSlim(8);
        var answers = await Task.WhenAll(wanted.Select(async w =>
        {
            await gate.WaitAsync(cancellationToken);
            try
            {
                return (w, Allowed: await AllowedAsync(client, new V1ResourceAttributes { NamespaceProperty = @namespace, Group = w.Group, Resource = w.Resource, Verb = w.Verb }, cancellationToken));
            }
            finally
            {
                gate.Release();
            }
        }));
        var denied = answers.Where(a => !a.Allowed).Select(a => $"{a.w.Verb} {(a.w.Group.Length == 0 ? a.w.Resource : $"{a.w.Resource}.{a.w.Group}")}").ToList();
        return denied.Count == 0
            ? new RuntimeCheck("permissions", true, $"May manage releases in namespace {@namespace} ({wanted.Count} permissions checked).")
            : new RuntimeCheck("permissions", false, $"In namespace {@namespace} this identity may not: {string.Join(", ", denied)}.");
    }

    private static async Task<bool> AllowedAsync(k8s.Kubernetes client, V1ResourceAttributes attributes, CancellationToken cancellationToken)
    {
        var review = await CallAsync(
            ct => client.AuthorizationV1.CreateSelfSubjectAccessReviewAsync(
                new V1SelfSubjectAccessReview { Spec = new V1SelfSubjectAccessReviewSpec { ResourceAttributes = attributes } }, cancellationToken: ct),
            cancellationToken);
        return review.Status?.Allowed == true;
    }

    private static async Task<T> CallAsync<T>(Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(CallTimeout);
        try
        {
            return await call(timeout.Token);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"no answer within {CallTimeout.TotalSeconds:0} s");
        }
    }

    /// <summary>Why the API server could not be used, for errors that mean so; null for others.</summary>
    private static string? Unreachable(Exception e) => e switch
    {
        TimeoutException timeout => timeout.Message,
        HttpOperationException { Response.StatusCode: HttpStatusCode.Unauthorized } => "the server refused the credential (401 Unauthorized): the certificate or token is not accepted.",
        HttpOperationException http => $"HTTP {(int)http.Response.StatusCode} {http.Response.ReasonPhrase}.",
        HttpRequestException { InnerException: AuthenticationException } => "the TLS handshake failed: the server's certificate is not trusted by the kubeconfig's certificate-authority-data.",
        HttpRequestException request => request.Message,
        AuthenticationException => "the TLS handshake failed.",
        _ => null,
    };

    [GeneratedRegex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")]
    private static partial Regex NamespacePattern();
}

public static class KubernetesProviderServiceCollectionExtensions
{
    /// <summary>Registers the <c>kubernetes</c> runtime provider.</summary>
    public static IServiceCollection AddKubernetesProvider(this IServiceCollection services)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRuntimeProvider, KubernetesRuntimeProvider>());
        return services;
    }
}

using System.Text;
using k8s;
using k8s.KubeConfigModels;

namespace Pitrix.Providers.Kubernetes;

/// <summary>A kubeconfig that cannot be used, with a stable code and a message naming what is wrong (never its secrets).</summary>
public sealed class KubeconfigException(string code, string message) : Exception(message)
{
    /// <summary>Not YAML, or not a kubeconfig, or its context, cluster or user is missing.</summary>
    public const string Invalid = "kubernetes.kubeconfig_invalid";

    /// <summary>It asks the server to read a local file or run a program (exec, auth-provider, file paths).</summary>
    public const string Unsafe = "kubernetes.kubeconfig_unsafe";

    public string Code { get; } = code;
}

/// <summary>
/// Reads a kubeconfig held as a credential. Only self-contained kubeconfigs are accepted: certificates, keys
/// and tokens inline. A kubeconfig that names a file on the server (<c>client-certificate</c>, <c>client-key</c>,
/// <c>certificate-authority</c>, <c>tokenFile</c>) or a program to run (<c>exec</c>, <c>auth-provider</c>) is
/// refused: a user's credential must not make the server read its files or run commands.
/// </summary>
public static class Kubeconfigs
{
    /// <summary>
    /// The client configuration of <paramref name="context"/> (default: the kubeconfig's current context).
    /// Throws <see cref="KubeconfigException"/>.
    /// </summary>
    public static KubernetesClientConfiguration Load(string kubeconfig, string? context)
    {
        K8SConfiguration parsed;
        try
        {
            using var stream = new MemoryStream(Encoding.UTF8.GetBytes(kubeconfig));
            parsed = KubernetesClientConfiguration.LoadKubeConfig(stream);
        }
        catch (Exception e) when (e is YamlDotNet.Core.YamlException or InvalidOperationException or ArgumentException or FormatException)
        {
            // The parser's message may quote the offending line, which may hold a key: only its position is kept.
            var where = e is YamlDotNet.Core.YamlException yaml ? $" (line {yaml.Start.Line}, column {yaml.Start.Column})" : "";
            throw new KubeconfigException(KubeconfigException.Invalid, $"The credential is not a kubeconfig in YAML{where}.");
        }

        if (parsed is null || parsed.Contexts is null || !parsed.Contexts.Any())
        {
            throw new KubeconfigException(KubeconfigException.Invalid, "The kubeconfig has no contexts.");
        }

        var name = string.IsNullOrWhiteSpace(context) ? parsed.CurrentContext : context;
        var chosen = parsed.Contexts.FirstOrDefault(c => c.Name == name)
            ?? throw new KubeconfigException(
                KubeconfigException.Invalid,
                string.IsNullOrWhiteSpace(name)
                    ? "The kubeconfig has no current-context; set the runtime's kubernetes.context label to one of: " + string.Join(", ", parsed.Contexts.Select(c => c.Name))
                    : $"The kubeconfig has no context '{name}'; it has: {string.Join(", ", parsed.Contexts.Select(c => c.Name))}.");
        var cluster = parsed.Clusters?.FirstOrDefault(c => c.Name == chosen.ContextDetails?.Cluster)
            ?? throw new KubeconfigException(KubeconfigException.Invalid, $"Context '{chosen.Name}' names cluster '{chosen.ContextDetails?.Cluster}', which the kubeconfig does not define.");
        var user = parsed.Users?.FirstOrDefault(u => u.Name == chosen.ContextDetails?.User)
            ?? throw new KubeconfigException(KubeconfigException.Invalid, $"Context '{chosen.Name}' names user '{chosen.ContextDetails?.User}', which the kubeconfig does not define.");
        CheckSelfContained(cluster, user);
        if (string.IsNullOrWhiteSpace(cluster.ClusterEndpoint?.Server)
            || !Uri.TryCreate(cluster.ClusterEndpoint.Server, UriKind.Absolute, out var server)
            || server.Scheme != Uri.UriSchemeHttps)
        {
            throw new KubeconfigException(KubeconfigException.Invalid, $"Cluster '{cluster.Name}' has no https server URL.");
        }

        try
        {
            return KubernetesClientConfiguration.BuildConfigFromConfigObject(parsed, chosen.Name);
        }
        catch (Exception e) when (e is k8s.Exceptions.KubeConfigException or FormatException or System.Security.Cryptography.CryptographicException or ArgumentException)
        {
            throw new KubeconfigException(KubeconfigException.Invalid, $"Context '{chosen.Name}' cannot be used: {e.GetType().Name}: certificate, key or server data is malformed.");
        }
    }

    private static void CheckSelfContained(Cluster cluster, User user)
    {
        var credentials = user.UserCredentials;
        var refused = new List<string>();
        if (!string.IsNullOrEmpty(cluster.ClusterEndpoint?.CertificateAuthority))
        {
            refused.Add("certificate-authority (a file; use certificate-authority-data)");
        }

        if (credentials is not null)
        {
            if (!string.IsNullOrEmpty(credentials.ClientCertificate))
            {
                refused.Add("client-certificate (a file; use client-certificate-data)");
            }

            if (!string.IsNullOrEmpty(credentials.ClientKey))
            {
                refused.Add("client-key (a file; use client-key-data)");
            }

            if (credentials.ExternalExecution is not null)
            {
                refused.Add("exec (a program the server would run)");
            }

            if (credentials.AuthProvider is not null)
            {
                refused.Add("auth-provider (a plugin the server would run)");
            }
        }

        if (refused.Count > 0)
        {
            throw new KubeconfigException(
                KubeconfigException.Unsafe,
                $"User '{user.Name}' of the kubeconfig uses {string.Join(", ", refused)}; a credential must carry its certificates, keys and tokens inline.");
        }
    }
}

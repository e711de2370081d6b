using Pitrix.Testing;

namespace Pitrix.Providers.Kubernetes.Tests;

/// <summary>Reading a kubeconfig credential: only self-contained ones, clear codes, no secret in a message.</summary>
public sealed class KubeconfigsTests
{
    private static readonly (string Certificate, string Key) Client = KubeApiServer.ForeignClientCertificate("someone");

    private static string Valid(string server = "https://127.0.0.1:6443") => KubeApiServer.Kubeconfig(server, Client.Certificate, Client.Certificate, Client.Key);

    [Fact]
    public void Load_SelfContainedKubeconfig_GivesItsCurrentContext()
    {
        var configuration = Kubeconfigs.Load(Valid(), null);

        Assert.Equal("test", configuration.CurrentContext);
        Assert.Equal("https://127.0.0.1:6443/", new Uri(configuration.Host).ToString());
    }

    [Fact]
    public void Load_UnknownContext_IsInvalid_ListingTheContexts()
    {
        var error = Assert.Throws<KubeconfigException>(() => Kubeconfigs.Load(Valid(), "prod"));

        Assert.Equal(KubeconfigException.Invalid, error.Code);
        Assert.Contains("no context 'prod'", error.Message, StringComparison.Ordinal);
        Assert.Contains("test", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not: [a kubeconfig")]
    [InlineData("just some text")]
    [InlineData("apiVersion: v1\nkind: Config\n")]
    public void Load_NotAKubeconfig_IsInvalid(string text)
    {
        var error = Assert.Throws<KubeconfigException>(() => Kubeconfigs.Load(text, null));

        Assert.Equal(KubeconfigException.Invalid, error.Code);
    }

    [Fact]
    public void Load_BrokenYaml_NeverQuotesItsContent()
    {
        var secret = "token-SECRET-4711";
        var error = Assert.Throws<KubeconfigException>(() => Kubeconfigs.Load($"users:\n- name: x\n  user:\n    token: {secret}\n   bad: [indent", null));

        Assert.Equal(KubeconfigException.Invalid, error.Code);
        Assert.DoesNotContain(secret, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: /bin/sh\n      args: ['-c', 'touch /tmp/pwned']\n", "exec")]
    [InlineData("    client-certificate: /etc/kubernetes/pki/admin.crt\n    client-key: /etc/kubernetes/pki/admin.key\n", "client-certificate")]
    [InlineData("    auth-provider:\n      name: gcp\n", "auth-provider")]
    public void Load_KubeconfigThatReadsFilesOrRunsPrograms_IsUnsafe(string user, string named)
    {
        var kubeconfig = $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: c
              cluster:
                server: https://127.0.0.1:6443
            users:
            - name: u
              user:
            {user}
            contexts:
            - name: x
              context:
                cluster: c
                user: u
            current-context: x
            """;

        var error = Assert.Throws<KubeconfigException>(() => Kubeconfigs.Load(kubeconfig, null));

        Assert.Equal(KubeconfigException.Unsafe, error.Code);
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists("/tmp/pwned"));
    }

    [Fact]
    public void Load_CertificateAuthorityFile_IsUnsafe()
    {
        var kubeconfig = Valid().Replace("certificate-authority-data:", "certificate-authority: /etc/ssl/ca.pem\n    x-data:", StringComparison.Ordinal);

        var error = Assert.Throws<KubeconfigException>(() => Kubeconfigs.Load(kubeconfig, null));

        Assert.Equal(KubeconfigException.Unsafe, error.Code);
        Assert.Contains("certificate-authority", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_PlainHttpServer_IsInvalid()
    {
        var error = Assert.Throws<KubeconfigException>(() => Kubeconfigs.Load(Valid("http://127.0.0.1:8080"), null));

        Assert.Equal(KubeconfigException.Invalid, error.Code);
        Assert.Contains("https", error.Message, StringComparison.Ordinal);
    }
}

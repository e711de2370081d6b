using System.Net;
using System.Net.Sockets;
using k8s;
using k8s.Models;
using Pitrix.Core.Runtimes;
using Pitrix.Testing;

namespace Pitrix.Providers.Kubernetes.Tests;

/// <summary>Validating kubernetes runtimes against a real kube-apiserver 1.20 with RBAC.</summary>
[Collection(KubernetesGroup.Name)]
public sealed class ValidationTests(KubeApiServer server)
{
    private readonly KubernetesRuntimeProvider _provider = new();

    [Fact]
    public async Task Admin_NewNamespace_PassesEveryCheck_TheNamespaceIsCreatedAtFirstInstall()
    {
        var report = await ValidateAsync(server.AdminKubeconfig, Unique("ns"));

        Assert.True(report.Ok, Describe(report));
        Assert.Equal(["kubeconfig", "api", "namespace", "permissions"], report.Checks.Select(c => c.Name));
        Assert.Contains("v1.20.2", Check(report, "api").Message, StringComparison.Ordinal);
        Assert.Contains("created at the first install", Check(report, "namespace").Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Admin_ExistingNamespace_IsReportedAsExisting()
    {
        var name = Unique("ns");
        using var admin = Client(server.AdminKubeconfig);
        await admin.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = name } });

        var report = await ValidateAsync(server.AdminKubeconfig, name);

        Assert.True(report.Ok, Describe(report));
        Assert.Contains($"Namespace {name} exists", Check(report, "namespace").Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task IdentityWithoutRights_FailsPermissions_NamingEachVerbAndResource()
    {
        // A user who may only read pods and secrets in its namespace.
        var name = Unique("ns");
        var user = Unique("reader");
        using var admin = Client(server.AdminKubeconfig);
        await admin.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = name } });
        await admin.RbacAuthorizationV1.CreateNamespacedRoleAsync(
            new V1Role
            {
                Metadata = new V1ObjectMeta { Name = "reader" },
                Rules = [new V1PolicyRule { ApiGroups = [""], Resources = ["pods", "secrets"], Verbs = ["get", "list", "watch"] }],
            },
            name);
        await admin.RbacAuthorizationV1.CreateNamespacedRoleBindingAsync(
            new V1RoleBinding
            {
                Metadata = new V1ObjectMeta { Name = "reader" },
                RoleRef = new V1RoleRef { ApiGroup = "rbac.authorization.k8s.io", Kind = "Role", Name = "reader" },
                Subjects = [new Rbacv1Subject { Kind = "User", Name = user, ApiGroup = "rbac.authorization.k8s.io" }],
            },
            name);

        var report = await ValidateAsync(server.KubeconfigFor(user), name);

        Assert.False(report.Ok);
        Assert.True(Check(report, "api").Ok, Describe(report));
        var permissions = Check(report, "permissions");
        Assert.False(permissions.Ok);
        Assert.Contains("create deployments.apps", permissions.Message, StringComparison.Ordinal);
        Assert.Contains("create secrets", permissions.Message, StringComparison.Ordinal);
        Assert.Contains("delete jobs.batch", permissions.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("get pods", permissions.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("list secrets", permissions.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task IdentityThatMayReadNamespacesOnly_MissingNamespace_SaysItMayNotCreateIt()
    {
        var user = Unique("viewer");
        using var admin = Client(server.AdminKubeconfig);
        await admin.RbacAuthorizationV1.CreateClusterRoleAsync(new V1ClusterRole
        {
            Metadata = new V1ObjectMeta { Name = user },
            Rules = [new V1PolicyRule { ApiGroups = [""], Resources = ["namespaces"], Verbs = ["get"] }],
        });
        await admin.RbacAuthorizationV1.CreateClusterRoleBindingAsync(new V1ClusterRoleBinding
        {
            Metadata = new V1ObjectMeta { Name = user },
            RoleRef = new V1RoleRef { ApiGroup = "rbac.authorization.k8s.io", Kind = "ClusterRole", Name = user },
            Subjects = [new Rbacv1Subject { Kind = "User", Name = user, ApiGroup = "rbac.authorization.k8s.io" }],
        });

        var report = await ValidateAsync(server.KubeconfigFor(user), Unique("ns"));

        var check = Check(report, "namespace");
        Assert.False(check.Ok);
        Assert.Contains("does not exist", check.Message, StringComparison.Ordinal);
        Assert.Contains("create namespaces is denied", check.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task IdentityWithNoRightsAtAll_FailsValidation_SayingItCannotReadTheNamespace()
    {
        var report = await ValidateAsync(server.KubeconfigFor(Unique("nobody")), Unique("ns"));

        Assert.False(report.Ok);
        Assert.Contains("get namespaces is denied", Check(report, "namespace").Message, StringComparison.Ordinal);
        Assert.Contains("create deployments.apps", Check(report, "permissions").Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CertificateFromAnotherCa_IsRefusedByTheServer()
    {
        var (certificate, key) = KubeApiServer.ForeignClientCertificate("intruder");

        var report = await ValidateAsync(KubeApiServer.Kubeconfig(server.Url, server.CaPem, certificate, key), "default");

        var api = Check(report, "api");
        Assert.False(api.Ok);
        Assert.Contains("401", api.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServerNotTrustedByTheKubeconfig_FailsTheTlsHandshake()
    {
        var (foreignCa, _) = KubeApiServer.ForeignClientCertificate("another-ca");
        var admin = server.AdminKubeconfig;
        var kubeconfig = admin.Replace(
            admin.Split('\n').Single(l => l.Contains("certificate-authority-data:", StringComparison.Ordinal)),
            "    certificate-authority-data: " + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(foreignCa)),
            StringComparison.Ordinal);

        var report = await ValidateAsync(kubeconfig, "default");

        var api = Check(report, "api");
        Assert.False(api.Ok);
        Assert.Contains("TLS", api.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeadEndpoint_FailsReachability_Quickly()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var kubeconfig = server.AdminKubeconfig.Replace(server.Url, $"https://127.0.0.1:{port}", StringComparison.Ordinal);

        var report = await ValidateAsync(kubeconfig, "default");

        var api = Check(report, "api");
        Assert.False(api.Ok);
        Assert.Contains($"Cannot reach https://127.0.0.1:{port}", api.Message, StringComparison.Ordinal);
        Assert.Equal(["kubeconfig", "api"], report.Checks.Select(c => c.Name));
    }

    [Theory]
    [InlineData("Bad_Name")]
    [InlineData("-leading")]
    [InlineData("")]
    public async Task ZoneThatIsNoNamespaceName_FailsBeforeAnyCall(string zone)
    {
        Assert.NotNull(_provider.ValidateZone(zone));
        var report = await ValidateAsync(server.AdminKubeconfig, zone);
        Assert.Equal("zone", Assert.Single(report.Checks).Name);
    }

    [Fact]
    public async Task ContextLabel_ChoosesTheContext_AnUnknownOneFailsTheKubeconfigCheck()
    {
        var context = new RuntimeValidationContext("rt-1", "default", new Dictionary<string, string> { [KubernetesRuntimeProvider.ContextLabel] = "staging" }, null, server.AdminKubeconfig);

        var report = await _provider.ValidateAsync(context, CancellationToken.None);

        var check = Assert.Single(report.Checks);
        Assert.Equal("kubeconfig", check.Name);
        Assert.Contains("no context 'staging'", check.Message, StringComparison.Ordinal);
    }

    private Task<RuntimeValidationReport> ValidateAsync(string kubeconfig, string zone) =>
        _provider.ValidateAsync(new RuntimeValidationContext("rt-1", zone, new Dictionary<string, string>(), null, kubeconfig), CancellationToken.None);

    private static k8s.Kubernetes Client(string kubeconfig) => new(Kubeconfigs.Load(kubeconfig, null));

    private static RuntimeCheck Check(RuntimeValidationReport report, string name) =>
        report.Checks.SingleOrDefault(c => c.Name == name) ?? throw new Xunit.Sdk.XunitException($"no '{name}' check: {Describe(report)}");

    private static string Describe(RuntimeValidationReport report) => string.Join(" | ", report.Checks.Select(c => $"{c.Name}={c.Ok}: {c.Message}"));

    private static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 11)];
}

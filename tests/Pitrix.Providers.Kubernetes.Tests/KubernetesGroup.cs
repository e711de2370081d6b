using Pitrix.Testing;

namespace Pitrix.Providers.Kubernetes.Tests;

/// <summary>The tests share one real API server (starting one takes seconds) and use namespaces of their own.</summary>
[CollectionDefinition(Name)]
public sealed class KubernetesGroup : ICollectionFixture<KubeApiServer>
{
    public const string Name = "kube-apiserver";
}

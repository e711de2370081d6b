using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Pitrix.Web.Session;

namespace Pitrix.Web.Client;

/// <summary>Clusters, their jobs, plans and actions, and the event stream that reports their changes.</summary>
public sealed partial class PitrixApi
{
    public Task<PageOf<ClusterInfo>> ListClustersAsync(ClusterQuery query, CancellationToken cancellationToken) =>
        GetAsync<PageOf<ClusterInfo>>("api/v1/clusters" + Query(
            ("q", query.Q), ("status", query.Status), ("app_id", query.AppId), ("runtime_id", query.RuntimeId), ("sort", "-created_at"),
            ("limit", query.Limit.ToString(CultureInfo.InvariantCulture)), ("offset", query.Offset.ToString(CultureInfo.InvariantCulture))), cancellationToken);

    public Task<ClusterDetail> GetClusterAsync(string id, CancellationToken cancellationToken) =>
        GetAsync<ClusterDetail>("api/v1/clusters/" + Uri.EscapeDataString(id), cancellationToken);

    public Task<ClusterValuesInfo> GetClusterValuesAsync(string id, CancellationToken cancellationToken) =>
        GetAsync<ClusterValuesInfo>($"api/v1/clusters/{Uri.EscapeDataString(id)}/values", cancellationToken);

    /// <summary>A cluster's jobs, newest first.</summary>
    public Task<PageOf<JobInfo>> ListClusterJobsAsync(string id, int limit, CancellationToken cancellationToken) =>
        GetAsync<PageOf<JobInfo>>($"api/v1/clusters/{Uri.EscapeDataString(id)}/jobs?limit={limit.ToString(CultureInfo.InvariantCulture)}", cancellationToken);

    public Task<RuntimeInfo> GetRuntimeAsync(string id, CancellationToken cancellationToken) =>
        GetAsync<RuntimeInfo>("api/v1/runtimes/" + Uri.EscapeDataString(id), cancellationToken);

    public Task<JobDetail> GetJobAsync(string id, CancellationToken cancellationToken) =>
        GetAsync<JobDetail>("api/v1/jobs/" + Uri.EscapeDataString(id), cancellationToken);

    /// <summary>The runtimes the caller can see (for names and the list's filter).</summary>
    public Task<PageOf<RuntimeInfo>> ListRuntimesAsync(CancellationToken cancellationToken) =>
        GetAsync<PageOf<RuntimeInfo>>("api/v1/runtimes?limit=200", cancellationToken);

    /// <summary>
    /// What <paramref name="action"/> (a route action name: <c>scale_out</c>, <c>update_config</c>…) would run, without
    /// running it; <paramref name="body"/> holds the action's fields (<c>roles</c>, <c>values</c>…).
    /// </summary>
    public Task<PlanInfo> PlanClusterActionAsync(string clusterId, string action, JsonObject body, CancellationToken cancellationToken)
    {
        var withAction = (JsonObject)body.DeepClone();
        withAction["action"] = action;
        return SendAsync<PlanInfo>(HttpMethod.Post, $"api/v1/clusters/{Uri.EscapeDataString(clusterId)}:plan", withAction, authenticate: true, cancellationToken);
    }

    /// <summary>Runs a cluster action; the answer is the job that carries it out.</summary>
    public Task<JobInfo> RunClusterActionAsync(string clusterId, string action, JsonObject body, CancellationToken cancellationToken) =>
        SendAsync<JobInfo>(HttpMethod.Post, $"api/v1/clusters/{Uri.EscapeDataString(clusterId)}:{Uri.EscapeDataString(action)}", body, authenticate: true, cancellationToken);

    /// <summary>
    /// Opens the cluster's event stream (<c>GET /api/v1/events?cluster=ID</c>), resuming after
    /// <paramref name="lastEventId"/> when given. Only the response headers are awaited: the caller reads the
    /// events as they arrive, beyond the client's timeout, and disposes the stream to end it. An access token
    /// about to expire, or refused as expired, is refreshed as for any call; a sign-in the API no longer accepts
    /// throws <see cref="SignInRequiredException"/>, any other refusal an <see cref="ApiException"/>.
    /// </summary>
    public async Task<ClusterEventFeed> OpenClusterEventsAsync(string clusterId, string? lastEventId, CancellationToken cancellationToken)
    {
        var path = "api/v1/events?cluster=" + Uri.EscapeDataString(clusterId);
        var response = await SendCheckedAsync(HttpMethod.Get, path, null, authenticate: true, cancellationToken, new StreamRequest("text/event-stream", lastEventId));
        try
        {
            if (response.Content.Headers.ContentType?.MediaType != "text/event-stream")
            {
                throw new ApiException((int)response.StatusCode, "web.not_an_event_stream", "Not an event stream", $"The API answered {path} with {response.Content.Headers.ContentType?.MediaType ?? "no content type"}, not text/event-stream.", null);
            }

            return new ClusterEventFeed(response, await response.Content.ReadAsStreamAsync(cancellationToken), lastEventId);
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }
}

/// <summary>An open event stream of one cluster; disposing it closes the connection.</summary>
public sealed class ClusterEventFeed(HttpResponseMessage response, Stream body, string? lastEventId) : IAsyncDisposable
{
    /// <summary>The id of the last event read, to resume after with <c>Last-Event-ID</c>.</summary>
    public string? LastEventId { get; private set; } = lastEventId;

    /// <summary>The events as they arrive, until the server ends the stream (the enumeration ends) or the connection fails (it throws).</summary>
    public async IAsyncEnumerable<ClusterEvent> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var item in SseParser.Create(body).EnumerateAsync(cancellationToken))
        {
            LastEventId = item.EventId ?? LastEventId;
            if (ClusterEvents.Parse(item.EventType, item.Data) is { } parsed)
            {
                yield return parsed;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await body.DisposeAsync();
        response.Dispose();
    }
}

/// <summary>Reads the API's event payloads (<c>{"seq":…,"type":…,"cluster_id":…,"job_id":…,"task_id":…}</c>).</summary>
public static class ClusterEvents
{
    /// <summary>The event, or null when its data is not a JSON object (a comment or a malformed line is skipped).</summary>
    public static ClusterEvent? Parse(string eventType, string data)
    {
        try
        {
            if (JsonNode.Parse(data) is not JsonObject payload)
            {
                return null;
            }

            var seq = payload["seq"] is JsonValue s && s.TryGetValue<long>(out var n) ? n : 0;
            var type = payload["type"] is JsonValue t && t.TryGetValue<string>(out var named) ? named : eventType;
            return new ClusterEvent(seq, type, Text(payload["cluster_id"]), Text(payload["job_id"]), Text(payload["task_id"]));
        }
        catch (JsonException)
        {
            return null;
        }

        static string? Text(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var text) ? text : null;
    }
}

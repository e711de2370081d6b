using System.Security.Cryptography;
using System.Text;
using Google.Protobuf;
using ProtoCommandResult = Pitrix.Agent.Protocol.V1.CommandResult;
using RunCommandRequest = Pitrix.Agent.Protocol.V1.RunCommandRequest;

namespace Pitrix.Drone.Agent;

/// <summary>
/// The drone's durable hand-offs, one file per task (mode 0600) under the data directory: commands accepted but not
/// finished (<c>accepted/</c>, re-queued after a restart) and results not yet delivered to the frontgate
/// (<c>outbox/</c>, re-sent after every reconnect).
/// </summary>
internal sealed class ReportOutbox
{
    private readonly string _accepted;
    private readonly string _outbox;

    public ReportOutbox(string dataDirectory)
    {
        _accepted = Path.Combine(dataDirectory, "accepted");
        _outbox = Path.Combine(dataDirectory, "outbox");
        DroneFiles.CreatePrivateDirectory(_accepted);
        DroneFiles.CreatePrivateDirectory(_outbox);
    }

    public void Accept(RunCommandRequest request) => DroneFiles.WriteAtomically(FileFor(_accepted, request.TaskId), request.ToByteArray());

    /// <summary>Records the result to deliver, then forgets the accepted command it finishes.</summary>
    public void AddResult(ProtoCommandResult result)
    {
        DroneFiles.WriteAtomically(FileFor(_outbox, result.TaskId), result.ToByteArray());
        File.Delete(FileFor(_accepted, result.TaskId));
    }

    /// <summary>Forgets a delivered result, unless a newer one for the same task replaced it meanwhile.</summary>
    public void Delivered(ProtoCommandResult result)
    {
        var path = FileFor(_outbox, result.TaskId);
        try
        {
            if (File.Exists(path) && ProtoCommandResult.Parser.ParseFrom(File.ReadAllBytes(path)).Equals(result))
            {
                File.Delete(path);
            }
        }
        catch (InvalidProtocolBufferException)
        {
            File.Delete(path);
        }
    }

    public IReadOnlyList<RunCommandRequest> PendingCommands() => ReadAll(_accepted, RunCommandRequest.Parser);

    public IReadOnlyList<ProtoCommandResult> UndeliveredResults() => ReadAll(_outbox, ProtoCommandResult.Parser);

    private static List<T> ReadAll<T>(string directory, MessageParser<T> parser)
        where T : IMessage<T>
    {
        var items = new List<T>();
        foreach (var file in new DirectoryInfo(directory).GetFiles("*.pb").OrderBy(f => f.LastWriteTimeUtc))
        {
            try
            {
                items.Add(parser.ParseFrom(File.ReadAllBytes(file.FullName)));
            }
            catch (InvalidProtocolBufferException)
            {
                // A torn file cannot come from the atomic writes; one damaged by hand is dropped rather than retried forever.
                file.Delete();
            }
        }

        return items;
    }

    private static string FileFor(string directory, string taskId) =>
        Path.Combine(directory, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(taskId))) + ".pb");
}

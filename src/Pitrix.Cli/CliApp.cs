using System.CommandLine;
using System.Text.Json.Nodes;

namespace Pitrix.Cli;

/// <summary>The <c>pitrix</c> command tree. Every command is a thin call of the REST API.</summary>
public sealed partial class CliApp
{
    private static readonly string[] RuntimeColumns = ["id", "name", "provider", "zone", "visibility", "labels"];
    private static readonly string[] CredentialColumns = ["id", "name", "provider", "endpoint_url", "visibility"];
    private static readonly string[] UserColumns = ["id", "name", "roles", "group_ids", "disabled"];
    private static readonly string[] GroupColumns = ["id", "name", "parent_id", "description"];
    private static readonly string[] TokenColumns = ["id", "name", "prefix", "expires_at", "last_used_at", "revoked_at"];
    private static readonly string[] AuditColumns = ["at", "user_name", "action", "resource_id", "status_code", "error_code"];

    private readonly Option<string> _outputOption = new("--output", "-o")
    {
        Description = "Output format: table, json or yaml",
        DefaultValueFactory = _ => "table",
        Recursive = true,
    };

    private readonly Option<int?> _limitOption = new("--limit") { Description = "Items per page (1-200, default 20)" };
    private readonly Option<int?> _offsetOption = new("--offset") { Description = "Items to skip" };
    private readonly Option<string?> _queryOption = new("--query", "-q") { Description = "Free-text search" };
    private readonly Option<string?> _sortOption = new("--sort") { Description = "Sort field, '-' prefix for descending" };

    private CliApp()
    {
    }

    public static Task<int> RunAsync(string[] args, CliEnvironment env, CancellationToken cancellationToken = default) =>
        new CliApp().RunCoreAsync(args, env, cancellationToken);

    private async Task<int> RunCoreAsync(string[] args, CliEnvironment env, CancellationToken cancellationToken)
    {
        _outputOption.AcceptOnlyFromAmong("table", "json", "yaml");
        var root = new RootCommand("pitrix — the Pitrix command line. Sign in with `pitrix login`, then manage users, runtimes, repos, apps, clusters and more.");
        root.Options.Add(_outputOption);
        root.Subcommands.Add(LoginCommand(env));
        root.Subcommands.Add(LogoutCommand(env));
        root.Subcommands.Add(Api(env, new Command("whoami", "Show the signed-in user"), (_, api, ct) => Columns(api.GetAsync("api/v1/me", ct))));
        root.Subcommands.Add(PasswdCommand(env));
        root.Subcommands.Add(TokenCommands(env));
        root.Subcommands.Add(UserCommands(env));
        root.Subcommands.Add(GroupCommands(env));
        root.Subcommands.Add(CredentialCommands(env));
        root.Subcommands.Add(RuntimeCommands(env));
        root.Subcommands.Add(AuditCommand(env));
        root.Subcommands.Add(PackageCommands.Package(env));
        root.Subcommands.Add(PackageCommands.Lint(env));
        root.Subcommands.Add(PackageCommands.Render(env));
        root.Subcommands.Add(RepoCommands(env));
        root.Subcommands.Add(AppCommands(env));
        root.Subcommands.Add(VersionCommands(env));
        root.Subcommands.Add(CategoryCommands(env));
        root.Subcommands.Add(ClusterCommands(env));
        root.Subcommands.Add(JobCommands(env));

        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                await env.Error.WriteLineAsync("Error: " + error.Message);
            }

            await env.Error.WriteLineAsync("Run `pitrix --help` for usage.");
            return ExitCodes.Usage;
        }

        return await parse.InvokeAsync(new InvocationConfiguration { Output = env.Output, Error = env.Error }, cancellationToken);
    }

    private delegate Task<(JsonNode? Result, string[] Columns)> ApiAction(ParseResult parse, ApiClient api, CancellationToken cancellationToken);

    /// <summary>A command body that prints its own results and chooses its exit code.</summary>
    private delegate Task<int> ApiRun(ParseResult parse, ApiClient api, Output output, CancellationToken cancellationToken);

    /// <summary>Wires a command to an API call: builds the client from the saved config, prints the result or the problem.</summary>
    private Command Api(CliEnvironment env, Command command, ApiAction action, bool signedIn = true) =>
        Api(env, command, async (parse, api, output, cancellationToken) =>
        {
            var (result, columns) = await action(parse, api, cancellationToken);
            if (result is not null)
            {
                output.Write(result, columns);
            }

            return ExitCodes.Ok;
        }, signedIn);

    private Command Api(CliEnvironment env, Command command, ApiRun run, bool signedIn = true)
    {
        command.SetAction(async (parse, cancellationToken) =>
        {
            var format = parse.GetValue(_outputOption) ?? "table";
            try
            {
                using var api = signedIn ? new ApiClient(CliConfig.Load(env.ConfigPath), env.ConfigPath, env.HandlerFactory?.Invoke()) : null;
                return await run(parse, api!, new Output(env.Output, format), cancellationToken);
            }
            catch (ApiException ex)
            {
                Output.WriteError(env.Error, format, ex);
                return ex.Status == 0 ? (ex.Code == "cli.not_logged_in" ? ExitCodes.Unauthenticated : ExitCodes.Unavailable) : ExitCodes.FromStatus(ex.Status);
            }
            catch (CliInputException ex)
            {
                await env.Error.WriteLineAsync("Error: " + ex.Message);
                return ex.ExitCode;
            }
            catch (Pitrix.Packages.PackageException ex)
            {
                await env.Error.WriteLineAsync($"Error: {ex.Message} [{ex.Code}]");
                return ExitCodes.Invalid;
            }
        });
        return command;
    }

    private static async Task<(JsonNode?, string[])> Columns(Task<JsonNode?> call, params string[] columns) => (await call, columns);

    private static async Task<(JsonNode?, string[])> Done(Task<JsonNode?> call, CliEnvironment env, string message)
    {
        await call;
        await env.Error.WriteLineAsync(message);
        return (null, []);
    }

    private Command LoginCommand(CliEnvironment env)
    {
        var server = new Option<string>("--server", "-s") { Description = "Server URL, for example http://127.0.0.1:9100", Required = true };
        var username = new Option<string?>("--username", "-u") { Description = "User name (password sign-in)" };
        var passwordStdin = new Option<bool>("--password-stdin") { Description = "Read the password from standard input" };
        var token = new Option<string?>("--token") { Description = "A personal API token (pxt_...) instead of a password" };
        var command = new Command("login", "Sign in and save the server and tokens to ~/.config/pitrix/config.json (mode 0600)") { server, username, passwordStdin, token };
        return Api(env, command, async (parse, _, ct) =>
        {
            var config = new CliConfig { Server = parse.GetValue(server)!.TrimEnd('/') };
            if (parse.GetValue(token) is { } apiToken)
            {
                config.ApiToken = apiToken;
                using var api = new ApiClient(config, env.ConfigPath, env.HandlerFactory?.Invoke());
                var me = await api.GetAsync("api/v1/me", ct);
                config.User = (string?)me?["name"];
            }
            else
            {
                var user = parse.GetValue(username) ?? Prompt(env, "User name: ", secret: false);
                var password = parse.GetValue(passwordStdin) ? (await env.Input.ReadLineAsync(ct) ?? "") : Prompt(env, "Password: ", secret: true);
                using var api = new ApiClient(config, env.ConfigPath, env.HandlerFactory?.Invoke());
                var tokens = await api.SendAsync(HttpMethod.Post, "api/v1/auth/login", new { username = user, password }, ct, authenticate: false);
                config.AccessToken = (string?)tokens!["access_token"];
                config.RefreshToken = (string?)tokens["refresh_token"];
                config.User = (string?)tokens["user"]?["name"];
            }

            config.Save(env.ConfigPath);
            await env.Error.WriteLineAsync($"Signed in to {config.Server} as {config.User}.");
            return (null, []);
        }, signedIn: false);
    }

    private static Command LogoutCommand(CliEnvironment env)
    {
        var command = new Command("logout", "End the sign-in on the server and forget the saved tokens");
        command.SetAction(async (parse, ct) =>
        {
            var config = CliConfig.Load(env.ConfigPath);
            if (config.Server is not null && config.AccessToken is not null)
            {
                try
                {
                    using var api = new ApiClient(config, env.ConfigPath, env.HandlerFactory?.Invoke());
                    await api.PostAsync("api/v1/auth/logout", null, ct);
                }
                catch (ApiException)
                {
                    // Signing out locally still succeeds when the server is gone or the sign-in already ended.
                }
            }

            config.AccessToken = config.RefreshToken = config.ApiToken = null;
            config.Save(env.ConfigPath);
            await env.Error.WriteLineAsync("Signed out.");
            return ExitCodes.Ok;
        });
        return command;
    }

    private Command PasswdCommand(CliEnvironment env)
    {
        var stdin = new Option<bool>("--stdin") { Description = "Read the current and the new password as two lines of standard input" };
        var command = new Command("passwd", "Change your password (ends your other sign-ins)") { stdin };
        return Api(env, command, async (parse, api, ct) =>
        {
            var fromStdin = parse.GetValue(stdin);
            var current = fromStdin ? await env.Input.ReadLineAsync(ct) ?? "" : Prompt(env, "Current password: ", secret: true);
            var next = fromStdin ? await env.Input.ReadLineAsync(ct) ?? "" : Prompt(env, "New password: ", secret: true);
            return await Done(api.PutAsync("api/v1/me/password", new { current_password = current, new_password = next }, ct), env, "Password changed.");
        });
    }

    private Command TokenCommands(CliEnvironment env)
    {
        var token = new Command("token", "Personal API tokens for scripts and CI");
        var name = new Argument<string>("name") { Description = "Token name" };
        var days = new Option<int?>("--expires-in-days") { Description = "Expire after this many days (default: never)" };
        token.Subcommands.Add(Api(env, new Command("create", "Create a token; it is shown only once") { name, days }, (p, api, ct) =>
            Columns(api.PostAsync("api/v1/me/tokens", new { name = p.GetValue(name), expires_in_days = p.GetValue(days) }, ct))));
        token.Subcommands.Add(Api(env, new Command("list", "List your tokens"), (_, api, ct) => Columns(api.GetAsync("api/v1/me/tokens", ct), TokenColumns)));
        var id = new Argument<string>("id") { Description = "Token id" };
        token.Subcommands.Add(Api(env, new Command("revoke", "Revoke a token") { id }, (p, api, ct) =>
            Done(api.DeleteAsync($"api/v1/me/tokens/{Esc(p.GetValue(id))}", ct), env, "Token revoked.")));
        return token;
    }

    private Command UserCommands(CliEnvironment env)
    {
        var user = new Command("user", "Manage users (admin)");
        var id = new Argument<string>("id") { Description = "User id" };
        var role = new Option<string?>("--role") { Description = "Only users with this role" };
        user.Subcommands.Add(Api(env, WithPaging(new Command("list", "List users") { role }), (p, api, ct) =>
            Columns(api.GetAsync("api/v1/users" + PageQuery(p, ("role", p.GetValue(role))), ct), UserColumns)));
        user.Subcommands.Add(Api(env, new Command("get", "Show a user") { id }, (p, api, ct) => Columns(api.GetAsync($"api/v1/users/{Esc(p.GetValue(id))}", ct))));

        var name = new Argument<string>("name") { Description = "User name" };
        var passwordStdin = new Option<bool>("--password-stdin") { Description = "Read the password from standard input" };
        var roles = new Option<string[]>("--role") { Description = "Role (admin, isv, developer, user); repeatable", AllowMultipleArgumentsPerToken = false };
        var groups = new Option<string[]>("--group") { Description = "Group id to join; repeatable" };
        var email = new Option<string?>("--email");
        var displayName = new Option<string?>("--display-name");
        user.Subcommands.Add(Api(env, new Command("create", "Create a user") { name, passwordStdin, roles, groups, email, displayName }, async (p, api, ct) =>
        {
            var password = p.GetValue(passwordStdin) ? await env.Input.ReadLineAsync(ct) ?? "" : Prompt(env, "Password for the new user: ", secret: true);
            var roleList = p.GetValue(roles) is { Length: > 0 } r ? r : null;
            return await Columns(api.PostAsync("api/v1/users", new { name = p.GetValue(name), password, roles = roleList, group_ids = p.GetValue(groups), email = p.GetValue(email), display_name = p.GetValue(displayName) }, ct));
        }));

        var disable = new Option<bool>("--disable") { Description = "Disable the account (ends its sign-ins)" };
        var enable = new Option<bool>("--enable") { Description = "Enable the account" };
        var resetPassword = new Option<bool>("--password-stdin") { Description = "Set a new password read from standard input" };
        var updateEmail = new Option<string?>("--email");
        var updateDisplayName = new Option<string?>("--display-name");
        user.Subcommands.Add(Api(env, new Command("update", "Change a user") { id, disable, enable, resetPassword, updateEmail, updateDisplayName }, async (p, api, ct) =>
        {
            bool? disabled = p.GetValue(disable) ? true : p.GetValue(enable) ? false : null;
            var password = p.GetValue(resetPassword) ? await env.Input.ReadLineAsync(ct) : null;
            return await Columns(api.PatchAsync($"api/v1/users/{Esc(p.GetValue(id))}", new { disabled, password, email = p.GetValue(updateEmail), display_name = p.GetValue(updateDisplayName) }, ct));
        }));
        var roleArgs = new Argument<string[]>("roles") { Description = "The complete set of roles", Arity = ArgumentArity.ZeroOrMore };
        user.Subcommands.Add(Api(env, new Command("set-roles", "Replace a user's roles") { id, roleArgs }, (p, api, ct) =>
            Columns(api.PutAsync($"api/v1/users/{Esc(p.GetValue(id))}/roles", new { roles = p.GetValue(roleArgs) ?? [] }, ct))));
        user.Subcommands.Add(Api(env, new Command("delete", "Delete a user") { id }, (p, api, ct) =>
            Done(api.DeleteAsync($"api/v1/users/{Esc(p.GetValue(id))}", ct), env, "User deleted.")));
        return user;
    }

    private Command GroupCommands(CliEnvironment env)
    {
        var group = new Command("group", "Manage the organization tree (admin)");
        var id = new Argument<string>("id") { Description = "Group id" };
        group.Subcommands.Add(Api(env, WithPaging(new Command("list", "List groups")), (p, api, ct) => Columns(api.GetAsync("api/v1/groups" + PageQuery(p), ct), GroupColumns)));
        group.Subcommands.Add(Api(env, new Command("get", "Show a group and its members") { id }, (p, api, ct) => Columns(api.GetAsync($"api/v1/groups/{Esc(p.GetValue(id))}", ct))));
        var name = new Argument<string>("name") { Description = "Group name" };
        var parent = new Option<string?>("--parent") { Description = "Parent group id" };
        var description = new Option<string?>("--description");
        group.Subcommands.Add(Api(env, new Command("create", "Create a group") { name, parent, description }, (p, api, ct) =>
            Columns(api.PostAsync("api/v1/groups", new { name = p.GetValue(name), parent_id = p.GetValue(parent), description = p.GetValue(description) }, ct))));
        group.Subcommands.Add(Api(env, new Command("delete", "Delete a group") { id }, (p, api, ct) =>
            Done(api.DeleteAsync($"api/v1/groups/{Esc(p.GetValue(id))}", ct), env, "Group deleted.")));
        var userId = new Argument<string>("user-id") { Description = "User id" };
        group.Subcommands.Add(Api(env, new Command("add-member", "Add a user to a group") { id, userId }, (p, api, ct) =>
            Done(api.PutAsync($"api/v1/groups/{Esc(p.GetValue(id))}/members/{Esc(p.GetValue(userId))}", null, ct), env, "Member added.")));
        group.Subcommands.Add(Api(env, new Command("remove-member", "Remove a user from a group") { id, userId }, (p, api, ct) =>
            Done(api.DeleteAsync($"api/v1/groups/{Esc(p.GetValue(id))}/members/{Esc(p.GetValue(userId))}", ct), env, "Member removed.")));
        return group;
    }

    private Command CredentialCommands(CliEnvironment env)
    {
        var credential = new Command("credential", "Manage runtime credentials (secrets are write-only)");
        var id = new Argument<string>("id") { Description = "Credential id" };
        var provider = new Option<string?>("--provider") { Description = "Provider name" };
        credential.Subcommands.Add(Api(env, WithPaging(new Command("list", "List credentials you can see") { provider }), (p, api, ct) =>
            Columns(api.GetAsync("api/v1/credentials" + PageQuery(p, ("provider", p.GetValue(provider))), ct), CredentialColumns)));
        credential.Subcommands.Add(Api(env, new Command("get", "Show a credential (never its secret)") { id }, (p, api, ct) => Columns(api.GetAsync($"api/v1/credentials/{Esc(p.GetValue(id))}", ct))));

        var name = new Argument<string>("name") { Description = "Credential name" };
        var requiredProvider = new Option<string>("--provider") { Description = "Provider name", Required = true };
        var endpoint = new Option<string?>("--endpoint") { Description = "Provider endpoint URL" };
        var secretFile = new Option<FileInfo?>("--secret-file") { Description = "Read the secret (keys, kubeconfig) from a file" };
        var secretStdin = new Option<bool>("--secret-stdin") { Description = "Read the secret from standard input" };
        var visibility = new Option<string?>("--visibility") { Description = "private (default) or group" };
        var groupId = new Option<string?>("--group") { Description = "Group to share with" };
        var description = new Option<string?>("--description");
        credential.Subcommands.Add(Api(env, new Command("create", "Create a credential") { name, requiredProvider, endpoint, secretFile, secretStdin, visibility, groupId, description }, async (p, api, ct) =>
        {
            var secret = await ReadSecretAsync(env, p.GetValue(secretFile), p.GetValue(secretStdin), ct);
            return await Columns(api.PostAsync("api/v1/credentials", new
            {
                name = p.GetValue(name),
                provider = p.GetValue(requiredProvider),
                endpoint_url = p.GetValue(endpoint),
                secret,
                visibility = p.GetValue(visibility),
                group_id = p.GetValue(groupId),
                description = p.GetValue(description),
            }, ct));
        }));
        credential.Subcommands.Add(Api(env, new Command("delete", "Delete a credential") { id }, (p, api, ct) =>
            Done(api.DeleteAsync($"api/v1/credentials/{Esc(p.GetValue(id))}", ct), env, "Credential deleted.")));
        return credential;
    }

    private Command RuntimeCommands(CliEnvironment env)
    {
        var runtime = new Command("runtime", "Manage runtimes (deploy targets)");
        var id = new Argument<string>("id") { Description = "Runtime id" };
        var provider = new Option<string?>("--provider") { Description = "Only this provider" };
        runtime.Subcommands.Add(Api(env, WithPaging(new Command("list", "List runtimes you can see") { provider }), (p, api, ct) =>
            Columns(api.GetAsync("api/v1/runtimes" + PageQuery(p, ("provider", p.GetValue(provider))), ct), RuntimeColumns)));
        runtime.Subcommands.Add(Api(env, new Command("get", "Show a runtime") { id }, (p, api, ct) => Columns(api.GetAsync($"api/v1/runtimes/{Esc(p.GetValue(id))}", ct))));
        runtime.Subcommands.Add(Api(env, new Command("providers", "List the providers this server supports"), (_, api, ct) =>
            Columns(api.GetAsync("api/v1/providers", ct), "name", "display_name", "requires_credential")));

        var name = new Argument<string>("name") { Description = "Runtime name" };
        var requiredProvider = new Option<string>("--provider") { Description = "Provider name (see `pitrix runtime providers`)", Required = true };
        var zone = new Option<string?>("--zone") { Description = "Zone, region or namespace (default: default)" };
        var credentialId = new Option<string?>("--credential") { Description = "Credential id" };
        var labels = new Option<string[]>("--label", "-l") { Description = "Label key=value; repeatable" };
        var visibility = new Option<string?>("--visibility") { Description = "private (default), group or public (admin)" };
        var groupId = new Option<string?>("--group") { Description = "Group to share with" };
        var description = new Option<string?>("--description");
        runtime.Subcommands.Add(Api(env, new Command("create", "Create a runtime") { name, requiredProvider, zone, credentialId, labels, visibility, groupId, description }, (p, api, ct) =>
            Columns(api.PostAsync("api/v1/runtimes", new
            {
                name = p.GetValue(name),
                provider = p.GetValue(requiredProvider),
                zone = p.GetValue(zone),
                credential_id = p.GetValue(credentialId),
                labels = ParseLabels(p.GetValue(labels)),
                visibility = p.GetValue(visibility),
                group_id = p.GetValue(groupId),
                description = p.GetValue(description),
            }, ct))));
        runtime.Subcommands.Add(Api(env, new Command("delete", "Delete a runtime") { id }, (p, api, ct) =>
            Done(api.DeleteAsync($"api/v1/runtimes/{Esc(p.GetValue(id))}", ct), env, "Runtime deleted.")));
        runtime.Subcommands.Add(Api(env, new Command("validate", "Check that a runtime is usable now") { id }, (p, api, ct) =>
            Columns(api.PostAsync($"api/v1/runtimes/{Esc(p.GetValue(id))}:validate", null, ct))));
        return runtime;
    }

    private Command AuditCommand(CliEnvironment env)
    {
        var user = new Option<string?>("--user") { Description = "User id (admins only; others see their own entries)" };
        var action = new Option<string?>("--action") { Description = "Action, for example runtime.create" };
        var resourceType = new Option<string?>("--resource-type");
        var resourceId = new Option<string?>("--resource-id");
        var outcome = new Option<string?>("--outcome") { Description = "success or failure" };
        var since = new Option<string?>("--since") { Description = "ISO 8601 time" };
        var command = WithPaging(new Command("audit", "Show the audit log") { user, action, resourceType, resourceId, outcome, since });
        return Api(env, command, (p, api, ct) => Columns(api.GetAsync("api/v1/audit" + PageQuery(p,
            ("user_id", p.GetValue(user)), ("action", p.GetValue(action)), ("resource_type", p.GetValue(resourceType)),
            ("resource_id", p.GetValue(resourceId)), ("outcome", p.GetValue(outcome)), ("since", p.GetValue(since))), ct), AuditColumns));
    }

    private Command WithPaging(Command command)
    {
        command.Options.Add(_limitOption);
        command.Options.Add(_offsetOption);
        command.Options.Add(_queryOption);
        command.Options.Add(_sortOption);
        return command;
    }

    private string PageQuery(ParseResult parse, params (string Key, string? Value)[] filters) => PageQuery(parse, parse.GetValue(_queryOption), filters);

    /// <summary>The paging query of a command that takes its search text from somewhere other than <c>--query</c>.</summary>
    private string PageQuery(ParseResult parse, string? searchText, params (string Key, string? Value)[] filters)
    {
        var pairs = new List<(string, string?)>
        {
            ("limit", parse.GetValue(_limitOption)?.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("offset", parse.GetValue(_offsetOption)?.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("q", searchText),
            ("sort", parse.GetValue(_sortOption)),
        };
        pairs.AddRange(filters);
        var query = string.Join("&", pairs.Where(p => !string.IsNullOrEmpty(p.Item2)).Select(p => $"{p.Item1}={Uri.EscapeDataString(p.Item2!)}"));
        return query.Length == 0 ? "" : "?" + query;
    }

    private static string Esc(string? value) => Uri.EscapeDataString(value ?? "");

    private static Dictionary<string, string>? ParseLabels(string[]? labels) => ParsePairs(labels, "Label");

    private static Dictionary<string, string>? ParsePairs(string[]? pairs, string what)
    {
        if (pairs is null || pairs.Length == 0)
        {
            return null;
        }

        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var label in pairs)
        {
            var eq = label.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new CliInputException($"{what} '{label}' is not key=value.");
            }

            result[label[..eq]] = label[(eq + 1)..];
        }

        return result;
    }

    private static async Task<string> ReadSecretAsync(CliEnvironment env, FileInfo? file, bool stdin, CancellationToken ct)
    {
        if (file is not null && stdin)
        {
            throw new CliInputException("Give either --secret-file or --secret-stdin, not both.");
        }

        if (file is not null)
        {
            return file.Exists ? await File.ReadAllTextAsync(file.FullName, ct) : throw new CliInputException($"Secret file '{file.FullName}' does not exist.");
        }

        return stdin ? await env.Input.ReadToEndAsync(ct) : throw new CliInputException("Give the secret with --secret-file <path> or --secret-stdin (never on the command line, where other users can see it).");
    }

    private static string Prompt(CliEnvironment env, string label, bool secret)
    {
        if (!env.InputIsTerminal)
        {
            throw new CliInputException($"Standard input is not a terminal; pass the value with an option ({label.TrimEnd(' ', ':')}).");
        }

        env.Error.Write(label);
        if (!secret)
        {
            return env.Input.ReadLine() ?? "";
        }

        var buffer = new System.Text.StringBuilder();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter)
            {
                env.Error.WriteLine();
                return buffer.ToString();
            }

            if (key.Key == ConsoleKey.Backspace)
            {
                if (buffer.Length > 0)
                {
                    buffer.Length--;
                }
            }
            else if (!char.IsControl(key.KeyChar))
            {
                buffer.Append(key.KeyChar);
            }
        }
    }
}

/// <summary>Bad input caught by the CLI before any request; usage mistakes by default, or another exit code such as <see cref="ExitCodes.Invalid"/>.</summary>
public sealed class CliInputException(string message, int exitCode = ExitCodes.Usage) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}

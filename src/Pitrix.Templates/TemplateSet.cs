namespace Pitrix.Templates;

/// <summary>
/// A set of named templates sharing functions and options: Go's associated templates. Parsing text adds
/// every <c>define</c>/<c>block</c> it contains; later definitions replace earlier ones, except that an
/// empty body never replaces a non-empty one. Once parsing is done, the set may be executed from many threads
/// at once; parsing while executing needs outside synchronisation (or a <see cref="Clone"/>).
/// </summary>
public sealed class TemplateSet
{
    private readonly Dictionary<string, ParseTree> _trees;

    public TemplateSet(FunctionLibrary? functions = null, TemplateOptions? options = null)
    {
        Functions = functions ?? new FunctionLibrary();
        Options = options ?? TemplateOptions.Default;
        Options.Validate();
        _trees = new Dictionary<string, ParseTree>(StringComparer.Ordinal);
    }

    private TemplateSet(FunctionLibrary functions, TemplateOptions options, Dictionary<string, ParseTree> trees)
    {
        Functions = functions;
        Options = options;
        _trees = new Dictionary<string, ParseTree>(trees, StringComparer.Ordinal);
    }

    public FunctionLibrary Functions { get; }

    public TemplateOptions Options { get; }

    /// <summary>Names of the templates defined so far, sorted.</summary>
    public IReadOnlyList<string> Names => [.. _trees.Keys.Order(StringComparer.Ordinal)];

    /// <summary>Parses <paramref name="text"/> as the template <paramref name="name"/> (plus what it defines) and adds it to the set.</summary>
    /// <exception cref="TemplateException">With code <see cref="TemplateErrorCodes.ParseError"/>.</exception>
    public Template Parse(string name, string text)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(text);
        var trees = Parser.Parse(name, text, HasFunction);
        foreach (var (treeName, tree) in trees)
        {
            AddTree(treeName, tree);
        }

        return new Template(this, name);
    }

    /// <summary>Associates the parse tree of <paramref name="source"/> with this set under <paramref name="name"/>.</summary>
    public Template AddParseTree(string name, Template source)
    {
        var tree = source.Set.LookupTree(source.Name) ?? throw new TemplateException(TemplateErrorCodes.NotFound, $"template: no template {GoFormatter.Quote(source.Name)}", source.Name, 0, 0);
        _trees[name] = tree;
        return new Template(this, name);
    }

    /// <summary>The template with that name, or null.</summary>
    public Template? Lookup(string name) => _trees.ContainsKey(name) ? new Template(this, name) : null;

    /// <summary>A copy that can be extended without changing this set (Go's Clone).</summary>
    public TemplateSet Clone() => new(Functions, Options, _trees);

    /// <summary>Executes the named template and returns its output.</summary>
    public string Execute(string name, object? data, CancellationToken cancellationToken = default)
    {
        using var writer = new StringWriter();
        Execute(writer, name, data, cancellationToken);
        return writer.ToString();
    }

    /// <summary>Executes the named template into <paramref name="writer"/>; on error, what was written so far stays written.</summary>
    public void Execute(TextWriter writer, string name, object? data, CancellationToken cancellationToken = default)
    {
        var tree = LookupTree(name);
        if (tree?.Root == null)
        {
            throw new TemplateException(
                TemplateErrorCodes.NotFound,
                $"template: no template {GoFormatter.Quote(name)} associated with template {GoFormatter.Quote(name)}",
                name,
                0,
                0);
        }

        // Deeply recursive templates need more stack than a thread-pool thread has (see DeepStackRunner).
        DeepStackRunner.Run(() => new Execution(this, tree, name, writer, cancellationToken).Run(data));
    }



    internal ParseTree? LookupTree(string name) => _trees.GetValueOrDefault(name);

    private bool HasFunction(string name) => Functions.Contains(name) || Builtins.Functions.ContainsKey(name);

    private void AddTree(string name, ParseTree tree)
    {
        if (_trees.TryGetValue(name, out var existing) && ParseTree.IsEmptyTree(tree.Root) && existing.Root != null)
        {
            return;
        }

        _trees[name] = tree;
    }
}

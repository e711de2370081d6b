namespace Pitrix.Templates;

/// <summary>A handle on one named template of a <see cref="TemplateSet"/>.</summary>
public sealed class Template
{
    internal Template(TemplateSet set, string name)
    {
        Set = set;
        Name = name;
    }

    public TemplateSet Set { get; }

    public string Name { get; }

    /// <summary>Parses a standalone template (Go's <c>template.New(name).Parse(text)</c>).</summary>
    public static Template Parse(string name, string text, TemplateOptions? options = null, FunctionLibrary? functions = null) =>
        new TemplateSet(functions, options).Parse(name, text);

    public string Execute(object? data, CancellationToken cancellationToken = default) => Set.Execute(Name, data, cancellationToken);

    public void Execute(TextWriter writer, object? data, CancellationToken cancellationToken = default) =>
        Set.Execute(writer, Name, data, cancellationToken);
}

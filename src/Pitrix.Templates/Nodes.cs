using System.Text;

namespace Pitrix.Templates;

/// <summary>A parsed template: the root list plus the source it came from, used for error positions.</summary>
internal sealed class ParseTree
{
    public ParseTree(string name, string parseName, string text)
    {
        Name = name;
        ParseName = parseName;
        Text = text;
    }

    public string Name { get; set; }

    public string ParseName { get; }

    public string Text { get; }

    public ListNode? Root { get; set; }

    /// <summary>Returns "name:line:col" for a node the way Go's Tree.ErrorContext does.</summary>
    public (string Location, string Context) ErrorContext(Node node)
    {
        var pos = Math.Min(node.Pos, Text.Length);
        var lineStart = pos == 0 ? 0 : Text.LastIndexOf('\n', pos - 1) + 1;
        var line = 1;
        for (var i = 0; i < pos; i++)
        {
            if (Text[i] == '\n')
            {
                line++;
            }
        }

        var column = Encoding.UTF8.GetByteCount(Text.AsSpan(lineStart, pos - lineStart));
        return ($"{ParseName}:{line}:{column}", node.ToString());
    }

    public static bool IsEmptyTree(Node? node) => node switch
    {
        null => true,
        ListNode list => list.Nodes.All(IsEmptyTree),
        TextNode text => text.Text.All(char.IsWhiteSpace),
        CommentNode => true,
        _ => false,
    };
}

internal abstract class Node
{
    protected Node(ParseTree tree, int pos)
    {
        Tree = tree;
        Pos = pos;
    }

    public ParseTree Tree { get; }

    public int Pos { get; }

    public abstract override string ToString();
}

internal sealed class ListNode(ParseTree tree, int pos) : Node(tree, pos)
{
    public List<Node> Nodes { get; } = [];

    public override string ToString() => string.Concat(Nodes.Select(n => n.ToString()));
}

internal sealed class TextNode(ParseTree tree, int pos, string text) : Node(tree, pos)
{
    public string Text { get; } = text;

    public override string ToString() => Text;
}

internal sealed class CommentNode(ParseTree tree, int pos, string text) : Node(tree, pos)
{
    public string Text { get; } = text;

    public override string ToString() => Text;
}

internal sealed class PipeNode(ParseTree tree, int pos) : Node(tree, pos)
{
    public bool IsAssign { get; set; }

    public List<VariableNode> Decl { get; } = [];

    public List<CommandNode> Cmds { get; } = [];

    public override string ToString()
    {
        var sb = new StringBuilder();
        if (Decl.Count > 0)
        {
            sb.AppendJoin(", ", Decl.Select(d => d.ToString()));
            sb.Append(IsAssign ? " = " : " := ");
        }

        sb.AppendJoin(" | ", Cmds.Select(c => c.ToString()));
        return sb.ToString();
    }
}

internal sealed class ActionNode(ParseTree tree, int pos, PipeNode pipe) : Node(tree, pos)
{
    public PipeNode Pipe { get; } = pipe;

    public override string ToString() => "{{" + Pipe + "}}";
}

internal sealed class CommandNode(ParseTree tree, int pos) : Node(tree, pos)
{
    public List<Node> Args { get; } = [];

    public override string ToString() =>
        string.Join(" ", Args.Select(a => a is PipeNode ? "(" + a + ")" : a.ToString()));
}

internal sealed class IdentifierNode(ParseTree tree, int pos, string ident) : Node(tree, pos)
{
    public string Ident { get; } = ident;

    public override string ToString() => Ident;
}

internal sealed class VariableNode(ParseTree tree, int pos, string ident) : Node(tree, pos)
{
    public string[] Ident { get; } = ident.Split('.');

    public override string ToString() => string.Join(".", Ident);
}

internal sealed class DotNode(ParseTree tree, int pos) : Node(tree, pos)
{
    public override string ToString() => ".";
}

internal sealed class NilNode(ParseTree tree, int pos) : Node(tree, pos)
{
    public override string ToString() => "nil";
}

internal sealed class FieldNode(ParseTree tree, int pos, string ident) : Node(tree, pos)
{
    public string[] Ident { get; } = ident[1..].Split('.');

    public override string ToString() => string.Concat(Ident.Select(i => "." + i));
}

internal sealed class ChainNode(ParseTree tree, int pos, Node node) : Node(tree, pos)
{
    public Node Target { get; } = node;

    public List<string> Field { get; } = [];

    public void Add(string field)
    {
        if (field.Length == 0 || field[0] != '.')
        {
            throw new InvalidOperationException("no dot in field");
        }

        field = field[1..];
        if (field.Length == 0)
        {
            throw new InvalidOperationException("empty field");
        }

        Field.Add(field);
    }

    public override string ToString()
    {
        var s = Target is PipeNode ? "(" + Target + ")" : Target.ToString();
        return s + string.Concat(Field.Select(f => "." + f));
    }
}

internal sealed class BoolNode(ParseTree tree, int pos, bool value) : Node(tree, pos)
{
    public bool True { get; } = value;

    public override string ToString() => True ? "true" : "false";
}

internal sealed class NumberNode(ParseTree tree, int pos, string text) : Node(tree, pos)
{
    public string Text { get; } = text;

    public bool IsInt { get; set; }

    public bool IsUint { get; set; }

    public bool IsFloat { get; set; }

    public bool IsComplex { get; set; }

    public System.Numerics.Complex Complex128 { get; set; }

    /// <summary>Go's simplifyComplex: a complex constant with no imaginary part is also a float (and maybe an integer).</summary>
    public void SimplifyComplex()
    {
        IsFloat = Complex128.Imaginary == 0;
        if (!IsFloat)
        {
            return;
        }

        Float64 = Complex128.Real;
        IsInt = Math.Abs(Float64) < 9.2233720368547758e18 && Math.Floor(Float64) == Float64;
        if (IsInt)
        {
            Int64 = (long)Float64;
        }

        IsUint = Float64 >= 0 && Float64 < 1.8446744073709552e19 && Math.Floor(Float64) == Float64;
        if (IsUint)
        {
            Uint64 = (ulong)Float64;
        }
    }

    public long Int64 { get; set; }

    public ulong Uint64 { get; set; }

    public double Float64 { get; set; }

    public override string ToString() => Text;
}

internal sealed class StringNode(ParseTree tree, int pos, string quoted, string text) : Node(tree, pos)
{
    public string Quoted { get; } = quoted;

    public string Text { get; } = text;

    public override string ToString() => Quoted;
}

internal sealed class EndNode(ParseTree tree, int pos) : Node(tree, pos)
{
    public override string ToString() => "{{end}}";
}

internal sealed class ElseNode(ParseTree tree, int pos) : Node(tree, pos)
{
    public override string ToString() => "{{else}}";
}

internal sealed class BreakNode(ParseTree tree, int pos) : Node(tree, pos)
{
    public override string ToString() => "{{break}}";
}

internal sealed class ContinueNode(ParseTree tree, int pos) : Node(tree, pos)
{
    public override string ToString() => "{{continue}}";
}

internal enum BranchKind
{
    If,
    Range,
    With,
}

internal sealed class BranchNode(ParseTree tree, int pos, BranchKind kind, PipeNode pipe, ListNode list, ListNode? elseList) : Node(tree, pos)
{
    public BranchKind Kind { get; } = kind;

    public PipeNode Pipe { get; } = pipe;

    public ListNode List { get; } = list;

    public ListNode? ElseList { get; } = elseList;

    public override string ToString()
    {
        var name = Kind switch
        {
            BranchKind.If => "if",
            BranchKind.Range => "range",
            _ => "with",
        };
        var sb = new StringBuilder();
        sb.Append("{{").Append(name).Append(' ').Append(Pipe).Append("}}").Append(List);
        if (ElseList != null)
        {
            sb.Append("{{else}}").Append(ElseList);
        }

        sb.Append("{{end}}");
        return sb.ToString();
    }
}

internal sealed class TemplateNode(ParseTree tree, int pos, string name, PipeNode? pipe) : Node(tree, pos)
{
    public string Name { get; } = name;

    public PipeNode? Pipe { get; } = pipe;

    public override string ToString() =>
        Pipe == null ? "{{template " + GoFormatter.Quote(Name) + "}}" : "{{template " + GoFormatter.Quote(Name) + " " + Pipe + "}}";
}

namespace Pitrix.Templates;

/// <summary>A port of Go's text/template/parse parser: it builds one tree per template defined in the text.</summary>
internal sealed class Parser
{
    private readonly List<Item> _items;
    private readonly Func<string, bool> _hasFunction;
    private readonly Dictionary<string, ParseTree> _treeSet;
    private readonly string _parseName;
    private readonly string _text;
    private int _index;
    private int _furthest;
    private ParseTree _tree;
    private List<string> _vars = ["$"];
    private int _rangeDepth;
    private int _actionLine;
    private int _depth;

    /// <summary>Nesting limit for parentheses and control structures; Go has a similar guard against stack exhaustion.</summary>
    private const int MaxDepth = 1000;

    private Parser(string name, string text, Func<string, bool> hasFunction, Dictionary<string, ParseTree> treeSet)
    {
        _parseName = name;
        _text = text;
        _hasFunction = hasFunction;
        _treeSet = treeSet;
        _items = Lexer.Lex(text, !hasFunction("break"), !hasFunction("continue"));
        _tree = new ParseTree(name, name, text);
    }

    /// <summary>Parses <paramref name="text"/>; the result holds the main tree (named <paramref name="name"/>) and every define/block.</summary>
    public static Dictionary<string, ParseTree> Parse(string name, string text, Func<string, bool> hasFunction)
    {
        var treeSet = new Dictionary<string, ParseTree>(StringComparer.Ordinal);
        var parser = new Parser(name, text, hasFunction, treeSet);
        parser.ParseTop();
        return treeSet;
    }

    private Item Next()
    {
        var item = _items[Math.Min(_index, _items.Count - 1)];
        _index++;
        _furthest = Math.Max(_furthest, _index - 1);
        return item;
    }

    private void Backup(int count = 1) => _index -= count;

    private Item Peek()
    {
        var item = Next();
        Backup();
        return item;
    }

    private Item NextNonSpace()
    {
        Item item;
        do
        {
            item = Next();
        }
        while (item.Type == ItemType.Space);
        return item;
    }

    private Item PeekNonSpace()
    {
        var item = NextNonSpace();
        Backup();
        return item;
    }

    private TemplateException Error(string message)
    {
        var line = _items[Math.Min(_furthest, _items.Count - 1)].Line;
        return new TemplateException(
            TemplateErrorCodes.ParseError,
            $"template: {_parseName}:{line}: {message}",
            _parseName,
            line,
            0);
    }

    private Item Expect(ItemType expected, string context)
    {
        var token = NextNonSpace();
        if (token.Type != expected)
        {
            throw Unexpected(token, context);
        }

        return token;
    }

    private Item ExpectOneOf(ItemType a, ItemType b, string context)
    {
        var token = NextNonSpace();
        if (token.Type != a && token.Type != b)
        {
            throw Unexpected(token, context);
        }

        return token;
    }

    private TemplateException Unexpected(Item token, string context)
    {
        if (token.Type == ItemType.Error)
        {
            var extra = string.Empty;
            if (_actionLine != 0 && _actionLine != token.Line)
            {
                extra = $" in action started at {_parseName}:{_actionLine}";
                if (token.Value.EndsWith(" action", StringComparison.Ordinal))
                {
                    extra = extra[" in action".Length..];
                }
            }

            return Error(token.Value + extra);
        }

        return Error($"unexpected {token} in {context}");
    }

    private void StartTree(string name)
    {
        _tree = new ParseTree(name, _parseName, _text);
        _vars = ["$"];
    }

    private void AddTree()
    {
        if (!_treeSet.TryGetValue(_tree.Name, out var existing) || ParseTree.IsEmptyTree(existing.Root))
        {
            _treeSet[_tree.Name] = _tree;
            return;
        }

        if (!ParseTree.IsEmptyTree(_tree.Root))
        {
            throw Error($"template: multiple definition of template {GoFormatter.Quote(_tree.Name)}");
        }
    }

    private void ParseTop()
    {
        var main = _tree;
        main.Root = new ListNode(main, Peek().Pos);
        while (Peek().Type != ItemType.Eof)
        {
            if (Peek().Type == ItemType.LeftDelim)
            {
                Next();
                if (NextNonSpace().Type == ItemType.Define)
                {
                    var saved = (_tree, _vars, _rangeDepth);
                    StartTree("definition");
                    ParseDefinition();
                    (_tree, _vars, _rangeDepth) = saved;
                    continue;
                }

                RewindTo(ItemType.LeftDelim);
            }

            var n = TextOrAction();
            if (n is EndNode or ElseNode)
            {
                throw Error($"unexpected {n}");
            }

            main.Root.Nodes.Add(n);
        }

        _tree = main;
        AddTree();
    }

    private void RewindTo(ItemType type)
    {
        do
        {
            _index--;
        }
        while (_items[_index].Type != type);
    }

    private void ParseDefinition()
    {
        const string context = "define clause";
        var name = ExpectOneOf(ItemType.String, ItemType.RawString, context);
        _tree.Name = Unquote(name.Value);
        Expect(ItemType.RightDelim, context);
        var (list, end) = ItemList();
        _tree.Root = list;
        if (end is not EndNode)
        {
            throw Error($"unexpected {end} in {context}");
        }

        AddTree();
    }

    private (ListNode List, Node Next) ItemList()
    {
        Enter();
        try
        {
            return ParseItemList();
        }
        finally
        {
            _depth--;
        }
    }

    private (ListNode List, Node Next) ParseItemList()
    {
        var list = new ListNode(_tree, PeekNonSpace().Pos);
        while (PeekNonSpace().Type != ItemType.Eof)
        {
            var n = TextOrAction();
            if (n is EndNode or ElseNode)
            {
                return (list, n);
            }

            list.Nodes.Add(n);
        }

        throw Error("unexpected EOF");
    }

    private Node TextOrAction()
    {
        var token = NextNonSpace();
        switch (token.Type)
        {
            case ItemType.Text:
                return new TextNode(_tree, token.Pos, token.Value);
            case ItemType.LeftDelim:
                _actionLine = token.Line;
                try
                {
                    return Action();
                }
                finally
                {
                    _actionLine = 0;
                }

            case ItemType.Comment:
                return new CommentNode(_tree, token.Pos, token.Value);
            default:
                throw Unexpected(token, "input");
        }
    }

    private Node Action()
    {
        var token = NextNonSpace();
        switch (token.Type)
        {
            case ItemType.Block:
                return BlockControl();
            case ItemType.Break:
                return BreakControl(token, isBreak: true);
            case ItemType.Continue:
                return BreakControl(token, isBreak: false);
            case ItemType.Else:
                return ElseControl();
            case ItemType.End:
                return new EndNode(_tree, Expect(ItemType.RightDelim, "end").Pos);
            case ItemType.If:
                return ParseControl(BranchKind.If, "if");
            case ItemType.Range:
                return ParseControl(BranchKind.Range, "range");
            case ItemType.Template:
                return TemplateControl();
            case ItemType.With:
                return ParseControl(BranchKind.With, "with");
        }

        Backup();
        var start = Peek();
        return new ActionNode(_tree, start.Pos, Pipeline("command", ItemType.RightDelim));
    }

    private Node BreakControl(Item keyword, bool isBreak)
    {
        var name = isBreak ? "break" : "continue";
        var token = NextNonSpace();
        if (token.Type != ItemType.RightDelim)
        {
            throw Unexpected(token, "{{" + name + "}}");
        }

        if (_rangeDepth == 0)
        {
            throw Error("{{" + name + "}} outside {{range}}");
        }

        return isBreak ? new BreakNode(_tree, keyword.Pos) : new ContinueNode(_tree, keyword.Pos);
    }

    private ElseNode ElseControl()
    {
        var peek = PeekNonSpace();
        if (peek.Type is ItemType.If or ItemType.With)
        {
            return new ElseNode(_tree, peek.Pos);
        }

        var token = Expect(ItemType.RightDelim, "else");
        return new ElseNode(_tree, token.Pos);
    }

    private BranchNode ParseControl(BranchKind kind, string context)
    {
        var varCount = _vars.Count;
        try
        {
            var pipe = Pipeline(context, ItemType.RightDelim);
            if (kind == BranchKind.Range)
            {
                _rangeDepth++;
            }

            var (list, next) = ItemList();
            if (kind == BranchKind.Range)
            {
                _rangeDepth--;
            }

            ListNode? elseList = null;
            if (next is ElseNode)
            {
                // "{{else if}}" and "{{else with}}" chain: parse the nested control, which consumes the single {{end}}.
                if (kind == BranchKind.If && Peek().Type == ItemType.If)
                {
                    Next();
                    elseList = new ListNode(_tree, next.Pos);
                    elseList.Nodes.Add(ParseControl(BranchKind.If, "if"));
                    return new BranchNode(_tree, pipe.Pos, kind, pipe, list, elseList);
                }

                if (kind == BranchKind.With && Peek().Type == ItemType.With)
                {
                    Next();
                    elseList = new ListNode(_tree, next.Pos);
                    elseList.Nodes.Add(ParseControl(BranchKind.With, "with"));
                    return new BranchNode(_tree, pipe.Pos, kind, pipe, list, elseList);
                }

                (elseList, next) = ItemList();
                if (next is not EndNode)
                {
                    throw Error($"expected end; found {next}");
                }
            }

            return new BranchNode(_tree, pipe.Pos, kind, pipe, list, elseList);
        }
        finally
        {
            _vars.RemoveRange(varCount, _vars.Count - varCount);
        }
    }

    private TemplateNode BlockControl()
    {
        const string context = "block clause";
        var token = NextNonSpace();
        var name = ParseTemplateName(token, context);
        var pipe = Pipeline(context, ItemType.RightDelim);

        var saved = (_tree, _vars, _rangeDepth);
        StartTree(name);
        _rangeDepth = 0;
        var (list, end) = ItemList();
        _tree.Root = list;
        if (end is not EndNode)
        {
            throw Error($"unexpected {end} in {context}");
        }

        AddTree();
        (_tree, _vars, _rangeDepth) = saved;
        return new TemplateNode(_tree, token.Pos, name, pipe);
    }

    private TemplateNode TemplateControl()
    {
        const string context = "template clause";
        var token = NextNonSpace();
        var name = ParseTemplateName(token, context);
        PipeNode? pipe = null;
        if (NextNonSpace().Type != ItemType.RightDelim)
        {
            Backup();
            pipe = Pipeline(context, ItemType.RightDelim);
        }

        return new TemplateNode(_tree, token.Pos, name, pipe);
    }

    private string ParseTemplateName(Item token, string context)
    {
        if (token.Type is ItemType.String or ItemType.RawString)
        {
            return Unquote(token.Value);
        }

        throw Unexpected(token, context);
    }

    private void Enter()
    {
        if (++_depth > MaxDepth || !System.Runtime.CompilerServices.RuntimeHelpers.TryEnsureSufficientExecutionStack())
        {
            throw Error("max expression depth exceeded");
        }
    }

    private PipeNode Pipeline(string context, ItemType end)
    {
        Enter();
        try
        {
            return ParsePipeline(context, end);
        }
        finally
        {
            _depth--;
        }
    }

    private PipeNode ParsePipeline(string context, ItemType end)
    {
        var first = PeekNonSpace();
        var pipe = new PipeNode(_tree, first.Pos);
    Decls:
        var v = PeekNonSpace();
        if (v.Type == ItemType.Variable)
        {
            var variableIndex = _index;
            while (_items[variableIndex].Type == ItemType.Space)
            {
                variableIndex++;
            }

            _index = variableIndex + 1;
            var tokenAfterVariable = Peek();
            var next = PeekNonSpace();
            if (next.Type is ItemType.Assign or ItemType.Declare)
            {
                pipe.IsAssign = next.Type == ItemType.Assign;
                NextNonSpace();
                pipe.Decl.Add(new VariableNode(_tree, v.Pos, v.Value));
                _vars.Add(v.Value);
            }
            else if (next.Type == ItemType.Char && next.Value == ",")
            {
                NextNonSpace();
                pipe.Decl.Add(new VariableNode(_tree, v.Pos, v.Value));
                _vars.Add(v.Value);
                if (context == "range" && pipe.Decl.Count < 2)
                {
                    if (PeekNonSpace().Type is ItemType.Variable or ItemType.RightDelim or ItemType.RightParen)
                    {
                        goto Decls;
                    }

                    throw Error("range can only initialize variables");
                }

                throw Error($"too many declarations in {context}");
            }
            else if (tokenAfterVariable.Type == ItemType.Space)
            {
                _index = variableIndex;
            }
            else
            {
                _index = variableIndex;
            }
        }

        while (true)
        {
            var token = NextNonSpace();
            if (token.Type == end)
            {
                CheckPipeline(pipe, context);
                return pipe;
            }

            switch (token.Type)
            {
                case ItemType.Bool or ItemType.CharConstant or ItemType.Complex or ItemType.Dot or ItemType.Field
                    or ItemType.Identifier or ItemType.Number or ItemType.Nil or ItemType.RawString or ItemType.String
                    or ItemType.Variable or ItemType.LeftParen:
                    Backup();
                    pipe.Cmds.Add(Command());
                    break;
                default:
                    throw Unexpected(token, context);
            }
        }
    }

    private void CheckPipeline(PipeNode pipe, string context)
    {
        if (pipe.Cmds.Count == 0)
        {
            throw Error($"missing value for {context}");
        }

        for (var i = 1; i < pipe.Cmds.Count; i++)
        {
            if (pipe.Cmds[i].Args[0] is BoolNode or DotNode or NilNode or NumberNode or StringNode)
            {
                throw Error($"non executable command in pipeline stage {i + 1}");
            }
        }
    }

    private CommandNode Command()
    {
        var cmd = new CommandNode(_tree, PeekNonSpace().Pos);
        while (true)
        {
            PeekNonSpace();
            var operand = Operand();
            if (operand != null)
            {
                cmd.Args.Add(operand);
            }

            var token = Next();
            if (token.Type == ItemType.Space)
            {
                continue;
            }

            if (token.Type is ItemType.RightDelim or ItemType.RightParen)
            {
                Backup();
            }
            else if (token.Type != ItemType.Pipe)
            {
                throw Unexpected(token, "operand");
            }

            break;
        }

        if (cmd.Args.Count == 0)
        {
            throw Error("empty command");
        }

        return cmd;
    }

    private Node? Operand()
    {
        var node = Term();
        if (node == null)
        {
            return null;
        }

        if (Peek().Type == ItemType.Field)
        {
            var chain = new ChainNode(_tree, Peek().Pos, node);
            while (Peek().Type == ItemType.Field)
            {
                chain.Add(Next().Value);
            }

            switch (node)
            {
                case FieldNode:
                    node = new FieldNode(_tree, chain.Pos, chain.ToString());
                    break;
                case VariableNode:
                    node = new VariableNode(_tree, chain.Pos, chain.ToString());
                    break;
                case BoolNode or StringNode or NumberNode or NilNode or DotNode:
                    throw Error($"unexpected . after term {GoFormatter.Quote(node.ToString())}");
                default:
                    node = chain;
                    break;
            }
        }

        return node;
    }

    private Node? Term()
    {
        var token = NextNonSpace();
        switch (token.Type)
        {
            case ItemType.Identifier:
                if (!_hasFunction(token.Value))
                {
                    throw Error($"function {GoFormatter.Quote(token.Value)} not defined");
                }

                return new IdentifierNode(_tree, token.Pos, token.Value);
            case ItemType.Dot:
                return new DotNode(_tree, token.Pos);
            case ItemType.Nil:
                return new NilNode(_tree, token.Pos);
            case ItemType.Variable:
                return UseVar(token.Pos, token.Value);
            case ItemType.Field:
                return new FieldNode(_tree, token.Pos, token.Value);
            case ItemType.Bool:
                return new BoolNode(_tree, token.Pos, token.Value == "true");
            case ItemType.CharConstant or ItemType.Complex or ItemType.Number:
                return NewNumber(token);
            case ItemType.LeftParen:
                return Pipeline("parenthesized pipeline", ItemType.RightParen);
            case ItemType.String or ItemType.RawString:
                return new StringNode(_tree, token.Pos, token.Value, Unquote(token.Value));
        }

        Backup();
        return null;
    }

    private VariableNode UseVar(int pos, string name)
    {
        var v = new VariableNode(_tree, pos, name);
        if (_vars.Contains(v.Ident[0]))
        {
            return v;
        }

        throw Error($"undefined variable {GoFormatter.Quote(v.Ident[0])}");
    }

    private NumberNode NewNumber(Item token)
    {
        var text = token.Value;
        var n = new NumberNode(_tree, token.Pos, text);
        if (token.Type == ItemType.CharConstant)
        {
            var (rune, consumed, ok) = GoStrings.UnquoteChar(text, 1, '\'');
            if (!ok)
            {
                throw Error("invalid syntax");
            }

            if (text[consumed..] != "'")
            {
                throw Error($"malformed character constant: {text}");
            }

            n.Int64 = rune;
            n.IsInt = true;
            n.Uint64 = (ulong)rune;
            n.IsUint = true;
            n.Float64 = rune;
            n.IsFloat = true;
            return n;
        }

        if (token.Type == ItemType.Complex)
        {
            // "1+2i": a real part followed by a signed imaginary part, as fmt.Sscan reads a complex128.
            var split = text.LastIndexOfAny(['+', '-']);
            while (split > 0 && text[split - 1] is 'e' or 'E' or 'p' or 'P')
            {
                split = text.LastIndexOfAny(['+', '-'], split - 1);
            }

            if (split <= 0 || GoStrings.ParseFloat(text[..split]) is not { } re || GoStrings.ParseFloat(text[split..^1]) is not { } im)
            {
                throw Error("syntax error scanning complex number");
            }

            n.IsComplex = true;
            n.Complex128 = new System.Numerics.Complex(re, im);
            n.SimplifyComplex();
            return n;
        }

        if (text.EndsWith('i') && GoStrings.ParseFloat(text[..^1]) is { } imaginary)
        {
            n.IsComplex = true;
            n.Complex128 = new System.Numerics.Complex(0, imaginary);
            n.SimplifyComplex();
            return n;
        }

        var u = GoStrings.ParseUint(text);
        if (u.HasValue)
        {
            n.IsUint = true;
            n.Uint64 = u.Value;
        }

        var i = GoStrings.ParseInt(text);
        if (i.HasValue)
        {
            n.IsInt = true;
            n.Int64 = i.Value;
            if (i.Value == 0)
            {
                n.IsUint = true;
                n.Uint64 = 0;
            }
        }

        if (n.IsInt)
        {
            n.IsFloat = true;
            n.Float64 = n.Int64;
        }
        else if (n.IsUint)
        {
            n.IsFloat = true;
            n.Float64 = n.Uint64;
        }
        else
        {
            var f = GoStrings.ParseFloat(text);
            if (f.HasValue)
            {
                if (text.IndexOfAny(['.', 'e', 'E', 'p', 'P']) < 0)
                {
                    throw Error($"integer overflow: {GoFormatter.Quote(text)}");
                }

                n.IsFloat = true;
                n.Float64 = f.Value;
                if (!n.IsInt && Math.Abs(f.Value) < 9.2233720368547758e18 && Math.Floor(f.Value) == f.Value)
                {
                    n.IsInt = true;
                    n.Int64 = (long)f.Value;
                }

                if (!n.IsUint && f.Value >= 0 && f.Value < 1.8446744073709552e19 && Math.Floor(f.Value) == f.Value)
                {
                    n.IsUint = true;
                    n.Uint64 = (ulong)f.Value;
                }
            }
        }

        if (!n.IsInt && !n.IsUint && !n.IsFloat)
        {
            throw Error($"illegal number syntax: {GoFormatter.Quote(text)}");
        }

        return n;
    }

    private string Unquote(string quoted) =>
        GoStrings.Unquote(quoted) ?? throw Error("invalid syntax");
}

namespace Pitrix.Templates;

internal enum ItemType
{
    Error,
    Bool,
    Char,
    CharConstant,
    Comment,
    Complex,
    Assign,
    Declare,
    Eof,
    Field,
    Identifier,
    LeftDelim,
    LeftParen,
    Number,
    Pipe,
    RawString,
    RightDelim,
    RightParen,
    Space,
    String,
    Text,
    Variable,
    Keyword,
    Block,
    Break,
    Continue,
    Dot,
    Define,
    Else,
    End,
    If,
    Nil,
    Range,
    Template,
    With,
}

internal readonly record struct Item(ItemType Type, int Pos, string Value, int Line)
{
    public override string ToString()
    {
        if (Type == ItemType.Eof)
        {
            return "EOF";
        }

        if (Type == ItemType.Error)
        {
            return Value;
        }

        if (Type > ItemType.Keyword)
        {
            return "<" + Value + ">";
        }

        if (Value.Length > 10)
        {
            return GoFormatter.Quote(Value[..10]) + "...";
        }

        return GoFormatter.Quote(Value);
    }
}

/// <summary>A port of Go's text/template/parse lexer: it turns template text into items.</summary>
internal sealed class Lexer
{
    private const string LeftDelim = "{{";
    private const string RightDelim = "}}";
    private const string LeftComment = "/*";
    private const string RightComment = "*/";
    private const int TrimMarkerLen = 2;

    private static readonly Dictionary<string, ItemType> _keywords = new(StringComparer.Ordinal)
    {
        ["."] = ItemType.Dot,
        ["block"] = ItemType.Block,
        ["break"] = ItemType.Break,
        ["continue"] = ItemType.Continue,
        ["define"] = ItemType.Define,
        ["else"] = ItemType.Else,
        ["end"] = ItemType.End,
        ["if"] = ItemType.If,
        ["range"] = ItemType.Range,
        ["nil"] = ItemType.Nil,
        ["template"] = ItemType.Template,
        ["with"] = ItemType.With,
    };

    private readonly string _input;
    private readonly bool _breakOk;
    private readonly bool _continueOk;
    private readonly List<Item> _items = [];
    private int _pos;
    private int _start;
    private int _line = 1;
    private int _startLine = 1;
    private int _parenDepth;

    private Lexer(string input, bool breakOk, bool continueOk)
    {
        _input = input;
        _breakOk = breakOk;
        _continueOk = continueOk;
    }

    private delegate State? State();

    public static List<Item> Lex(string input, bool breakOk, bool continueOk)
    {
        var lexer = new Lexer(input, breakOk, continueOk);
        State? state = lexer.LexText;
        while (state != null)
        {
            state = state();
        }

        return lexer._items;
    }

    private const int EofRune = -1;

    private int Next()
    {
        if (_pos >= _input.Length)
        {
            return EofRune;
        }

        var r = _input[_pos++];
        if (r == '\n')
        {
            _line++;
        }

        return r;
    }

    private int Peek() => _pos >= _input.Length ? EofRune : _input[_pos];

    private void Backup()
    {
        if (_pos > 0)
        {
            _pos--;
            if (_input[_pos] == '\n')
            {
                _line--;
            }
        }
    }

    private void Emit(ItemType type)
    {
        _items.Add(new Item(type, _start, _input[_start.._pos], _startLine));
        _start = _pos;
        _startLine = _line;
    }

    private void Ignore()
    {
        _line += CountNewlines(_start, _pos);
        _start = _pos;
        _startLine = _line;
    }

    private int CountNewlines(int from, int to)
    {
        var n = 0;
        for (var i = from; i < to; i++)
        {
            if (_input[i] == '\n')
            {
                n++;
            }
        }

        return n;
    }

    private bool Accept(string valid)
    {
        var r = Next();
        if (r != EofRune && valid.Contains((char)r, StringComparison.Ordinal))
        {
            return true;
        }

        if (r != EofRune)
        {
            Backup();
        }

        return false;
    }

    private void AcceptRun(string valid)
    {
        while (Accept(valid))
        {
        }
    }

    private State? Errorf(string message)
    {
        _items.Add(new Item(ItemType.Error, _start, message, _startLine));
        return null;
    }

    private static bool IsSpace(int r) => r is ' ' or '\t' or '\r' or '\n';

    private static bool IsAlphaNumeric(int r) => r == '_' || (r >= 0 && (char.IsLetter((char)r) || char.IsDigit((char)r)));

    private bool HasLeftTrimMarker(int at) => at + 1 < _input.Length && _input[at] == '-' && IsSpace(_input[at + 1]);

    private bool HasRightTrimMarker(int at) => at + 1 < _input.Length && IsSpace(_input[at]) && _input[at + 1] == '-';

    private bool StartsWithAt(int at, string s) => at <= _input.Length && _input.AsSpan(at).StartsWith(s, StringComparison.Ordinal);

    private (bool Delim, bool Trim) AtRightDelim()
    {
        if (HasRightTrimMarker(_pos) && StartsWithAt(_pos + TrimMarkerLen, RightDelim))
        {
            return (true, true);
        }

        return StartsWithAt(_pos, RightDelim) ? (true, false) : (false, false);
    }

    private int RightTrimLength(int from, int to)
    {
        var i = to;
        while (i > from && IsSpace(_input[i - 1]))
        {
            i--;
        }

        return to - i;
    }

    private int LeftTrimLength(int from)
    {
        var i = from;
        while (i < _input.Length && IsSpace(_input[i]))
        {
            i++;
        }

        return i - from;
    }

    private State? LexText()
    {
        var x = _input.IndexOf(LeftDelim, _pos, StringComparison.Ordinal);
        if (x >= 0)
        {
            _pos = x;
            var trimLength = 0;
            if (HasLeftTrimMarker(_pos + LeftDelim.Length))
            {
                trimLength = RightTrimLength(_start, _pos);
            }

            _pos -= trimLength;
            if (_pos > _start)
            {
                _line += CountNewlines(_start, _pos);
                Emit(ItemType.Text);
            }

            _pos += trimLength;
            Ignore();
            return LexLeftDelim;
        }

        _pos = _input.Length;
        if (_pos > _start)
        {
            _line += CountNewlines(_start, _pos);
            Emit(ItemType.Text);
        }

        Emit(ItemType.Eof);
        return null;
    }

    private State? LexLeftDelim()
    {
        _pos += LeftDelim.Length;
        var trimSpace = HasLeftTrimMarker(_pos);
        var afterMarker = trimSpace ? TrimMarkerLen : 0;
        if (StartsWithAt(_pos + afterMarker, LeftComment))
        {
            _pos += afterMarker;
            Ignore();
            return LexComment;
        }

        Emit(ItemType.LeftDelim);
        _pos += afterMarker;
        Ignore();
        _parenDepth = 0;
        return LexInsideAction;
    }

    private State? LexComment()
    {
        _pos += LeftComment.Length;
        var x = _input.IndexOf(RightComment, _pos, StringComparison.Ordinal);
        if (x < 0)
        {
            return Errorf("unclosed comment");
        }

        _pos = x + RightComment.Length;
        var (delim, trimSpace) = AtRightDelim();
        if (!delim)
        {
            return Errorf("comment ends before closing delimiter");
        }

        if (trimSpace)
        {
            _pos += TrimMarkerLen;
        }

        _pos += RightDelim.Length;
        if (trimSpace)
        {
            _pos += LeftTrimLength(_pos);
        }

        Ignore();
        return LexText;
    }

    private State? LexRightDelim()
    {
        var trimSpace = HasRightTrimMarker(_pos);
        if (trimSpace)
        {
            _pos += TrimMarkerLen;
            Ignore();
        }

        _pos += RightDelim.Length;
        Emit(ItemType.RightDelim);
        if (trimSpace)
        {
            _pos += LeftTrimLength(_pos);
            Ignore();
        }

        return LexText;
    }

    private State? LexInsideAction()
    {
        var (delim, _) = AtRightDelim();
        if (delim)
        {
            return _parenDepth == 0 ? LexRightDelim : Errorf("unclosed left paren");
        }

        var r = Next();
        switch (r)
        {
            case EofRune:
                return Errorf("unclosed action");
            case ' ' or '\t' or '\r' or '\n':
                Backup();
                return LexSpace;
            case '=':
                Emit(ItemType.Assign);
                break;
            case ':':
                if (Next() != '=')
                {
                    return Errorf("expected :=");
                }

                Emit(ItemType.Declare);
                break;
            case '|':
                Emit(ItemType.Pipe);
                break;
            case '"':
                return LexQuote;
            case '`':
                return LexRawQuote;
            case '$':
                return LexVariable;
            case '\'':
                return LexChar;
            case '.' when _pos < _input.Length && (_input[_pos] < '0' || _input[_pos] > '9'):
                return LexField;
            case '.' or '+' or '-' or (>= '0' and <= '9'):
                Backup();
                return LexNumber;
            case '(':
                Emit(ItemType.LeftParen);
                _parenDepth++;
                break;
            case ')':
                Emit(ItemType.RightParen);
                _parenDepth--;
                if (_parenDepth < 0)
                {
                    return Errorf("unexpected right paren U+0029 ')'");
                }

                break;
            default:
                if (IsAlphaNumeric(r))
                {
                    Backup();
                    return LexIdentifier;
                }

                if (r <= 127 && r >= 0x20 && r != 0x7f)
                {
                    Emit(ItemType.Char);
                    break;
                }

                return Errorf("unrecognized character in action: " + GoFormatter.SharpU(r));
        }

        return LexInsideAction;
    }

    private State? LexSpace()
    {
        var numSpaces = 0;
        while (IsSpace(Peek()))
        {
            Next();
            numSpaces++;
        }

        if (HasRightTrimMarker(_pos - 1) && StartsWithAt(_pos - 1 + TrimMarkerLen, RightDelim))
        {
            Backup();
            if (numSpaces == 1)
            {
                return LexRightDelim;
            }
        }

        Emit(ItemType.Space);
        return LexInsideAction;
    }

    private State? LexIdentifier()
    {
        while (true)
        {
            var r = Next();
            if (IsAlphaNumeric(r))
            {
                continue;
            }

            if (r != EofRune)
            {
                Backup();
            }

            var word = _input[_start.._pos];
            if (!AtTerminator())
            {
                return Errorf("bad character " + GoFormatter.SharpU(r));
            }

            if (_keywords.TryGetValue(word, out var keyword) && keyword > ItemType.Keyword)
            {
                if ((keyword == ItemType.Break && !_breakOk) || (keyword == ItemType.Continue && !_continueOk))
                {
                    Emit(ItemType.Identifier);
                }
                else
                {
                    Emit(keyword);
                }
            }
            else if (word[0] == '.')
            {
                Emit(ItemType.Field);
            }
            else if (word is "true" or "false")
            {
                Emit(ItemType.Bool);
            }
            else
            {
                Emit(ItemType.Identifier);
            }

            return LexInsideAction;
        }
    }

    private State? LexField() => LexFieldOrVariable(ItemType.Field);

    private State? LexVariable()
    {
        if (AtTerminator())
        {
            Emit(ItemType.Variable);
            return LexInsideAction;
        }

        return LexFieldOrVariable(ItemType.Variable);
    }

    private State? LexFieldOrVariable(ItemType type)
    {
        if (AtTerminator())
        {
            Emit(type == ItemType.Variable ? ItemType.Variable : ItemType.Dot);
            return LexInsideAction;
        }

        int r;
        while (true)
        {
            r = Next();
            if (!IsAlphaNumeric(r))
            {
                if (r != EofRune)
                {
                    Backup();
                }

                break;
            }
        }

        if (!AtTerminator())
        {
            return Errorf("bad character " + GoFormatter.SharpU(r));
        }

        Emit(type);
        return LexInsideAction;
    }

    private bool AtTerminator()
    {
        var r = Peek();
        if (IsSpace(r))
        {
            return true;
        }

        return r is EofRune or '.' or ',' or '|' or ':' or ')' or '(' or '}';
    }

    private State? LexChar()
    {
        while (true)
        {
            var r = Next();
            if (r == '\\')
            {
                var n = Next();
                if (n != EofRune && n != '\n')
                {
                    continue;
                }

                return Errorf("unterminated character constant");
            }

            if (r is EofRune or '\n')
            {
                return Errorf("unterminated character constant");
            }

            if (r == '\'')
            {
                break;
            }
        }

        Emit(ItemType.CharConstant);
        return LexInsideAction;
    }

    private State? LexNumber()
    {
        if (!ScanNumber())
        {
            return Errorf("bad number syntax: " + GoFormatter.Quote(_input[_start.._pos]));
        }

        var sign = Peek();
        if (sign is '+' or '-')
        {
            if (!ScanNumber() || _input[_pos - 1] != 'i')
            {
                return Errorf("bad number syntax: " + GoFormatter.Quote(_input[_start.._pos]));
            }

            Emit(ItemType.Complex);
        }
        else
        {
            Emit(ItemType.Number);
        }

        return LexInsideAction;
    }

    private bool ScanNumber()
    {
        Accept("+-");
        var digits = "0123456789_";
        if (Accept("0"))
        {
            if (Accept("xX"))
            {
                digits = "0123456789abcdefABCDEF_";
            }
            else if (Accept("oO"))
            {
                digits = "01234567_";
            }
            else if (Accept("bB"))
            {
                digits = "01_";
            }
        }

        AcceptRun(digits);
        if (Accept("."))
        {
            AcceptRun(digits);
        }

        if (digits.Length == 11 && Accept("eE"))
        {
            Accept("+-");
            AcceptRun("0123456789_");
        }

        if (digits.Length == 23 && Accept("pP"))
        {
            Accept("+-");
            AcceptRun("0123456789_");
        }

        Accept("i");
        if (IsAlphaNumeric(Peek()))
        {
            Next();
            return false;
        }

        return true;
    }

    private State? LexQuote()
    {
        while (true)
        {
            var r = Next();
            if (r == '\\')
            {
                var n = Next();
                if (n != EofRune && n != '\n')
                {
                    continue;
                }

                return Errorf("unterminated quoted string");
            }

            if (r is EofRune or '\n')
            {
                return Errorf("unterminated quoted string");
            }

            if (r == '"')
            {
                break;
            }
        }

        Emit(ItemType.String);
        return LexInsideAction;
    }

    private State? LexRawQuote()
    {
        while (true)
        {
            var r = Next();
            if (r == EofRune)
            {
                return Errorf("unterminated raw quoted string");
            }

            if (r == '`')
            {
                break;
            }
        }

        Emit(ItemType.RawString);
        return LexInsideAction;
    }
}

using System.Text;

namespace Pitrix.Drone;

/// <summary>
/// Splits a lifecycle command into argv words the way a POSIX shell splits words, without any of a shell's
/// expansions. Quoting works as in <c>sh</c> (single quotes are literal, double quotes honour <c>\"</c>, <c>\\</c>,
/// <c>\$</c> and <c>\`</c>, a backslash outside quotes escapes the next character), but an unquoted character that
/// a shell would act on (<c>$</c>, backquote, <c>;</c>, <c>|</c>, <c>&amp;</c>, redirections, parentheses, globs)
/// is refused rather than passed on: a command that relies on expansion would silently do something else, and
/// values belong in environment variables, not in the command string.
/// </summary>
public static class CommandLine
{
    private const string Refused = "$`;|&<>()*?[";

    /// <summary>Splits <paramref name="command"/>; returns false with a reason when it is empty or needs a shell.</summary>
    public static bool TrySplit(string command, out IReadOnlyList<string> argv, out string? error)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        var inWord = false;
        argv = words;
        error = null;
        for (var i = 0; i < command.Length; i++)
        {
            var c = command[i];
            switch (c)
            {
                case ' ' or '\t' or '\n' or '\r':
                    if (inWord)
                    {
                        words.Add(word.ToString());
                        word.Clear();
                        inWord = false;
                    }

                    break;
                case '\'':
                    var close = command.IndexOf('\'', i + 1);
                    if (close < 0)
                    {
                        error = $"unterminated single quote at offset {i}";
                        return false;
                    }

                    word.Append(command, i + 1, close - i - 1);
                    inWord = true;
                    i = close;
                    break;
                case '"':
                    inWord = true;
                    var closed = false;
                    for (i++; i < command.Length; i++)
                    {
                        var d = command[i];
                        if (d == '"')
                        {
                            closed = true;
                            break;
                        }

                        if (d == '\\' && i + 1 < command.Length && command[i + 1] is '"' or '\\' or '$' or '`' or '\n')
                        {
                            i++;
                            if (command[i] != '\n')
                            {
                                word.Append(command[i]);
                            }

                            continue;
                        }

                        if (d is '$' or '`')
                        {
                            error = $"'{d}' inside double quotes at offset {i} would be expanded by a shell; escape it, use single quotes, or pass the value as an environment variable";
                            return false;
                        }

                        word.Append(d);
                    }

                    if (!closed)
                    {
                        error = "unterminated double quote";
                        return false;
                    }

                    break;
                case '\\':
                    if (i + 1 >= command.Length)
                    {
                        error = "trailing backslash";
                        return false;
                    }

                    i++;
                    if (command[i] != '\n')
                    {
                        word.Append(command[i]);
                        inWord = true;
                    }

                    break;
                default:
                    if (Refused.Contains(c, StringComparison.Ordinal))
                    {
                        error = $"unquoted '{c}' at offset {i} needs a shell, which commands never run through; quote it to pass it literally, or put the logic in a script";
                        return false;
                    }

                    word.Append(c);
                    inWord = true;
                    break;
            }
        }

        if (inWord)
        {
            words.Add(word.ToString());
        }

        if (words.Count == 0)
        {
            error = "the command is empty";
            return false;
        }

        return true;
    }
}

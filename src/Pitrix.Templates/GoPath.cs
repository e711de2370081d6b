namespace Pitrix.Templates;

/// <summary>Go's path package (slash-separated, purely lexical): no file system access.</summary>
internal static class GoPath
{
    public static string Base(string path)
    {
        if (path.Length == 0)
        {
            return ".";
        }

        path = path.TrimEnd('/');
        if (path.Length == 0)
        {
            return "/";
        }

        var i = path.LastIndexOf('/');
        return i >= 0 ? path[(i + 1)..] : path;
    }

    public static string Dir(string path)
    {
        var i = path.LastIndexOf('/');
        return Clean(path[..(i + 1)]);
    }

    public static string Ext(string path)
    {
        for (var i = path.Length - 1; i >= 0 && path[i] != '/'; i--)
        {
            if (path[i] == '.')
            {
                return path[i..];
            }
        }

        return string.Empty;
    }

    public static string Clean(string path)
    {
        if (path.Length == 0)
        {
            return ".";
        }

        var rooted = path[0] == '/';
        var parts = new List<string>();
        foreach (var part in path.Split('/'))
        {
            if (part.Length == 0 || part == ".")
            {
                continue;
            }

            if (part == "..")
            {
                if (parts.Count > 0 && parts[^1] != "..")
                {
                    parts.RemoveAt(parts.Count - 1);
                }
                else if (!rooted)
                {
                    parts.Add("..");
                }

                continue;
            }

            parts.Add(part);
        }

        var result = (rooted ? "/" : string.Empty) + string.Join("/", parts);
        return result.Length == 0 ? "." : result;
    }

    /// <summary>Go's path.Match (shell pattern: * ? [...] and \ escapes).</summary>
    public static bool Match(string pattern, string name)
    {
        return MatchAt(pattern, 0, name, 0);
    }

    private static bool MatchAt(string p, int pi, string s, int si)
    {
        while (pi < p.Length)
        {
            var c = p[pi];
            switch (c)
            {
                case '*':
                    pi++;
                    for (var k = si; k <= s.Length; k++)
                    {
                        if (MatchAt(p, pi, s, k))
                        {
                            return true;
                        }

                        if (k < s.Length && s[k] == '/')
                        {
                            return false;
                        }
                    }

                    return false;
                case '?':
                    if (si >= s.Length || s[si] == '/')
                    {
                        return false;
                    }

                    pi++;
                    si++;
                    break;
                case '[':
                    {
                        if (si >= s.Length || s[si] == '/')
                        {
                            return false;
                        }

                        var end = p.IndexOf(']', pi + 1);
                        if (end < 0)
                        {
                            throw new TemplateFunctionException("syntax error in pattern");
                        }

                        var cls = p[(pi + 1)..end];
                        var negate = cls.StartsWith('^');
                        if (negate)
                        {
                            cls = cls[1..];
                        }

                        var matched = false;
                        for (var k = 0; k < cls.Length; k++)
                        {
                            if (k + 2 < cls.Length && cls[k + 1] == '-')
                            {
                                matched |= s[si] >= cls[k] && s[si] <= cls[k + 2];
                                k += 2;
                            }
                            else
                            {
                                matched |= s[si] == cls[k];
                            }
                        }

                        if (matched == negate)
                        {
                            return false;
                        }

                        pi = end + 1;
                        si++;
                        break;
                    }

                case '\\':
                    pi++;
                    if (pi >= p.Length)
                    {
                        throw new TemplateFunctionException("syntax error in pattern");
                    }

                    if (si >= s.Length || s[si] != p[pi])
                    {
                        return false;
                    }

                    pi++;
                    si++;
                    break;
                default:
                    if (si >= s.Length || s[si] != c)
                    {
                        return false;
                    }

                    pi++;
                    si++;
                    break;
            }
        }

        return si == s.Length;
    }
}

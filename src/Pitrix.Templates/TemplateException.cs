namespace Pitrix.Templates;

/// <summary>Stable error codes carried by <see cref="TemplateException"/>.</summary>
public static class TemplateErrorCodes
{
    /// <summary>The template text could not be parsed.</summary>
    public const string ParseError = "template.parse_error";

    /// <summary>Execution failed: a bad field, a wrong argument, a function returned an error.</summary>
    public const string ExecError = "template.exec_error";

    /// <summary>A configured limit (recursion, iterations, output size, time) was exceeded.</summary>
    public const string LimitExceeded = "template.limit_exceeded";

    /// <summary>A named template was requested that does not exist.</summary>
    public const string NotFound = "template.not_found";
}

/// <summary>
/// A template failed to parse or execute. <see cref="Exception.Message"/> is formatted the way Go's
/// text/template formats it, for example <c>template: t:3:7: executing "t" at &lt;.x&gt;: ...</c>.
/// </summary>
public sealed class TemplateException : Exception
{
    public TemplateException()
        : this(TemplateErrorCodes.ExecError, "template error", string.Empty, 0, 0)
    {
    }

    public TemplateException(string message)
        : this(TemplateErrorCodes.ExecError, message, string.Empty, 0, 0)
    {
    }

    public TemplateException(string message, Exception innerException)
        : base(message, innerException)
    {
        Code = TemplateErrorCodes.ExecError;
        TemplateName = string.Empty;
    }

    public TemplateException(string code, string message, string templateName, int line, int column, Exception? innerException = null)
        : base(message, innerException)
    {
        Code = code;
        TemplateName = templateName;
        Line = line;
        Column = column;
    }

    /// <summary>A stable dotted code such as <c>template.parse_error</c>; see <see cref="TemplateErrorCodes"/>.</summary>
    public string Code { get; }

    /// <summary>The name of the template (or, for parse errors, of the text) where the error happened.</summary>
    public string TemplateName { get; }

    /// <summary>1-based line of the failing node, 0 if unknown.</summary>
    public int Line { get; }

    /// <summary>0-based byte column of the failing node within its line, as Go reports it; 0 for parse errors.</summary>
    public int Column { get; }
}

/// <summary>A template function returns this (or throws it) to fail with Go's "error calling f: message" shape.</summary>
public sealed class TemplateFunctionException : Exception
{
    public TemplateFunctionException()
    {
    }

    public TemplateFunctionException(string message)
        : base(message)
    {
    }

    public TemplateFunctionException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

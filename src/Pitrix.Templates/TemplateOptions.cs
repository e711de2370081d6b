namespace Pitrix.Templates;

/// <summary>What a missing map key evaluates to, as Go's <c>missingkey</c> option.</summary>
public enum MissingKeyMode
{
    /// <summary>Go's default: the missing value prints as <c>&lt;no value&gt;</c>.</summary>
    Default,

    /// <summary>The zero value of the map's element type (nil for untyped maps).</summary>
    Zero,

    /// <summary>Execution stops with an error.</summary>
    Error,
}

/// <summary>Parsing and execution options, including the limits that keep untrusted templates in check.</summary>
public sealed class TemplateOptions
{
    /// <summary>The configuration section hosts bind these options from.</summary>
    public const string SectionName = "Templates";

    /// <summary>Shared default options. Do not mutate.</summary>
    public static TemplateOptions Default { get; } = new();

    /// <summary>How missing map keys are treated. Default: <see cref="MissingKeyMode.Default"/>.</summary>
    public MissingKeyMode MissingKey { get; init; } = MissingKeyMode.Default;

    /// <summary>Maximum nesting of <c>template</c>/<c>include</c>/<c>tpl</c> calls. Default: 1000.</summary>
    public int MaxRecursionDepth { get; init; } = 1000;

    /// <summary>Maximum total range iterations in one execution. Default: 1,000,000.</summary>
    public long MaxRangeIterations { get; init; } = 1_000_000;

    /// <summary>Maximum output size in UTF-8 bytes, including what <c>include</c> and <c>tpl</c> render. Default: 16 MiB.</summary>
    public long MaxOutputBytes { get; init; } = 16L * 1024 * 1024;

    /// <summary>Maximum wall time for one execution. Default: 10 seconds.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Timeout for each regular expression match done by function libraries. Default: 1 second.</summary>
    public TimeSpan RegexTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first option that is out of range.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxRecursionDepth, 1, nameof(MaxRecursionDepth));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxRangeIterations, 0, nameof(MaxRangeIterations));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxOutputBytes, 0, nameof(MaxOutputBytes));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(Timeout, TimeSpan.Zero, nameof(Timeout));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(RegexTimeout, TimeSpan.Zero, nameof(RegexTimeout));
    }
}

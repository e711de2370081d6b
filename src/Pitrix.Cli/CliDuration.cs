using System.Globalization;
using System.Text;

namespace Pitrix.Cli;

/// <summary>
/// Durations on the command line as Go and Helm users write them: <c>90s</c>, <c>30m</c>, <c>1h30m</c>,
/// <c>2d</c>, or <c>0</c>. A bare number other than 0 is refused rather than guessed at.
/// </summary>
public static class CliDuration
{
    /// <summary>Parses a duration into whole seconds.</summary>
    public static bool TryParseSeconds(string? text, out int seconds, out string? error)
    {
        seconds = 0;
        error = null;
        text = text?.Trim() ?? "";
        if (text == "0")
        {
            return true;
        }

        if (text.Length == 0)
        {
            error = "A duration is empty; write for example 30m, 1h or 0.";
            return false;
        }

        long total = 0;
        var position = 0;
        while (position < text.Length)
        {
            var start = position;
            while (position < text.Length && char.IsAsciiDigit(text[position]))
            {
                position++;
            }

            if (position == start)
            {
                error = $"'{text}' is not a duration; write for example 90s, 30m, 1h30m or 0.";
                return false;
            }

            if (position == text.Length)
            {
                error = $"'{text}' needs a unit (s, m, h or d), for example {text[start..]}m.";
                return false;
            }

            if (text[position] is '.' or ',')
            {
                error = $"'{text}' has a fraction; write whole units, for example 1h30m.";
                return false;
            }

            long unit = text[position] switch
            {
                's' => 1,
                'm' => 60,
                'h' => 3600,
                'd' => 86400,
                _ => 0,
            };
            if (unit == 0)
            {
                error = $"'{text}' has an unknown unit '{text[position]}'; use s, m, h or d.";
                return false;
            }

            if (!long.TryParse(text.AsSpan(start, position - start), NumberStyles.None, CultureInfo.InvariantCulture, out var amount) || amount > int.MaxValue)
            {
                error = $"'{text}' is too long.";
                return false;
            }

            total += amount * unit;
            if (total > int.MaxValue)
            {
                error = $"'{text}' is too long.";
                return false;
            }

            position++;
        }

        seconds = (int)total;
        return true;
    }

    /// <summary>Parses a duration given as the value of <paramref name="option"/>, or says what is wrong with it.</summary>
    public static int ParseSeconds(string text, string option) =>
        TryParseSeconds(text, out var seconds, out var error) ? seconds : throw new CliInputException($"{option}: {error}");

    /// <summary>Writes seconds back in the same notation, largest units first: 5400 → <c>1h30m</c>.</summary>
    public static string Format(long seconds)
    {
        if (seconds <= 0)
        {
            return "0";
        }

        var text = new StringBuilder();
        foreach (var (unit, suffix) in new[] { (86400L, 'd'), (3600L, 'h'), (60L, 'm'), (1L, 's') })
        {
            if (seconds >= unit)
            {
                text.Append(CultureInfo.InvariantCulture, $"{seconds / unit}{suffix}");
                seconds %= unit;
            }
        }

        return text.ToString();
    }
}

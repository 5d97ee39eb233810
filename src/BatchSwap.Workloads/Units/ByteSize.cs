using System.Globalization;

namespace BatchSwap.Workloads.Units;

/// <summary>
/// Parses and formats byte sizes for the CLI and reports. Accepted: a whole number of bytes (<c>4096</c>, optional
/// <c>B</c>), or a number with a binary unit — <c>KiB MiB GiB TiB</c>, also <c>K M G T</c> and <c>KB MB GB TB</c>,
/// all meaning powers of 1024, case-insensitive, optional space (<c>512MiB</c>, <c>1.5GiB</c>, <c>2G</c>, <c>64 kib</c>).
/// A fraction is allowed when the result is a whole number of bytes. A leading minus sign parses to a negative value so that
/// the caller can reject it with a message naming the option; <see cref="ParsePositive"/> does both in one step.
/// </summary>
public static class ByteSize
{
    /// <summary>1024 bytes.</summary>
    public const long KiB = 1L << 10;

    /// <summary>1024 KiB.</summary>
    public const long MiB = 1L << 20;

    /// <summary>1024 MiB.</summary>
    public const long GiB = 1L << 30;

    /// <summary>1024 GiB.</summary>
    public const long TiB = 1L << 40;

    /// <summary>A description of the accepted forms, used in error messages.</summary>
    public const string AcceptedForms =
        "use a whole number of bytes (4096) or a number with a binary unit: KiB, MiB, GiB, TiB (or K, M, G, T, or KB, MB, GB, TB; case-insensitive), e.g. 64KiB, 512MiB, 1.5GiB, 2G";

    // Longest text considered; longer input is rejected before parsing numbers.
    private const int MaxTextLength = 64;

    // Units for Format, largest first.
    private static readonly (long Size, string Name)[] FormatUnits = [(TiB, "TiB"), (GiB, "GiB"), (MiB, "MiB"), (KiB, "KiB")];

    /// <summary>Parses a size; returns false (and 0) when <paramref name="text"/> is not one.</summary>
    public static bool TryParse(string? text, out long bytes) => TryParse(text, out bytes, out _);

    /// <summary>Parses a size; on failure returns false with a one-sentence <paramref name="error"/> naming the accepted forms.</summary>
    public static bool TryParse(string? text, out long bytes, out string? error)
    {
        bytes = 0;
        error = TryParseCore(text, out bytes);
        if (error is not null)
        {
            bytes = 0;
            return false;
        }

        return true;
    }

    /// <summary>Parses a size.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is null.</exception>
    /// <exception cref="FormatException">The text is not a size, is too large, or is not a whole number of bytes; the message names the accepted forms.</exception>
    public static long Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string? error = TryParseCore(text, out long bytes);
        if (error is not null)
        {
            throw new FormatException(error);
        }

        return bytes;
    }

    /// <summary>Parses a size that must be greater than zero, such as <c>--size</c> or <c>--limit</c>.</summary>
    /// <param name="text">The text given by the user.</param>
    /// <param name="name">What the size is, for the message ("--size").</param>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> or <paramref name="name"/> is null.</exception>
    /// <exception cref="FormatException">The text is not a size, or the size is zero or negative.</exception>
    public static long ParsePositive(string text, string name)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(name);
        string? error = TryParseCore(text, out long bytes);
        if (error is not null)
        {
            throw new FormatException($"{name}: {error}");
        }

        error = CheckPositive(bytes, name);
        if (error is not null)
        {
            throw new FormatException(error);
        }

        return bytes;
    }

    /// <summary>Null when <paramref name="bytes"/> is greater than zero, else a message such as "--size must be greater than zero (got 0 B)".</summary>
    public static string? CheckPositive(long bytes, string name) =>
        bytes > 0 ? null : $"{name} must be greater than zero (got {FormatExact(bytes)}).";

    /// <summary>
    /// Null when <paramref name="bytes"/> is a multiple of <paramref name="unit"/> (for example a page, 4096, or a folio,
    /// 4096 × 2^order), else a message such as "--size (4100 bytes) must be a multiple of 4 KiB".
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="unit"/> is not positive.</exception>
    public static string? CheckMultipleOf(long bytes, long unit, string name)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(unit);
        return bytes % unit == 0 ? null : $"{name} ({FormatExact(bytes)}) must be a multiple of {FormatExact(unit)}.";
    }

    /// <summary>
    /// Formats a size for reports in the largest binary unit not above it, with up to two decimals: "256 MiB",
    /// "1.5 GiB", "12.34 MiB", "4 KiB", "100 B". Values that need no more than two decimals are exact and parse back
    /// to the same number; others are rounded (use <see cref="FormatExact"/> where that matters).
    /// </summary>
    public static string Format(long bytes)
    {
        decimal magnitude = Math.Abs((decimal)bytes);
        string sign = bytes < 0 ? "-" : string.Empty;
        foreach ((long size, string name) in FormatUnits)
        {
            if (magnitude >= size)
            {
                decimal scaled = Math.Round(magnitude / size, 2, MidpointRounding.AwayFromZero);
                return string.Create(CultureInfo.InvariantCulture, $"{sign}{scaled:0.##} {name}");
            }
        }

        return string.Create(CultureInfo.InvariantCulture, $"{sign}{magnitude} B");
    }

    /// <summary>
    /// <see cref="Format"/> when that is exact ("256 MiB", "1.5 GiB"), else the number of bytes ("4100 bytes"), for
    /// messages that must not round ("--size (4100 bytes) must be a multiple of 4 KiB").
    /// </summary>
    public static string FormatExact(long bytes)
    {
        string formatted = Format(bytes);
        return TryParseCore(formatted, out long back) is null && back == bytes
            ? formatted
            : string.Create(CultureInfo.InvariantCulture, $"{bytes} bytes");
    }

    // Parses text into bytes; returns null on success, else the error message.
    private static string? TryParseCore(string? text, out long bytes)
    {
        bytes = 0;
        if (string.IsNullOrWhiteSpace(text))
        {
            return $"No size was given; {AcceptedForms}.";
        }

        ReadOnlySpan<char> s = text.AsSpan().Trim();
        if (s.Length > MaxTextLength)
        {
            return $"'{text}' is not a size; {AcceptedForms}.";
        }

        // Split into [-]digits[.digits] and the unit.
        int i = 0;
        bool negative = false;
        if (s[0] == '-' || s[0] == '+')
        {
            negative = s[0] == '-';
            i = 1;
        }

        int numberStart = i;
        int integerDigits = 0;
        while (i < s.Length && char.IsAsciiDigit(s[i]))
        {
            i++;
            integerDigits++;
        }

        int fractionDigits = 0;
        if (i < s.Length && s[i] == '.')
        {
            i++;
            while (i < s.Length && char.IsAsciiDigit(s[i]))
            {
                i++;
                fractionDigits++;
            }

            if (fractionDigits == 0)
            {
                return $"'{text}' is not a size; {AcceptedForms}.";
            }
        }

        if (integerDigits == 0 || integerDigits > 20 || fractionDigits > 9)
        {
            return integerDigits > 20
                ? $"'{text}' is too large; the largest size is {long.MaxValue} bytes."
                : $"'{text}' is not a size; {AcceptedForms}.";
        }

        ReadOnlySpan<char> number = s[numberStart..i];
        ReadOnlySpan<char> unit = s[i..].TrimStart();
        long multiplier = UnitMultiplier(unit);
        if (multiplier == 0)
        {
            return $"'{text}' has an unknown unit '{unit.ToString()}'; {AcceptedForms}.";
        }

        decimal value = decimal.Parse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);
        if (value > long.MaxValue / (decimal)multiplier)
        {
            return $"'{text}' is too large; the largest size is {long.MaxValue} bytes.";
        }

        decimal exact = value * multiplier;
        if (exact != decimal.Truncate(exact))
        {
            return string.Create(
                CultureInfo.InvariantCulture,
                $"'{text}' is not a whole number of bytes ({exact} bytes); {AcceptedForms}.");
        }

        bytes = (long)exact;
        if (negative)
        {
            bytes = -bytes;
        }

        return null;
    }

    // The multiplier of a unit suffix (already trimmed), or 0 when the unit is unknown.
    private static long UnitMultiplier(ReadOnlySpan<char> unit)
    {
        if (unit.IsEmpty || unit.Equals("B", StringComparison.OrdinalIgnoreCase))
        {
            return 1;
        }

        long size = char.ToUpperInvariant(unit[0]) switch
        {
            'K' => KiB,
            'M' => MiB,
            'G' => GiB,
            'T' => TiB,
            _ => 0,
        };

        ReadOnlySpan<char> rest = unit[1..];
        bool suffixOk = rest.IsEmpty
            || rest.Equals("B", StringComparison.OrdinalIgnoreCase)
            || rest.Equals("iB", StringComparison.OrdinalIgnoreCase);
        return suffixOk ? size : 0;
    }
}

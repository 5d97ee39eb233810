using System.Globalization;

namespace ExternalSort;

/// <summary>
/// <c>dotnet run --project samples/ExternalSort -- [KEYS] [MEMORY_MIB]</c>: sorts KEYS random 64-bit keys (default
/// 64 Mi keys = 512 MiB, twice) in a memory tier of MEMORY_MIB MiB (default 128) and prints what the tier did.
/// </summary>
public static class Program
{
    /// <summary>Parses the two optional arguments, sorts, and returns 0 when the output is sorted.</summary>
    public static int Main(string[] args)
    {
        long keys = args.Length > 0 ? long.Parse(args[0], CultureInfo.InvariantCulture) : 64L << 20;
        long memoryMib = args.Length > 1 ? long.Parse(args[1], CultureInfo.InvariantCulture) : 128;
        SortReport report = Sorter.Run(new SortOptions(keys, memoryMib << 20), Console.Out);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{report.Keys:N0} keys, {report.Runs} runs: generate {report.Generate.TotalSeconds:F2} s, runs {report.RunPhase.TotalSeconds:F2} s, merge {report.MergePhase.TotalSeconds:F2} s; data {2.0 * report.Keys * 8 / report.FrameBytes:F1}x the tier's frames"));
        return report.Sorted ? 0 : 1;
    }
}

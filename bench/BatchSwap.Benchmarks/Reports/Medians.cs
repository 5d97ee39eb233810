namespace BatchSwap.Benchmarks.Reports;

/// <summary>The median the non-BenchmarkDotNet reports summarise their rounds with.</summary>
internal static class Medians
{
    /// <summary>The middle value, or the mean of the two middle values when there is an even number of them.</summary>
    public static double Of(IEnumerable<double> values)
    {
        double[] sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}

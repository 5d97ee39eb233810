using BatchSwap.Workloads.Metrics;

namespace BatchSwap.Workloads.Workloads;

/// <summary>
/// The pages a usemem run works on, one set a worker: regions through the tier's API, or transparent mappings through
/// plain memory. <see cref="Usemem.RunWorkers"/> runs the same load over either.
/// </summary>
internal interface IUsememPages
{
    /// <summary>Writes <paramref name="data"/> as page <paramref name="page"/> of <paramref name="worker"/>'s set.</summary>
    void Fill(int worker, long page, ReadOnlySpan<byte> data);

    /// <summary>
    /// Touches page <paramref name="page"/> of <paramref name="worker"/>'s set, records the time to bring it in in
    /// <paramref name="faults"/> when it was not resident, and says whether it holds <paramref name="expected"/>.
    /// </summary>
    bool Check(int worker, long page, ReadOnlySpan<byte> expected, LatencyHistogram faults);
}

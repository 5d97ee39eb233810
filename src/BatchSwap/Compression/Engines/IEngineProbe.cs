namespace BatchSwap.Compression.Engines;

/// <summary>
/// Watches <see cref="CpuEngines"/>' threads at their decision points, so tests can hold an engine where a busy
/// machine would (given at construction; production engines have none).
/// </summary>
internal interface IEngineProbe
{
    /// <summary>Called on engine <paramref name="engine"/>'s thread each time it looks at its slot, before it takes an
    /// offer (an engine held here is one that is not getting a core: its slot still says it is free).</summary>
    void BeforeTake(int engine);

    /// <summary>Called on engine <paramref name="engine"/>'s thread after it took an offer, before it claims jobs (an
    /// engine held here is a helper that woke late).</summary>
    void AfterTake(int engine);
}

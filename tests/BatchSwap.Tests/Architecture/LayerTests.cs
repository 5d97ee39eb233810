using System.Reflection;
using NetArchTest.Rules;

namespace BatchSwap.Tests.Architecture;

/// <summary>
/// Layers go one way: each namespace of the engine may use the ones below it, never one above. The order, bottom
/// first, is the one the code is built in (MemoryTier's constructor) and the lock order's.
/// </summary>
public sealed class LayerTests
{
    /// <summary>The engine's layers, bottom first. Namespaces in one layer do not use each other either (leaves).</summary>
    private static readonly string[][] Layers =
    [
        ["Threading", "Stats", "Faults", "Pageout", "Telemetry"],
        ["Memory"],
        ["Compression"],
        ["Tunables"],
        ["Pool"],
        ["Swap"],
        ["Lru"],
        ["MemCg"],
        ["Zswap"],
        ["Reclaim"],
        ["Access"],
        ["Transparent"],
    ];

    private static readonly Assembly Engine = typeof(MemoryTier).Assembly;

    public static TheoryData<string> Namespaces()
    {
        var data = new TheoryData<string>();
        foreach (string[] layer in Layers) foreach (string ns in layer) data.Add(ns);
        return data;
    }

    [Theory]
    [MemberData(nameof(Namespaces))]
    public void ALayerUsesNothingAboveIt(string ns)
    {
        int level = Array.FindIndex(Layers, l => l.Contains(ns));
        // Above: every higher layer, the other namespaces of the same layer, and the tier itself (the root namespace).
        var above = Layers.Skip(level + 1).SelectMany(l => l).Concat(Layers[level].Where(n => n != ns))
            .Select(n => $"BatchSwap.{n}.").ToList();
        above.AddRange(RootTypes());

        TestResult result = Types.InAssembly(Engine).That().ResideInNamespace($"BatchSwap.{ns}.")
            .ShouldNot().HaveDependencyOnAny(above.ToArray()).GetResult();

        Assert.True(result.IsSuccessful,
            $"BatchSwap.{ns} uses a layer above it: {string.Join(", ", result.FailingTypeNames ?? [])}");
    }

    [Fact]
    public void EveryNamespaceHasALayer()
    {
        var known = Layers.SelectMany(l => l).ToHashSet();
        var unplaced = Engine.GetTypes()
            .Select(t => t.Namespace)
            .Where(n => n is not null && n.StartsWith("BatchSwap.", StringComparison.Ordinal))
            .Select(n => n!["BatchSwap.".Length..].Split('.')[0])
            .Where(n => !known.Contains(n))
            .Distinct()
            .ToList();
        Assert.Empty(unplaced);
    }

    /// <summary>The root namespace's types (MemoryTier, TierOptions ...): the top, which nothing below may use.</summary>
    private static IEnumerable<string> RootTypes() =>
        Engine.GetTypes().Where(t => t.Namespace == "BatchSwap" && !t.Name.StartsWith('<')).Select(t => t.FullName!);
}

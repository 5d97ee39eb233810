using BatchSwap.Pageout;
using BatchSwap.Reclaim;

namespace BatchSwap.Tests.Engine;

/// <summary>The plug's flush policy: every rule of the seed, one test each.</summary>
public sealed class ReclaimPlugTests
{
    private static PageoutFolio Folio(int head, int order = 0, int type = 0) => new() { Head = head, Order = order, SwapType = type, SlotOffset = head };

    [Fact]
    public void FlushesWhenFull()
    {
        var plug = new ReclaimPlug();
        plug.Begin(batchSize: 4);
        for (int i = 0; i < 3; i++)
        {
            Assert.False(plug.MustFlushBefore(Folio(i), 0, out _));
            Assert.False(plug.Add(Folio(i), 0, out _));
        }
        Assert.True(plug.Add(Folio(3), 0, out FlushReason reason));
        Assert.Equal(FlushReason.Full, reason);
        Assert.Equal(4, plug.Count);
    }

    [Fact]
    public void BatchOfOneFlushesEveryFolio()
    {
        var plug = new ReclaimPlug();
        plug.Begin(batchSize: 1);
        Assert.True(plug.Add(Folio(0), 0, out FlushReason reason));
        Assert.Equal(FlushReason.Full, reason);
    }

    [Fact]
    public void FlushesBeforeAnotherSwapType()
    {
        var plug = new ReclaimPlug();
        plug.Begin(32);
        plug.Add(Folio(0, type: 0), 0, out _);
        Assert.True(plug.MustFlushBefore(Folio(1, type: 1), 0, out FlushReason reason));
        Assert.Equal(FlushReason.OtherSwapType, reason);
        Assert.False(plug.MustFlushBefore(Folio(1, type: 0), 0, out _));
    }

    [Fact]
    public void FlushesBeforeAnotherNode()
    {
        var plug = new ReclaimPlug();
        plug.Begin(32);
        plug.Add(Folio(0), node: 0, out _);
        Assert.True(plug.MustFlushBefore(Folio(1), node: 1, out FlushReason reason));
        Assert.Equal(FlushReason.OtherNode, reason);
    }

    [Fact]
    public void PmdMappableFolioFlushesTheBatchBeforeItAndGoesAlone()
    {
        var plug = new ReclaimPlug();
        plug.Begin(32);
        plug.Add(Folio(0, order: 2), 0, out _);
        plug.Add(Folio(4, order: 8), 0, out _); // any non-pmd order mixes freely
        Assert.True(plug.MustFlushBefore(Folio(512, order: 9), 0, out FlushReason before));
        Assert.Equal(FlushReason.PmdMappable, before);
        plug.Clear();
        Assert.False(plug.MustFlushBefore(Folio(512, order: 9), 0, out _)); // an empty plug takes it
        Assert.True(plug.Add(Folio(512, order: 9), 0, out FlushReason after));
        Assert.Equal(FlushReason.PmdMappable, after);
        Assert.Equal(1, plug.Count);
    }

    [Fact]
    public void KeepsFoliosInOrderWithTheirOwnOutcome()
    {
        var plug = new ReclaimPlug();
        plug.Begin(8);
        for (int i = 0; i < 5; i++) plug.Add(Folio(i * 10), 0, out _);
        Span<PageoutFolio> folios = plug.Folios;
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(i * 10, folios[i].Head);
            Assert.Equal(PageoutOutcome.Pending, folios[i].Outcome);
        }
        folios[2].Outcome = PageoutOutcome.Rejected;
        Assert.Equal(PageoutOutcome.Rejected, plug.Folios[2].Outcome);
        Assert.Equal(PageoutOutcome.Pending, plug.Folios[3].Outcome);
    }
}

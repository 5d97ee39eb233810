namespace BatchSwap.Workloads.PageSources;

/// <summary>The content class of one page of a <see cref="GeneratedPageSource"/>.</summary>
public enum GeneratedPageKind : byte
{
    /// <summary>All 4096 bytes zero (never-written or cleared memory; zswap stores these without compressing).</summary>
    Zero = 0,

    /// <summary>One non-zero 8-byte word repeated 512 times (memset patterns, poison values; zswap's same-filled pages).</summary>
    SameFilled = 1,

    /// <summary>
    /// 64-bit heap-like data: arrays of small structs (type pointers shared across the image, reference counts,
    /// nearby heap pointers <c>0x0000_55..</c>/<c>0x0000_7f..</c>, small integers, zero padding, an occasional hash),
    /// pointer vectors, and integer arrays.
    /// </summary>
    PointerLike = 2,

    /// <summary>ASCII text from a small embedded vocabulary: JSON-ish records, log lines, identifier string tables.</summary>
    TextLike = 3,

    /// <summary>Uniformly random bytes (already-compressed or encrypted data); LZ4 cannot shrink them.</summary>
    Random = 4,
}

/// <summary>
/// Relative weights of the page kinds of a <see cref="GeneratedPageSource"/>. Weights need not sum to 1; they are
/// normalised, and the page counts are apportioned exactly (largest remainder), so a source of N pages holds
/// round(N × weight / sum) pages of each kind, shuffled by the seed.
/// </summary>
/// <param name="Zero">Weight of <see cref="GeneratedPageKind.Zero"/> pages.</param>
/// <param name="SameFilled">Weight of <see cref="GeneratedPageKind.SameFilled"/> pages.</param>
/// <param name="PointerLike">Weight of <see cref="GeneratedPageKind.PointerLike"/> pages.</param>
/// <param name="TextLike">Weight of <see cref="GeneratedPageKind.TextLike"/> pages.</param>
/// <param name="Random">Weight of <see cref="GeneratedPageKind.Random"/> pages.</param>
public readonly record struct GeneratedPageMix(double Zero, double SameFilled, double PointerLike, double TextLike, double Random)
{
    /// <summary>
    /// The default mix: 10% zero, 5% same-filled, 35% pointer-like, 35% text-like, 15% random — an overall LZ4
    /// ratio of about 2.85:1, between an interpreter heap (about 3.7:1) and a media-heavy process (about 1.06:1).
    /// </summary>
    public static GeneratedPageMix Default { get; } = new(0.10, 0.05, 0.35, 0.35, 0.15);

    /// <summary>The weight of <paramref name="kind"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Unknown kind.</exception>
    public double WeightOf(GeneratedPageKind kind) => kind switch
    {
        GeneratedPageKind.Zero => Zero,
        GeneratedPageKind.SameFilled => SameFilled,
        GeneratedPageKind.PointerLike => PointerLike,
        GeneratedPageKind.TextLike => TextLike,
        GeneratedPageKind.Random => Random,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown page kind."),
    };

    /// <summary>Throws unless every weight is finite and non-negative and at least one is positive.</summary>
    /// <exception cref="ArgumentException">The mix is not usable.</exception>
    public void Validate()
    {
        double sum = 0;
        foreach (GeneratedPageKind kind in Enum.GetValues<GeneratedPageKind>())
        {
            double weight = WeightOf(kind);
            if (!double.IsFinite(weight) || weight < 0)
            {
                throw new ArgumentException($"The weight of {kind} pages must be a finite non-negative number (got {weight}).", "mix");
            }

            sum += weight;
        }

        if (sum <= 0)
        {
            throw new ArgumentException("At least one page kind must have a positive weight.", "mix");
        }
    }

    /// <summary>
    /// Pages of each kind (indexed by <see cref="GeneratedPageKind"/>) in a source of <paramref name="pageCount"/> pages:
    /// largest-remainder apportionment, ties to the lower kind, summing exactly to <paramref name="pageCount"/>.
    /// </summary>
    public int[] Apportion(int pageCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pageCount);
        Validate();
        GeneratedPageKind[] kinds = Enum.GetValues<GeneratedPageKind>();
        double sum = 0;
        foreach (GeneratedPageKind kind in kinds)
        {
            sum += WeightOf(kind);
        }

        int[] counts = new int[kinds.Length];
        double[] remainders = new double[kinds.Length];
        int assigned = 0;
        for (int k = 0; k < kinds.Length; k++)
        {
            double exact = pageCount * (WeightOf(kinds[k]) / sum);
            counts[k] = (int)Math.Floor(exact);
            remainders[k] = exact - counts[k];
            assigned += counts[k];
        }

        for (; assigned < pageCount; assigned++)
        {
            int best = 0;
            for (int k = 1; k < kinds.Length; k++)
            {
                if (remainders[k] > remainders[best])
                {
                    best = k;
                }
            }

            counts[best]++;
            remainders[best] = -1;
        }

        return counts;
    }
}

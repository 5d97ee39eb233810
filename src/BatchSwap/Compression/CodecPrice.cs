namespace BatchSwap.Compression;

/// <summary>
/// What one engine job costs a single thread, measured on sample pages with <see cref="MemoryTier.PriceCodec"/>:
/// the work an engine does per page, checksum and same-filled check included, so that the jobs a run counted
/// (<c>zswap_compress_jobs</c>, <c>zswap_decompress_jobs</c>) times these prices is the codec time the run needed.
/// </summary>
/// <param name="CompressNsPerPage">Nanoseconds of one compression job, averaged over every sample page (same-filled
/// pages cost only their hash and check, incompressible ones the whole attempt), median over repetitions.</param>
/// <param name="DecompressNsPerPage">Nanoseconds of one decompression job, averaged over the sample pages that
/// compressed (only those become decompression jobs), checksum verification included when it is on; median over
/// repetitions. 0 when no sample page compressed.</param>
/// <param name="Pages">Sample pages priced.</param>
/// <param name="CompressedPages">Sample pages that compressed below a page (the decompression price's sample).</param>
/// <param name="Repetitions">Timed repetitions over the sample.</param>
public readonly record struct CodecPrice(double CompressNsPerPage, double DecompressNsPerPage, int Pages, int CompressedPages, int Repetitions);

#!/usr/bin/env python3
"""Derives issue 3's targets from BenchmarkDotNet's GitHub-markdown reports of one run.

usage: derive_targets.py RESULTS_DIR   (the BenchmarkDotNet artifacts' results/ folder(s), several allowed)

(a) CpuEngines batch 32 on 2 cores >= 0.9 x 2 x single-thread codec throughput, per codec and page set
    (BatchThroughputBenchmarks: EnginesNBatch32 vs CodecSingleThread, same run);
(b) per-page cost at batch 32 <= 0.55 x one-at-a-time cost (BatchLatencyBenchmarks: Batch=32 vs Batch=0);
(c) 0 B allocated per operation on the codec and engine paths (every report's Allocated column).
"""
import glob
import os
import sys

UNITS = {"ns": 1.0, "μs": 1e3, "us": 1e3, "ms": 1e6, "s": 1e9}


def tables(paths):
    for path in paths:
        rows = [l.strip() for l in open(path, encoding="utf-8") if l.strip().startswith("|")]
        if len(rows) < 3:
            continue
        head = [c.strip() for c in rows[0].strip("|").split("|")]
        for r in rows[2:]:
            cells = [c.strip() for c in r.strip("|").split("|")]
            yield os.path.basename(path).split("-report")[0].split(".")[-1], dict(zip(head, cells))


def ns(text):
    value, unit = text.replace(",", "").split()
    return float(value) * UNITS[unit]


def main(dirs):
    paths = [p for d in dirs for p in glob.glob(os.path.join(d, "*-report-github.md"))]
    rows = list(tables(paths))
    out = []

    thr = {}
    for cls, r in rows:
        if cls == "BatchThroughputBenchmarks":
            thr[(r["Codec"], r["Source"], r["Method"])] = ns(r["Mean"])
    if thr:
        out.append("| Codec | Set | single-thread MB/s | all cores, codec alone MB/s | CpuEngines(1) b32 MB/s | CpuEngines(2) b32 MB/s | (a) target MB/s (0.9 × 2 × single) | (a) engines(1) | (a) engines(2) | engines(1) / raw all-core |")
        out.append("|---|---|---:|---:|---:|---:|---:|---|---|---:|")
        for (codec, src) in sorted({(c, s) for c, s, _ in thr}):
            mbps = lambda m: 4096 / thr[(codec, src, m)] * 1000 if (codec, src, m) in thr else float("nan")
            single, raw, e1, e2 = mbps("CodecSingleThread"), mbps("CodecAllCores"), mbps("Engines1Batch32"), mbps("Engines2Batch32")
            target = 0.9 * 2 * single
            verdict = lambda v: f"{'PASS' if v >= target else 'FAIL'} ({v / single:.2f}×)"
            out.append(f"| {codec} | {src} | {single:.0f} | {raw:.0f} | {e1:.0f} | {e2:.0f} | {target:.0f} | {verdict(e1)} | {verdict(e2)} | {e1 / raw:.2f} |")
        out.append("")

    lat = {}
    for cls, r in rows:
        if cls == "BatchLatencyBenchmarks":
            lat[(r["Codec"], r["Engines"], int(r["Batch"]))] = ns(r["Mean"])
    if lat:
        out.append("| Codec | Engines | one at a time ns/page | batch 1 | batch 2 | batch 4 | batch 8 | batch 16 | batch 32 | (b) batch 32 / one at a time (≤ 0.55) |")
        out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
        for (codec, eng) in sorted({(c, e) for c, e, _ in lat}):
            base = lat.get((codec, eng, 0))
            cells = [f"{lat[(codec, eng, b)]:.0f}" if (codec, eng, b) in lat else "-" for b in (1, 2, 4, 8, 16, 32)]
            b32 = lat.get((codec, eng, 32))
            verdict = f"{'PASS' if b32 / base <= 0.55 else 'FAIL'} ({b32 / base:.2f})" if base and b32 else "-"
            out.append(f"| {codec} | {eng} | {base:.0f} | " + " | ".join(cells) + f" | {verdict} |")
        out.append("")

    alloc = [(cls, r.get("Method", ""), r.get("Codec", ""), r.get("Source", r.get("Batch", "")), r.get("Allocated", "?")) for cls, r in rows]
    nonzero = [a for a in alloc if a[4] not in ("-", "0 B")]
    out.append(f"(c) Allocated column: {len(alloc) - len(nonzero)} of {len(alloc)} cases show 0 B (\"-\").")
    for a in nonzero:
        out.append(f"  - non-zero: {a[0]}.{a[1]} {a[2]} {a[3]}: {a[4]}")
    print("\n".join(out))


if __name__ == "__main__":
    main(sys.argv[1:])

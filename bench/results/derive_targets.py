#!/usr/bin/env python3
"""Derives issue 3's targets from one BenchmarkDotNet run.

usage: derive_targets.py LOG [LOG...]   (BenchmarkDotNet's console output, e.g. `... --quick --filter '*' | tee run.log`)

Per case it takes the workload iterations (ns per operation = per page in every benchmark here) and reports both
the mean and the median of the iterations; on a shared, noisy machine the median is the steadier of the two.
(a) CpuEngines batch 32 on 2 cores >= 0.9 x 2 x single-thread codec throughput, per codec and page set
    (BatchThroughputBenchmarks: EnginesNBatch32 vs CodecSingleThread, same run);
(b) per-page cost at batch 32 <= 0.55 x one-at-a-time cost (BatchLatencyBenchmarks: Batch=32 vs Batch=0);
(c) 0 B allocated per operation: the "Allocated" column of every summary table in the log.
"""
import re
import statistics
import sys

BENCH = re.compile(r"^// Benchmark: (\w+)\.(\w+): .*?\[(.*)\]\s*$")
RESULT = re.compile(r"^WorkloadResult\s+\d+: (\d+) op, ([\d.]+) ns")


def parse(paths):
    cases = {}
    for path in paths:
        key = None
        for line in open(path, encoding="utf-8", errors="replace"):
            m = BENCH.match(line)
            if m:
                params = dict(p.split("=", 1) for p in m.group(3).split(", "))
                key = (m.group(1), m.group(2), tuple(sorted(params.items())))
                cases[key] = []
                continue
            m = RESULT.match(line)
            if m and key:
                cases[key].append(float(m.group(2)) / int(m.group(1)))
    return cases


def allocations(paths):
    rows = []
    for path in paths:
        head = None
        for line in open(path, encoding="utf-8", errors="replace"):
            if not line.startswith("|"):
                head = None
                continue
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if head is None:
                head = cells
            elif not set(cells[0]) <= set("-: "):
                rows.append(dict(zip(head, cells)))
    return rows


def main(paths):
    cases = parse(paths)
    get = lambda cls, method, **p: cases.get((cls, method, tuple(sorted((k, str(v)) for k, v in p.items()))))
    out = []
    for stat_name, stat in (("median", statistics.median), ("mean", statistics.fmean)):
        thr = {(dict(k[2])["Codec"], dict(k[2])["Source"]) for k in cases if k[0] == "BatchThroughputBenchmarks"}
        if thr:
            out.append(f"Target (a), {stat_name} of the iterations, MB/s = 4096 B / time per page:")
            out.append("")
            out.append("| Codec | Set | codec 1 thread | codec all cores | PageWork 1 thread | CpuEngines(1) b32 | CpuEngines(2) b32 | target 0.9×2×single | (a) engines(1) | (a) engines(2) | engines(1) / codec all cores |")
            out.append("|---|---|---:|---:|---:|---:|---:|---:|---|---|---:|")
            for codec, src in sorted(thr):
                def mbps(method):
                    v = get("BatchThroughputBenchmarks", method, Codec=codec, Source=src)
                    return 4096 / stat(v) * 1000 if v else float("nan")
                single, raw, pw, e1, e2 = (mbps(m) for m in ("CodecSingleThread", "CodecAllCores", "PageWorkSingleThread", "Engines1Batch32", "Engines2Batch32"))
                target = 0.9 * 2 * single
                verdict = lambda v: f"{'PASS' if v >= target else 'FAIL'} ({v / single:.2f}× single)"
                out.append(f"| {codec} | {src} | {single:.0f} | {raw:.0f} | {pw:.0f} | {e1:.0f} | {e2:.0f} | {target:.0f} | {verdict(e1)} | {verdict(e2)} | {e1 / raw:.2f} |")
            out.append("")
        lat = {(dict(k[2])["Codec"], dict(k[2])["Engines"]) for k in cases if k[0] == "BatchLatencyBenchmarks"}
        if lat:
            out.append(f"Target (b), {stat_name} of the iterations, ns per page (batch B = 32/B runs of B pages through CpuEngines):")
            out.append("")
            out.append("| Codec | Engines | one at a time | batch 1 | batch 2 | batch 4 | batch 8 | batch 16 | batch 32 | (b) batch 32 / one at a time ≤ 0.55 |")
            out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
            for codec, eng in sorted(lat):
                ns = {b: stat(v) for b in (0, 1, 2, 4, 8, 16, 32)
                      if (v := get("BatchLatencyBenchmarks", "StorePages", Batch=b, Engines=eng, Codec=codec))}
                cells = " | ".join(f"{ns[b]:.0f}" if b in ns else "-" for b in (1, 2, 4, 8, 16, 32))
                r = ns[32] / ns[0] if 0 in ns and 32 in ns else float("nan")
                out.append(f"| {codec} | {eng} | {ns.get(0, float('nan')):.0f} | {cells} | {'PASS' if r <= 0.55 else 'FAIL'} ({r:.2f}) |")
            out.append("")
    rows = [r for r in allocations(paths) if "Allocated" in r]
    nonzero = [r for r in rows if r["Allocated"] not in ("-", "0 B")]
    out.append(f"Target (c): {len(rows) - len(nonzero)} of {len(rows)} cases show 0 B allocated per operation.")
    for r in nonzero:
        out.append(f"- not 0: {r.get('Method')} {r.get('Codec', '')} {r.get('Source', '')} {r.get('Batch', '')} {r.get('Engines', '')}: {r['Allocated']}")
    print("\n".join(out))


if __name__ == "__main__":
    main(sys.argv[1:])

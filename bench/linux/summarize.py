#!/usr/bin/env python3
"""Median table (Markdown) from the JSON lines of run-linux-zswap.sh.

usage: summarize.py results.jsonl [more.jsonl ...]

Groups runs by (pages file, compressor, access, order, workers, size, limit, passes) and prints
the median of each column, with the number of runs; configurations that could not run are
listed with their error.
"""
import json
import statistics
import sys
from collections import OrderedDict


def mib(b):
    return b / (1 << 20)


def idle_pct(r):
    """Machine-wide idle+iowait share of CPU time during the run (newer usemem only)."""
    c = r.get("machine_cpu_s")
    if not c:
        return float("nan")
    total = sum(c.values())
    return 100.0 * (c["idle"] + c["iowait"]) / total if total > 0 else float("nan")


def other_cpu(r):
    """Busy CPU time on the machine not spent by usemem's workers (other load, kworkers)."""
    c = r.get("machine_cpu_s")
    if not c:
        return float("nan")
    busy = sum(v for k, v in c.items() if k not in ("idle", "iowait"))
    return busy - r["user_s"] - r["sys_s"]


COLUMNS = [
    ("MiB/s", lambda r: r["throughput_mibps"], "{:.1f}"),
    ("MiB/s min-max", None, None),
    ("wall s", lambda r: r["wall_s"], "{:.2f}"),
    ("fill s", lambda r: r["fill_s"], "{:.2f}"),
    ("pass s", lambda r: r["pass_s"], "{:.2f}"),
    ("sys s", lambda r: r["sys_s"], "{:.2f}"),
    ("user s", lambda r: r["user_s"], "{:.2f}"),
    ("zswpout", lambda r: r["zswpout"], "{:.0f}"),
    ("zswpin", lambda r: r["zswpin"], "{:.0f}"),
    ("pswpout", lambda r: r["pswpout"], "{:.0f}"),
    ("pswpin", lambda r: r["pswpin"], "{:.0f}"),
    ("zswpwb", lambda r: r["zswpwb"], "{:.0f}"),
    ("swpout_zero", lambda r: r["vmstat"].get("swpout_zero", -1), "{:.0f}"),
    ("stored pages", lambda r: r["stored_pages"], "{:.0f}"),
    ("pool MiB", lambda r: mib(r["pool_total_size"]), "{:.1f}"),
    ("ratio", lambda r: r["stored_pages"] * 4096 / r["pool_total_size"] if r["pool_total_size"] > 0 else 0, "{:.2f}"),
    ("idle %", lambda r: idle_pct(r), "{:.0f}"),
    ("other CPU s", lambda r: other_cpu(r), "{:.1f}"),
    ("mismatches", lambda r: r["mismatches"], "{:.0f}"),
]


def main(paths):
    groups = OrderedDict()
    errors = OrderedDict()
    for path in paths:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                r = json.loads(line)
                if not r.get("ok"):
                    key = (r.get("pages_file"), r.get("compressor"))
                    errors[key] = r.get("error", "failed")
                    continue
                key = (r["pages_file"], r["compressor"], r["access"], r["order"], r["workers"],
                       r["size_bytes"], r["limit_bytes"], r["passes"], r.get("swap_backing", "file"))
                groups.setdefault(key, []).append(r)

    head = ["pages", "compressor", "access", "order", "swap", "W x S", "limit", "P", "runs"] + [c[0] for c in COLUMNS]
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join("---" for _ in head) + "|")
    for key, runs in groups.items():
        pages, comp, access, order, w, s, limit, p, backing = key
        cells = [pages.replace(".pages.zst", "").replace(".pages", ""), comp, access, str(order), backing,
                 f"{w} x {mib(s):.0f} MiB", f"{mib(limit):.0f} MiB", str(p), str(len(runs))]
        for name, get, fmt in COLUMNS:
            if get is None:  # spread of the throughput
                t = [r["throughput_mibps"] for r in runs]
                cells.append(f"{min(t):.1f}-{max(t):.1f}")
                continue
            cells.append(fmt.format(statistics.median(get(r) for r in runs)))
        print("| " + " | ".join(cells) + " |")
    for (pages, comp), err in errors.items():
        print(f"\n{comp} ({pages}): {err}")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])

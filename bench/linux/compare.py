#!/usr/bin/env python3
"""Helpers of bench/compare-linux.sh (Linux zswap against BatchSwap, interleaved pairs).

  compare.py quiet  --seconds 5 --min-idle 90 --max-load 1.5 --json FILE
        sample the machine for N seconds: load averages, idle share (/proc/stat), the top CPU
        consumers (/proc/PID/stat); print a Markdown block, write FILE; exit 0 when quiet, 3 when not.
  compare.py exec   --meta FILE -- CMD...
        run CMD, forwarding TERM/HUP/INT to it; write its wall time, user/sys CPU (wait4) and the
        machine's CPU split over the same interval to FILE; exit with CMD's status.
  compare.py derive --mode equal|spill|disk --linux FILE --limit BYTES --bswap BIN
        from a Linux run's JSON line, the BatchSwap --limit and zswap.max_pool_percent for equal
        footprint; prints "LIMIT_BYTES PERCENT" (PERCENT "-" when none is to be set).
  compare.py record --linux FILE [--bswap FILE --bswap-proc FILE] KEY=VALUE...
        one combined JSON line (the raw Linux and BatchSwap objects inside) on stdout.
  compare.py report --dir DIR
        the Markdown report from DIR/runs.jsonl and DIR/quiet.json.
"""
import argparse
import json
import math
import os
import signal
import statistics
import subprocess
import sys
import time

PAGE = 4096
MIB = 1 << 20
CPU_FIELDS = ["user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"]


# ---- machine sampling ---------------------------------------------------------------------

def read_cpu():
    """Machine-wide CPU time in seconds, by /proc/stat field."""
    with open("/proc/stat") as f:
        parts = f.readline().split()
    hz = os.sysconf("SC_CLK_TCK")
    return {n: int(v) / hz for n, v in zip(CPU_FIELDS, parts[1:9])}


def cpu_delta(a, b):
    return {k: round(b[k] - a[k], 2) for k in CPU_FIELDS}


def idle_share(d):
    total = sum(d.values())
    return 100.0 * (d["idle"] + d["iowait"]) / total if total > 0 else float("nan")


def read_procs():
    """pid -> (comm, utime + stime in seconds) for every process."""
    hz = os.sysconf("SC_CLK_TCK")
    out = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                s = f.read()
        except OSError:
            continue
        comm = s[s.index("(") + 1:s.rindex(")")]
        fields = s[s.rindex(")") + 2:].split()
        out[int(name)] = (comm, (int(fields[11]) + int(fields[12])) / hz)
    return out


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def cmd_quiet(a):
    with open("/proc/loadavg") as f:
        load = [float(x) for x in f.read().split()[:3]]
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    c0, p0 = read_cpu(), read_procs()
    time.sleep(a.seconds)
    c1, p1 = read_cpu(), read_procs()
    d = cpu_delta(c0, c1)
    idle = idle_share(d)
    me = os.getpid()
    top = []
    for pid, (comm, t1) in p1.items():
        if pid == me:
            continue
        t0 = p0.get(pid, (comm, 0.0))[1] if pid in p0 else 0.0
        if t1 - t0 > 0:
            top.append({"pid": pid, "comm": comm, "cpu_pct": round(100.0 * (t1 - t0) / a.seconds, 1),
                        "cmdline": cmdline(pid)[:100]})
    top.sort(key=lambda r: -r["cpu_pct"])
    cores = os.cpu_count() or 1
    # Busy time no process in this PID namespace accounts for: other containers or guests, interrupts.
    visible = sum(t["cpu_pct"] for t in top) / cores
    unaccounted = max(0.0, 100.0 - idle - visible)
    top = top[:5]
    max_load = a.max_load if a.max_load is not None else 0.75 * cores
    reasons = []
    if idle < a.min_idle:
        reasons.append(f"idle {idle:.1f}% < {a.min_idle:g}%")
    if load[0] > max_load:
        reasons.append(f"1-min load average {load[0]:.2f} > {max_load:.2f}")
    res = {"quiet": not reasons, "forced": a.force, "reasons": reasons, "uptime": uptime, "loadavg": load,
           "sample_s": a.seconds, "idle_pct": round(idle, 2), "cpu_s": d, "cores": cores,
           "visible_processes_pct": round(visible, 2), "unaccounted_pct": round(unaccounted, 2),
           "min_idle_pct": a.min_idle, "max_load": max_load, "top": top,
           "time": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    with open(a.json, "w") as f:
        json.dump(res, f, indent=1)
    print("\n".join(quiet_lines(res)))
    return 0 if res["quiet"] else 3


def quiet_lines(q):
    verdict = "quiet" if q["quiet"] else ("NOT QUIET" + (" (--force)" if q.get("forced") else "") + ": " + "; ".join(q["reasons"]))
    lines = [f"- machine: **{verdict}**",
             f"- `uptime`: {q['uptime']}",
             f"- idle share over {q['sample_s']:g} s before the runs (/proc/stat idle+iowait): {q['idle_pct']:.1f}% "
             f"(thresholds: idle >= {q['min_idle_pct']:g}%, 1-min load <= {q['max_load']:.2f})"]
    if q["top"]:
        lines.append("- top CPU consumers over that sample: " + "; ".join(
            f"{t['comm']} (pid {t['pid']}) {t['cpu_pct']:.1f}%" for t in q["top"]))
    else:
        lines.append("- top CPU consumers over that sample: none")
    if "unaccounted_pct" in q:
        lines.append(f"- busy CPU no process visible here accounts for (other containers or guests, interrupts): "
                     f"{q['unaccounted_pct']:.1f}% of the machine (visible processes: {q['visible_processes_pct']:.1f}%)")
    return lines


# ---- exec ---------------------------------------------------------------------------------

def cmd_exec(a):
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    c0, t0 = read_cpu(), time.monotonic()
    p = subprocess.Popen(cmd)

    def forward(_sig, _frame):
        try:
            p.send_signal(signal.SIGTERM)
        except ProcessLookupError:
            pass

    for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        if signal.getsignal(s) != signal.SIG_IGN:
            signal.signal(s, forward)
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = rc = os.waitstatus_to_exitcode(status)
    wall, c1 = time.monotonic() - t0, read_cpu()
    meta = {"rc": rc, "process_wall_s": round(wall, 3), "user_s": round(ru.ru_utime, 2), "sys_s": round(ru.ru_stime, 2),
            "max_rss_kib": ru.ru_maxrss, "machine_cpu_s": cpu_delta(c0, c1), "cmd": cmd}
    with open(a.meta, "w") as f:
        json.dump(meta, f)
    return rc if rc >= 0 else 128 - rc


# ---- derive -------------------------------------------------------------------------------

def load_json(path):
    """A file holding one JSON object, on one line or indented; None when missing or empty."""
    try:
        with open(path) as f:
            text = f.read().strip()
    except OSError:
        return None
    if not text:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return json.loads(text.splitlines()[-1])


def bswap_frames(bswap, limit):
    """Page frames a BatchSwap tier with this --limit has (its pool cap is a percentage of them)."""
    r = subprocess.run([bswap, "stat", "--limit", str(limit), "--json"], capture_output=True, text=True, check=True)
    return json.loads(r.stdout)["counters"]["total_pages"]


def cmd_derive(a):
    lx = load_json(a.linux)
    if a.mode == "disk":
        print(a.limit, "-")
        return 0
    pool = lx.get("pool_total_size_max", -1)
    if pool is None or pool < 0:
        sys.exit("compare.py derive: the Linux run has no pool_total_size_max (zswap debugfs missing?)")
    limit = a.limit + pool
    frames = bswap_frames(a.bswap, limit)
    pool_pages = -(-pool // PAGE)
    # The pool cap is floor(frames * P / 100) pages; the smallest P whose cap holds the kernel's pool peak.
    pct = max(1, min(100, -(-100 * pool_pages // frames)))
    print(limit, pct)
    return 0


# ---- record -------------------------------------------------------------------------------

def cmd_record(a):
    rec = {}
    for kv in a.kv:
        k, _, v = kv.partition("=")
        try:
            rec[k] = json.loads(v)
        except json.JSONDecodeError:
            rec[k] = v
    rec["linux"] = load_json(a.linux) if a.linux else None
    rec["bswap"] = load_json(a.bswap) if a.bswap else None
    rec["bswap_proc"] = load_json(a.bswap_proc) if a.bswap_proc else None
    print(json.dumps(rec, separators=(",", ":")))
    return 0


# ---- report -------------------------------------------------------------------------------

def other_cpu_pct(machine, own_s):
    """Busy CPU on the machine not spent by the measured processes, as a share of all CPU time."""
    if not machine:
        return None
    total = sum(machine.values())
    busy = total - machine["idle"] - machine["iowait"]
    return 100.0 * max(0.0, busy - own_s) / total if total > 0 else None


def page_cache(b):
    """BatchSwap's swap-file page cache in bytes, or None while its JSON does not report it."""
    for d in (b, b.get("counters", {})):
        v = d.get("page_cache_bytes")
        if isinstance(v, (int, float)) and v >= 0:
            return v
    return None


def derive_row(r):
    """The figures of one pair, or None for a pair whose Linux half did not run."""
    lx, b, bp = r.get("linux") or {}, r.get("bswap") or {}, r.get("bswap_proc") or {}
    row = {"access": r["access"], "pair": f"{r['linux_compressor']}:{r['bswap_compressor']}", "i": r["pair_index"],
           "notes": []}
    if not lx.get("ok"):
        row["notes"].append(f"Linux failed (exit {r.get('linux_rc', '?')}): " + str(lx.get("error", "no output")))
        return row
    cg = (lx.get("cgroup") or {}).get("peak_bytes", -1)
    pool = max(0, lx.get("pool_total_size_max", 0))
    # What swapping put in the swap file's page cache (less what swapon's own reads left there).
    cache = lx.get("swap_file_cached_max_bytes", 0) - max(0, lx.get("swap_file_cached_start_bytes", 0))
    row.update(l_mibps=lx["throughput_mibps"], l_cg=cg, l_pool=pool, l_cache=max(0, cache),
               l_fp=cg + pool + max(0, cache), l_pswpin_s=lx["pswpin"] / lx["wall_s"] if lx["wall_s"] > 0 else 0.0,
               l_other=other_cpu_pct(lx.get("machine_cpu_s"), lx.get("user_s", 0) + lx.get("sys_s", 0)),
               l_pswpout=lx.get("pswpout", 0), l_zswpwb=lx.get("zswpwb", 0))
    if r.get("mode") == "spill" and lx.get("pswpout", 0) == 0:
        row["notes"].append("Linux did not spill (pswpout 0): more data needed")
    if not b:
        row["notes"].append(f"BatchSwap failed (exit {bp.get('rc', '?')})")
        return row
    pc = page_cache(b)
    row.update(b_mibps=b["throughput_mibps"], b_rss=b["peak_rss_bytes"], b_pc=pc,
               b_fp=b["peak_rss_bytes"] + (pc or 0), b_limit=r["bswap_limit_bytes"], b_pct=r.get("bswap_max_pool_percent"),
               b_p50=b["fault_latency_us"]["p50"], b_p99=b["fault_latency_us"]["p99"],
               b_pswpin_s=b["pswpin"] / b["wall_s"] if b["wall_s"] > 0 else 0.0,
               b_other=other_cpu_pct(bp.get("machine_cpu_s"), bp.get("user_s", 0) + bp.get("sys_s", 0)),
               ratio=b["throughput_mibps"] / lx["throughput_mibps"] if lx["throughput_mibps"] > 0 else float("nan"))
    if bp.get("rc", 0) != 0 or b.get("mismatches", 0):
        row["notes"].append(f"BatchSwap exit {bp.get('rc')}, mismatches {b.get('mismatches')}")
    cap = (b.get("counters") or {}).get("pool_limit_bytes")
    if r.get("mode") != "disk" and cap is not None and cap < pool:
        row["notes"].append(f"BatchSwap pool cap {cap / MIB:.1f} MiB < Linux pool peak {pool / MIB:.1f} MiB")
    if pc is None:
        row["notes"].append("page cache not reported")
    return row


def f1(v, fmt="{:.1f}"):
    return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else fmt.format(v)


def spread(vals, fmt="{:.1f}"):
    vals = [v for v in vals if v is not None and not (isinstance(v, float) and math.isnan(v))]
    if not vals:
        return "–"
    return f"{fmt.format(statistics.median(vals))} ({fmt.format(min(vals))}–{fmt.format(max(vals))})"


def med(vals, fmt="{:.1f}"):
    vals = [v for v in vals if v is not None]
    return fmt.format(statistics.median(vals)) if vals else "–"


def cmd_report(a):
    runs = []
    with open(os.path.join(a.dir, "runs.jsonl")) as f:
        runs = [json.loads(line) for line in f if line.strip()]
    q = load_json(os.path.join(a.dir, "quiet.json")) or {}
    first = next((r for r in runs if r.get("linux")), {})
    lx0 = first.get("linux") or {}
    mode = first.get("mode", "?")
    noisy = q.get("quiet") is False or any(r.get("quiet") is False for r in runs)
    out = [f"# Linux zswap against BatchSwap: mode `{mode}`" + (" (NOT QUIET)" if noisy else ""), ""]
    if first:
        out += [f"- {first.get('date', '')}; kernel {lx0.get('kernel', '?')}, {lx0.get('cores', '?')} cores, "
                f"{lx0.get('mem_total_kib', 0) / (1 << 20):.1f} GiB RAM, cgroup v{lx0.get('cgroup_version', '?')}, "
                f"swap backing {lx0.get('swap_backing', '?')}",
                f"- load: {first['workers']} workers x {first['size']}, cgroup limit {first['limit']}, {first['passes']} passes, "
                f"pages {first['pages']}; {first['pairs']} pair(s) per row, Linux first in each pair",
                f"- Linux: {first.get('linux_setup', '')}; BatchSwap: {first.get('bswap_setup', '')}",
                f"- page source: {lx0.get('source_pages', 0) * PAGE / MIB:.1f} MiB, inside BatchSwap's RSS; on Linux it "
                "is in usemem's parent, outside the cgroup and so outside Linux's footprint"]
    if q:
        out += quiet_lines(q)
    out.append("")
    rows = [derive_row(r) for r in runs]
    out += ["| access | linux:bswap | # | Linux MiB/s | BatchSwap MiB/s | ratio B/L | Linux footprint MiB "
            "(cgroup + pool + swap cache) | BatchSwap footprint MiB (peak RSS + page cache) | BatchSwap limit MiB, pool % | "
            "fault p50 / p99 µs | pswpin/s L / B | other CPU % L / B | notes |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for w in rows:
        if "l_mibps" not in w:
            out.append(f"| {w['access']} | {w['pair']} | {w['i']} | – | – | – | – | – | – | – | – | – | {'; '.join(w['notes'])} |")
            continue
        lfp = (f"{w['l_fp'] / MIB:.1f} = {w['l_cg'] / MIB:.1f} + {w['l_pool'] / MIB:.1f} + {w['l_cache'] / MIB:.1f}")
        if "b_mibps" in w:
            pc = "?" if w["b_pc"] is None else f"{w['b_pc'] / MIB:.1f}"
            bfp = f"{w['b_fp'] / MIB:.1f} = {w['b_rss'] / MIB:.1f} + {pc}"
            lim = f"{w['b_limit'] / MIB:.1f}, {w['b_pct'] if w['b_pct'] not in (None, '-') else 'default'}"
            b = [f1(w["b_mibps"]), f1(w["ratio"], "{:.2f}"), lfp, bfp, lim, f"{w['b_p50']:.1f} / {w['b_p99']:.1f}",
                 f"{w['l_pswpin_s']:.0f} / {w['b_pswpin_s']:.0f}", f"{f1(w['l_other'], '{:.0f}')} / {f1(w['b_other'], '{:.0f}')}"]
        else:
            b = ["–", "–", lfp, "–", "–", "–", f"{w['l_pswpin_s']:.0f} / –", f"{f1(w['l_other'], '{:.0f}')} / –"]
        out.append(f"| {w['access']} | {w['pair']} | {w['i']} | {f1(w['l_mibps'])} | " + " | ".join(b) +
                   f" | {'; '.join(w['notes'])} |")
    out += ["", "Medians (min–max) over the pairs:", "",
            "| access | linux:bswap | pairs | Linux MiB/s | BatchSwap MiB/s | ratio B/L | Linux footprint MiB | "
            "BatchSwap footprint MiB | fault p50 µs | fault p99 µs | Linux pswpin/s | BatchSwap pswpin/s |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    groups = {}
    for w in rows:
        groups.setdefault((w["access"], w["pair"]), []).append(w)
    for (acc, pair), ws in groups.items():
        ok = [w for w in ws if "b_mibps" in w]
        if not ok:
            out.append(f"| {acc} | {pair} | 0 of {len(ws)} | – | – | – | – | – | – | – | – | – |")
            continue
        pc_note = "" if all(w["b_pc"] is not None for w in ok) else " (page cache not reported)"
        out.append(f"| {acc} | {pair} | {len(ok)}{'' if len(ok) == len(ws) else f' of {len(ws)}'} | "
                   f"{spread([w['l_mibps'] for w in ok])} | {spread([w['b_mibps'] for w in ok])} | "
                   f"{spread([w['ratio'] for w in ok], '{:.2f}')} | {spread([w['l_fp'] / MIB for w in ok])} | "
                   f"{spread([w['b_fp'] / MIB for w in ok])}{pc_note} | {med([w['b_p50'] for w in ok])} | "
                   f"{med([w['b_p99'] for w in ok])} | {med([w['l_pswpin_s'] for w in ok], '{:.0f}')} | "
                   f"{med([w['b_pswpin_s'] for w in ok], '{:.0f}')} |")
    out += ["", "Footprints: Linux = the cgroup's peak charge + the zswap pool's peak (sampled every 100 ms; "
            "not charged to a v1 cgroup) + the swap file's page cache (loop backing; sampled every 200 ms); "
            "BatchSwap = the process's peak RSS (its runtime and page source included) + its swap file's page "
            "cache (`page_cache_bytes`, `?` while the JSON lacks it). pswpin/s = pswpin / usemem wall time. "
            "other CPU % = busy CPU on the machine not spent by the measured processes, as a share of all CPU "
            "time during the run."]
    print("\n".join(out))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("quiet")
    p.add_argument("--seconds", type=float, default=5)
    p.add_argument("--min-idle", type=float, default=90)
    p.add_argument("--max-load", type=float)
    p.add_argument("--force", action="store_true")
    p.add_argument("--json", required=True)
    p.set_defaults(fn=cmd_quiet)
    p = sub.add_parser("exec")
    p.add_argument("--meta", required=True)
    p.add_argument("cmd", nargs=argparse.REMAINDER)
    p.set_defaults(fn=cmd_exec)
    p = sub.add_parser("derive")
    p.add_argument("--mode", choices=["equal", "spill", "disk"], required=True)
    p.add_argument("--linux", required=True)
    p.add_argument("--limit", type=int, required=True)
    p.add_argument("--bswap", required=True)
    p.set_defaults(fn=cmd_derive)
    p = sub.add_parser("record")
    p.add_argument("--linux")
    p.add_argument("--bswap")
    p.add_argument("--bswap-proc")
    p.add_argument("kv", nargs="*")
    p.set_defaults(fn=cmd_record)
    p = sub.add_parser("report")
    p.add_argument("--dir", required=True)
    p.set_defaults(fn=cmd_report)
    a = ap.parse_args()
    sys.exit(a.fn(a))


if __name__ == "__main__":
    main()

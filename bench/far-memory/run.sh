#!/usr/bin/env bash
# usemem with a local 3-master Redis Cluster as the only swap device beside the same run on a local swap file with
# direct I/O, interleaved, PAIRS times. Prints one line per run; the JSON of each run is left in $OUT.
# Usage: bench/far-memory/run.sh [PAIRS] [extra usemem options...]
set -euo pipefail
cd "$(dirname "$0")/../.."
PAIRS=${1:-3}; shift || true
OUT=${OUT:-$(mktemp -d /tmp/batchswap-far-XXXX)}
BIN=src/BatchSwap.Cli/bin/Release/net10.0/BatchSwap.Cli
[ -x "$BIN" ] || dotnet build -c Release src/BatchSwap.Cli >/dev/null
DIR=$(mktemp -d /tmp/batchswap-redis-XXXX)
PORTS=(17101 17102 17103)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$DIR"; }
trap cleanup EXIT
for p in "${PORTS[@]}"; do
    redis-server --port "$p" --bind 127.0.0.1 --protected-mode no --dir "$DIR" --save "" --appendonly no \
        --cluster-enabled yes --cluster-config-file "$DIR/nodes-$p.conf" --cluster-require-full-coverage no \
        --logfile "$DIR/$p.log" --daemonize no & PIDS+=($!)
done
for p in "${PORTS[@]}"; do until redis-cli -p "$p" ping >/dev/null 2>&1; do sleep 0.1; done; done
redis-cli --cluster create "${PORTS[@]/#/127.0.0.1:}" --cluster-yes >/dev/null
until redis-cli -p "${PORTS[0]}" cluster info | grep -q cluster_state:ok; do sleep 0.2; done
COMMON=(usemem --workers 2 --size 192MiB --limit 96MiB --passes 2 --engines 1 --set zswap.max_pool_percent=5 --quiet "$@")
SEEDS="redis://127.0.0.1:${PORTS[0]},127.0.0.1:${PORTS[1]}?ttl=10m"
uptime
for i in $(seq 1 "$PAIRS"); do
    "$BIN" "${COMMON[@]}" --swap-device "$SEEDS" --json "$OUT/redis-$i.json"
    "$BIN" "${COMMON[@]}" --swap-io direct --json "$OUT/file-$i.json"
done
uptime
python3 - "$OUT" <<'PY'
import json, sys, glob, os
for f in sorted(glob.glob(os.path.join(sys.argv[1], "*.json"))):
    j = json.load(open(f)); c = j.get("counters", j)
    def g(k): return c.get(k, j.get(k, 0))
    pages = g("pswpout") + g("pswpin")
    lat = j.get("fault_latency_us", {})
    print(f"{os.path.basename(f):14} {j['throughput_mibps']:8.1f} MiB/s  wall {j['wall_s']:6.2f} s  remote/dev pages/s {pages / j['wall_s']:9.0f}  "
          f"rt/page {g('swap_remote_round_trips') / max(pages, 1):.3f}  wire B/page {(g('swap_remote_bytes_sent') + g('swap_remote_bytes_received')) / max(pages, 1):7.0f}  "
          f"fault p50 {lat.get('p50', '?')} us p99 {lat.get('p99', '?')} us  zswpwb_compressed {g('zswpwb_compressed')}  mismatches {j['mismatches']}")
PY

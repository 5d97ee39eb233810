#!/usr/bin/env bash
# compare-linux.sh - the same usemem load under this machine's own Linux zswap and under BatchSwap, back to back,
# and the ratio of their throughputs. Needs root (for the Linux half); everything the Linux half changes is put
# back by bench/linux/run-linux-zswap.sh.
#
#   sudo bench/compare-linux.sh [--pages FILE] [--access seq|rand] [--workers 2] [--size 512MiB] [--limit 256MiB]
#                               [--passes 2] [--pair lzo-rle:lz4] [--pair deflate:deflate] [--repeat 1]
#
# Each --pair is LINUX_COMPRESSOR:BATCHSWAP_COMPRESSOR (default: lzo-rle:lz4 and deflate:deflate).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)

pages=/work/shared/data/pages/python-heap-64m.pages.zst
access=seq workers=2 size=512MiB limit=256MiB passes=2 repeat=1
pairs=()
while [ $# -gt 0 ]; do
    case "$1" in
        --pages) pages=$2; shift 2;;
        --access) access=$2; shift 2;;
        --workers) workers=$2; shift 2;;
        --size) size=$2; shift 2;;
        --limit) limit=$2; shift 2;;
        --passes) passes=$2; shift 2;;
        --pair) pairs+=("$2"); shift 2;;
        --repeat) repeat=$2; shift 2;;
        *) echo "compare-linux.sh: unknown option '$1'" >&2; exit 2;;
    esac
done
[ ${#pairs[@]} -gt 0 ] || pairs=(lzo-rle:lz4 deflate:deflate)
[ -f "$pages" ] || { echo "compare-linux.sh: no page file '$pages'" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "compare-linux.sh: the Linux half needs root" >&2; exit 2; }

dotnet build -c Release "$root/src/BatchSwap.Cli" >/dev/null
bs="$root/src/BatchSwap.Cli/bin/Release/net10.0/batchswap"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

printf '%-22s %-6s %12s %12s %8s\n' "linux:batchswap" access "linux MiB/s" "bswap MiB/s" ratio
for pair in "${pairs[@]}"; do
    lc=${pair%%:*}; bc=${pair##*:}
    : > "$tmp/linux"; : > "$tmp/bs"
    for r in $(seq "$repeat"); do
        "$here/linux/run-linux-zswap.sh" --compressor "$lc" --access "$access" --workers "$workers" --size "$size" \
            --limit "$limit" --passes "$passes" --pages "$pages" 2>/dev/null \
            | python3 -c 'import json,sys; [print(json.loads(l)["throughput_mibps"]) for l in sys.stdin if l.startswith("{")]' >> "$tmp/linux"
        "$bs" usemem --compressor "$bc" --access "$access" --workers "$workers" --size "$size" --limit "$limit" \
            --passes "$passes" --pages "$pages" --quiet --json "$tmp/bs.json" >/dev/null
        python3 -c 'import json; print(json.load(open("'"$tmp/bs.json"'"))["throughput_mibps"])' >> "$tmp/bs"
    done
    l=$(median < "$tmp/linux"); b=$(median < "$tmp/bs")
    printf '%-22s %-6s %12.1f %12.1f %7.2fx\n' "$lc:$bc" "$access" "$l" "$b" "$(echo "$b / $l" | bc -l)"
done

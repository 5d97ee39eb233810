#!/usr/bin/env bash
# compare-linux.sh - the same usemem load under this machine's own Linux zswap and under BatchSwap,
# in interleaved pairs (Linux, then BatchSwap sized from that Linux run), with equal memory footprints;
# a Markdown report on stdout, every raw JSON line under --out. Needs root (for the Linux half).
# Everything the Linux half changes (swap, zswap parameters, cgroup, debugfs) is put back by
# bench/linux/run-linux-zswap.sh, and checked again here on exit, error or Ctrl-C.
#
#   sudo bench/compare-linux.sh [--mode equal|spill|disk] [--pages FILE] [--access seq[,rand]]
#        [--pair LINUX:BSWAP]... [--pairs 3] [--workers 2] [--size SIZE] [--limit 256MiB] [--passes 2]
#        [--force] [--out DIR]
#
# See bench/linux/README.md ("Comparing with BatchSwap") for the modes and what equal footprint means.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
helper="$here/linux/compare.py"
driver="$here/linux/run-linux-zswap.sh"

mode=equal
pages=/work/shared/data/pages/python-heap-64m.pages.zst
access=
workers=2
size=
limit=256MiB
passes=2
npairs=3
force=0
out=
pairs=()
bswap_sets=()
bswap_extra=()
bswap_pool_pct=
swap_backing=loop
swap_dir=/var/tmp
build=1
min_idle=90
max_load=
quiet_s=5

usage() {
    cat >&2 <<EOF
usage: $0 [options]
  --mode equal|spill|disk  equal: both in memory, BatchSwap gets Linux's cgroup limit + its pool peak
                           spill: Linux zswap max_pool_percent=1, both spill to the swap file
                           disk:  Linux zswap off (plain swap), BatchSwap at the same limit  (default $mode)
  --pages FILE             page image for both sides (.pages or .pages.zst)  (default $pages)
  --access LIST            seq and/or rand, comma-separated   (default: seq; rand in disk mode)
  --pair LINUX:BSWAP       compressors, repeatable            (default lzo-rle:lz4)
  --pairs N                Linux/BatchSwap pairs per row      (default $npairs)
  --workers N              workers                            (default $workers)
  --size SIZE              bytes per worker                   (default 512MiB; 1GiB in spill and disk modes)
  --limit SIZE             Linux's memory cgroup limit        (default $limit)
  --passes N               verification passes                (default $passes)
  --bswap-set NAME=VALUE   extra BatchSwap tunable, repeatable (e.g. zswap.enabled=N in disk mode)
  --bswap-arg ARG          extra BatchSwap usemem argument, repeatable (e.g. --transparent)
  --bswap-pool-percent N   equal/spill: BatchSwap's zswap.max_pool_percent, if above the share that holds Linux's pool
                           (same limit, so the same footprint; the tier only splits it differently)
  --swap-backing loop|file Linux swap on a loop device or on the file (default $swap_backing)
  --swap-dir DIR           where both sides' swap files go    (default $swap_dir)
  --min-idle PCT           quiet: idle share over ${quiet_s} s at least this (default $min_idle)
  --max-load X             quiet: 1-min load average at most  (default 0.75 x cores)
  --force                  run on a machine that is not quiet; results are marked "not quiet"
  --no-build               do not build BatchSwap first
  --out DIR                raw JSON and the report            (default bench/results/compare-<timestamp>)
EOF
    exit 2
}

while [[ $# -gt 0 ]]; do
    case "$1" in
    --mode) mode=$2; shift 2 ;;
    --pages) pages=$2; shift 2 ;;
    --access) access=$2; shift 2 ;;
    --pair) pairs+=("$2"); shift 2 ;;
    --pairs) npairs=$2; shift 2 ;;
    --workers) workers=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --limit) limit=$2; shift 2 ;;
    --passes) passes=$2; shift 2 ;;
    --bswap-set) bswap_sets+=("$2"); shift 2 ;;
    --bswap-arg) bswap_extra+=("$2"); shift 2 ;;
    --bswap-pool-percent) bswap_pool_pct=$2; shift 2 ;;
    --swap-backing) swap_backing=$2; shift 2 ;;
    --swap-dir) swap_dir=$2; shift 2 ;;
    --min-idle) min_idle=$2; shift 2 ;;
    --max-load) max_load=$2; shift 2 ;;
    --force) force=1; shift ;;
    --no-build) build=0; shift ;;
    --out) out=$2; shift 2 ;;
    -h|--help) usage ;;
    *) echo "compare-linux.sh: unknown option '$1'" >&2; usage ;;
    esac
done

exec 3>&2   # the terminal's stderr, also for messages from the trap while a run's stderr is redirected
log() { echo "[compare] $*" >&3; }
fail() { log "ERROR: $*"; exit 2; }

case "$mode" in
equal) : "${size:=512MiB}" "${access:=seq}" ;;
spill | disk) : "${size:=1GiB}" ;;
*) fail "--mode must be equal, spill or disk" ;;
esac
if [[ $mode == disk ]]; then : "${access:=rand}"; else : "${access:=seq}"; fi
[[ ${#pairs[@]} -gt 0 ]] || pairs=(lzo-rle:lz4)
[[ $npairs =~ ^[1-9][0-9]*$ ]] || fail "--pairs must be a positive integer"
[[ -f $pages ]] || fail "no page file '$pages' (usemem.c has no built-in generator: a page image is required)"
[[ $(id -u) -eq 0 ]] || fail "the Linux half needs root"
for p in "${pairs[@]}"; do [[ $p == ?*:?* ]] || fail "--pair takes LINUX:BSWAP, got '$p'"; done
IFS=, read -r -a access_list <<<"$access"
for a in "${access_list[@]}"; do [[ $a == seq || $a == rand ]] || fail "--access takes seq and/or rand, got '$a'"; done

to_bytes() {  # "512MiB" -> bytes
    local s=${1^^}
    [[ $s =~ ^([0-9]+)([KMGT]?)(I?B)?$ ]] || fail "bad size: $1"
    local n=${BASH_REMATCH[1]}
    case "${BASH_REMATCH[2]}" in
    K) echo $((n << 10)) ;; M) echo $((n << 20)) ;; G) echo $((n << 30)) ;; T) echo $((n << 40)) ;; *) echo "$n" ;;
    esac
}
limit_b=$(to_bytes "$limit")
to_bytes "$size" >/dev/null

stamp=$(date +%Y%m%d-%H%M%S)
[[ -n $out ]] || out="$root/bench/results/compare-$stamp"
mkdir -p "$out/runs"
[[ ! -s $out/runs.jsonl ]] || fail "$out already holds runs.jsonl: choose another --out"

# ---- clean-up: the driver restores what it changed; this checks it did, even after a kill -------------
zp=/sys/module/zswap/parameters
declare -A zswap_start=()
for p in enabled compressor max_pool_percent accept_threshold_percent shrinker_enabled; do
    [[ -r $zp/$p ]] && zswap_start[$p]=$(cat "$zp/$p")
done
child=
last_pid=
linux_pids=()
tmp=
debugfs_was_mounted=0
mountpoint -q /sys/kernel/debug && debugfs_was_mounted=1

# What a Linux run left behind: only when its driver was killed before its own restore ran.
# Call it as "linux_leftovers PID || true": every step is tried, whatever fails before it.
# shellcheck disable=SC2317  # also invoked by the EXIT trap
linux_leftovers() {  # driver pid
    local pid=$1 d f loopdev q _
    rm -rf "/var/tmp/linux-zswap.$pid."*
    for d in /sys/fs/cgroup/memory /sys/fs/cgroup /sys/fs/cgroup/unified; do
        d="$d/linux-zswap-bench.$pid"
        [[ -d $d ]] || continue
        log "WARNING: removing the cgroup $d a killed run left"
        for _ in $(seq 1 50); do
            rmdir "$d" 2>/dev/null && break
            while read -r q; do kill -KILL "$q" 2>/dev/null; done <"$d/cgroup.procs"
            sleep 0.2
        done
    done
    f="$swap_dir/linux-zswap-bench.$pid.swap"
    if [[ -e $f ]]; then
        log "WARNING: removing the swap file $f a killed run left"
        while read -r loopdev; do
            [[ -n $loopdev ]] || continue
            swapoff "$loopdev" 2>/dev/null
            losetup -d "$loopdev"
        done < <(losetup -j "$f" | cut -d: -f1)
        if swapon --noheadings --show=NAME | grep -qxF "$f"; then swapoff "$f"; fi
        rm -f "$f"
    fi
}

# shellcheck disable=SC2317
restore_zswap() {  # back to the parameters at start; enabled=N first if it was off, enabled last
    local p
    if [[ ${zswap_start[enabled]:-} == N && $(cat "$zp/enabled") != N ]]; then echo N >"$zp/enabled"; fi
    for p in compressor max_pool_percent accept_threshold_percent shrinker_enabled enabled; do
        [[ -n ${zswap_start[$p]:-} && $(cat "$zp/$p") != "${zswap_start[$p]}" ]] || continue
        log "WARNING: zswap $p is $(cat "$zp/$p"), restoring ${zswap_start[$p]}"
        echo "${zswap_start[$p]}" >"$zp/$p" || log "WARNING: could not restore zswap $p"
    done
}

# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
    local rc=$? pid
    trap - EXIT INT TERM HUP
    set +e
    if [[ -n $child ]] && kill -0 "$child" 2>/dev/null; then
        log "stopping pid $child"
        kill -TERM "$child" 2>/dev/null
        wait "$child" 2>/dev/null
    fi
    for pid in "${linux_pids[@]}"; do linux_leftovers "$pid" || true; done
    restore_zswap || true
    if [[ $debugfs_was_mounted -eq 0 ]] && mountpoint -q /sys/kernel/debug; then umount /sys/kernel/debug; fi
    [[ -n $tmp ]] && rm -rf "$tmp"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# Runs a command in the background and waits, so that a signal to this script reaches the trap at
# once; the trap then stops the command (children of a script ignore SIGINT: they get SIGTERM).
run_child() {
    "$@" &
    child=$!
    last_pid=$child
    local rc=0
    wait "$child" || rc=$?
    child=
    return "$rc"
}

# ---- build ------------------------------------------------------------------------------------------
bs="$root/src/BatchSwap.Cli/bin/Release/net10.0/BatchSwap.Cli"  # the batchswap command (the assembly is BatchSwap.Cli)
if [[ $build -eq 1 || ! -x $bs ]]; then
    log "building BatchSwap (log: $out/build.log)"
    dotnet build -c Release --disable-build-servers "$root/src/BatchSwap.Cli" >"$out/build.log" 2>&1 \
        || fail "build failed, see $out/build.log"
fi

# ---- quiet check ------------------------------------------------------------------------------------
log "quiet check (${quiet_s} s)"
qargs=(--seconds "$quiet_s" --min-idle "$min_idle" --json "$out/quiet.json")
[[ -z $max_load ]] || qargs+=(--max-load "$max_load")
[[ $force -eq 0 ]] || qargs+=(--force)
qrc=0
python3 "$helper" quiet "${qargs[@]}" >&2 || qrc=$?
if [[ $qrc -eq 3 ]]; then
    if [[ $force -eq 0 ]]; then
        fail "the machine is not quiet (see above); wait, or use --force to run anyway (results marked \"not quiet\")"
    fi
    log "WARNING: NOT QUIET - running anyway (--force); the results are marked \"not quiet\""
    quiet=false
elif [[ $qrc -ne 0 ]]; then
    fail "quiet check failed"
else
    quiet=true
fi

# ---- the pairs --------------------------------------------------------------------------------------
tmp=$(mktemp -d "$swap_dir/compare-linux.XXXXXX")   # BatchSwap's swap files (TMPDIR): the same disk as Linux's
linux_args=(--workers "$workers" --size "$size" --limit "$limit" --passes "$passes" --pages "$pages"
    --repeat 1 --swap-backing "$swap_backing" --swap-dir "$swap_dir")
case "$mode" in
equal) linux_setup="zswap on, max_pool_percent 20"; linux_args+=(--max-pool-percent 20) ;;
spill) linux_setup="zswap on, max_pool_percent 1"; linux_args+=(--max-pool-percent 1) ;;
disk) linux_setup="zswap off (plain swap)"; linux_args+=(--zswap-enabled N) ;;
esac
case "$mode" in
equal | spill) bswap_setup="--limit = cgroup limit + Linux's pool peak, zswap.max_pool_percent sized to hold that pool" ;;
disk) bswap_setup="--limit = the cgroup limit, its own pool defaults" ;;
esac
[[ ${#bswap_sets[@]} -eq 0 ]] || bswap_setup+="; --set ${bswap_sets[*]}"
[[ ${#bswap_extra[@]} -eq 0 ]] || bswap_setup+="; ${bswap_extra[*]}"
date_s=$(date '+%Y-%m-%d %H:%M:%S %Z')
failed=0

for acc in "${access_list[@]}"; do
    for pair in "${pairs[@]}"; do
        lc=${pair%%:*} bc=${pair##*:}
        for i in $(seq 1 "$npairs"); do
            tag="$acc-$lc-$bc-$i"
            lj="$out/runs/$tag.linux.json" bj="$out/runs/$tag.bswap.json" bp="$out/runs/$tag.bswap-proc.json"
            log "pair $i/$npairs $acc $lc:$bc: Linux"
            lrc=0
            run_child "$driver" "${linux_args[@]}" --compressor "$lc" --access "$acc" >"$lj" 2>>"$out/linux.log" || lrc=$?
            linux_pids+=("$last_pid")
            if [[ $lrc -ge 128 ]]; then   # killed: its own restore may not have run
                linux_leftovers "$last_pid" || true
                restore_zswap || true
            fi
            cat "$lj" >>"$out/linux.jsonl"
            common=(mode="$mode" access="$acc" linux_compressor="$lc" bswap_compressor="$bc" pair_index="$i"
                quiet="$quiet" workers="$workers" size="$size" limit="$limit" passes="$passes" pairs="$npairs"
                pages="$(basename "$pages")" date="$date_s" linux_rc="$lrc" linux_setup="$linux_setup"
                bswap_setup="$bswap_setup")
            if ! python3 -c 'import json,sys; sys.exit(0 if json.loads(open(sys.argv[1]).read().strip() or "{}").get("ok") else 1)' "$lj"; then
                log "WARNING: the Linux run failed (exit $lrc; see $out/linux.log); no BatchSwap run for this pair"
                tail -n 3 "$out/linux.log" >&2
                python3 "$helper" record --linux "$lj" "${common[@]}" >>"$out/runs.jsonl"
                failed=1
                # A compressor the kernel lacks fails every time: skip the rest of this row.
                if grep -q 'compressor not available' "$lj"; then break; fi
                continue
            fi
            if ! derived=$(python3 "$helper" derive --mode "$mode" --linux "$lj" --limit "$limit_b" --bswap "$bs"); then
                log "WARNING: cannot size BatchSwap from the Linux run; no BatchSwap run for this pair"
                python3 "$helper" record --linux "$lj" "${common[@]}" >>"$out/runs.jsonl"
                failed=1
                continue
            fi
            read -r blimit bpct <<<"$derived"
            # BatchSwap may give its pool a larger share of the same limit (never less than what holds Linux's pool):
            # the footprint is the limit either way; how the tier splits it is its own tuning.
            if [[ -n $bswap_pool_pct && $bpct != - ]] && (( bswap_pool_pct > bpct )); then bpct=$bswap_pool_pct; fi
            bargs=(usemem --workers "$workers" --size "$size" --limit "$blimit" --passes "$passes" --access "$acc"
                --pages "$pages" --compressor "$bc" --quiet --json "$bj")
            [[ $bpct == - ]] || bargs+=(--set "zswap.max_pool_percent=$bpct")
            for s in "${bswap_sets[@]}"; do bargs+=(--set "$s"); done
            bargs+=("${bswap_extra[@]}")
            log "pair $i/$npairs $acc $lc:$bc: BatchSwap --limit $blimit$([[ $bpct == - ]] || echo " zswap.max_pool_percent=$bpct")"
            brc=0
            run_child env TMPDIR="$tmp" python3 "$helper" exec --meta "$bp" -- "$bs" "${bargs[@]}" >>"$out/bswap.log" 2>&1 || brc=$?
            [[ $brc -eq 0 ]] || { failed=1; log "WARNING: BatchSwap exited $brc (see $out/bswap.log)"; tail -n 3 "$out/bswap.log" >&2; }
            [[ ! -s $bj ]] || python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1])), separators=(",", ":")))' "$bj" >>"$out/bswap.jsonl"
            python3 "$helper" record --linux "$lj" --bswap "$bj" --bswap-proc "$bp" "${common[@]}" \
                bswap_limit_bytes="$blimit" bswap_max_pool_percent="$bpct" bswap_rc="$brc" bswap_args="${bargs[*]}" \
                >>"$out/runs.jsonl"
        done
    done
done

python3 "$helper" report --dir "$out" >"$out/report.md"
cat "$out/report.md"
log "raw JSON and logs in $out"
exit "$failed"

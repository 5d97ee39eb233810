#!/usr/bin/env bash
# run-linux-zswap.sh - run the BatchSwap usemem load under this machine's own Linux zswap,
# inside a memory cgroup, and print one JSON line per run on stdout.
#
# Needs root. Everything it changes is put back by a trap on exit, error or Ctrl-C:
# the swap file (swapoff + removed), the zswap module parameters, the cgroup, debugfs
# (unmounted if this script mounted it), cgroup-v2 subtree_control, temp files.
#
# --compressor and --access take comma-separated lists; every combination is run
# --repeat times, with one swap file set up for all of them. --zswap-enabled N runs the
# same load with zswap off: plain swap to the swap device (the compressor is then unused).
#
# Example:
#   sudo bench/linux/run-linux-zswap.sh --compressor lzo-rle,deflate --access seq,rand --repeat 3 \
#        --pages /work/shared/data/pages/python-heap-64m.pages.zst --out results.jsonl
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

workers=2
size=512MiB
limit=256MiB
passes=2
access=seq
order=0
compressors=lzo-rle
max_pool_percent=20
zswap_enabled=Y
accept_threshold=
shrinker=
pages=/work/shared/data/pages/python-heap-64m.pages.zst
repeat=1
swap_size=
swap_dir=/var/tmp
swap_backing=loop
out=
sample_ms=100

usage() {
    cat >&2 <<EOF
usage: $0 [options]
  --workers N            worker processes                      (default $workers)
  --size SIZE            bytes per worker, e.g. 512MiB          (default $size)
  --limit SIZE           memory cgroup limit for all workers    (default $limit)
  --passes N             verification passes                    (default $passes)
  --access LIST          seq and/or rand, comma-separated       (default $access)
  --order 0|9            folio order (9 = MADV_HUGEPAGE, 2 MiB) (default $order)
  --compressor LIST      lzo-rle,lzo,lz4,deflate,zstd,...       (default $compressors)
  --max-pool-percent N   zswap max_pool_percent                 (default $max_pool_percent)
  --zswap-enabled Y|N    N: zswap off, plain swap to the device (default $zswap_enabled)
  --accept-threshold N   zswap accept_threshold_percent         (default: unchanged)
  --shrinker Y|N         zswap shrinker_enabled                 (default: unchanged)
  --pages FILE           page image, raw .pages or .pages.zst   (default $pages)
  --repeat N             runs per configuration                 (default $repeat)
  --swap-size SIZE       swap file size (default 2 x workers x size)
  --swap-dir DIR         where to create the swap file          (default $swap_dir)
  --swap-backing loop|file  swap on a loop device over the file, or on the file itself
                         (default $swap_backing; the kernel gives large (THP) swap entries
                         only to block devices, so with "file" every 2 MiB folio is split
                         before swap-out)
  --out FILE             also append the JSON lines to FILE
EOF
    exit 2
}

while [[ $# -gt 0 ]]; do
    case "$1" in
    --workers) workers=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --limit) limit=$2; shift 2 ;;
    --passes) passes=$2; shift 2 ;;
    --access) access=$2; shift 2 ;;
    --order) order=$2; shift 2 ;;
    --compressor|--compressors) compressors=$2; shift 2 ;;
    --max-pool-percent) max_pool_percent=$2; shift 2 ;;
    --zswap-enabled) zswap_enabled=$2; shift 2 ;;
    --accept-threshold) accept_threshold=$2; shift 2 ;;
    --shrinker) shrinker=$2; shift 2 ;;
    --pages) pages=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --swap-size) swap_size=$2; shift 2 ;;
    --swap-dir) swap_dir=$2; shift 2 ;;
    --swap-backing) swap_backing=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --sample-ms) sample_ms=$2; shift 2 ;;
    -h|--help) usage ;;
    *) echo "unknown option: $1" >&2; usage ;;
    esac
done

log() { echo "[linux-zswap] $*" >&2; }
fail() { log "ERROR: $*"; exit 1; }

# "512MiB" -> bytes
to_bytes() {
    local s=${1^^} n unit
    [[ $s =~ ^([0-9]+)([KMGT]?)(I?B)?$ ]] || fail "bad size: $1"
    n=${BASH_REMATCH[1]}; unit=${BASH_REMATCH[2]}
    case "$unit" in
    K) echo $((n << 10)) ;; M) echo $((n << 20)) ;; G) echo $((n << 30)) ;; T) echo $((n << 40)) ;;
    *) echo "$n" ;;
    esac
}

[[ $(id -u) -eq 0 ]] || fail "must run as root"
[[ -d /sys/module/zswap/parameters ]] || fail "this kernel has no zswap"
[[ -f $pages ]] || fail "page file not found: $pages"
[[ $swap_backing == loop || $swap_backing == file ]] || fail "--swap-backing must be loop or file"
[[ $zswap_enabled == Y || $zswap_enabled == N ]] || fail "--zswap-enabled must be Y or N"

size_b=$(to_bytes "$size")
limit_b=$(to_bytes "$limit")
total_b=$((workers * size_b))
if [[ -n $swap_size ]]; then swap_b=$(to_bytes "$swap_size"); else swap_b=$((2 * total_b)); fi
swap_mib=$(((swap_b + (1 << 20) - 1) >> 20))

zp=/sys/module/zswap/parameters
declare -A zswap_orig=()
swapfile=
swapdev=
loopdev=
swap_on=0
debugfs_mounted=0
cgdir=
v2_subtree_added=
tmpdir=
child=
sampler=

# shellcheck disable=SC2317  # invoked by the EXIT trap
restore() {
    local rc=$?
    trap - EXIT INT TERM HUP
    set +e
    if [[ -n $child ]] && kill -0 "$child" 2>/dev/null; then
        log "stopping usemem (pid $child)"
        kill -TERM "$child" 2>/dev/null
        wait "$child" 2>/dev/null
    fi
    stop_sampler
    remove_cgroup
    # zswap parameters: disable first if it was off, then the rest, in a safe order.
    if [[ ${#zswap_orig[@]} -gt 0 ]]; then
        [[ ${zswap_orig[enabled]:-} == N ]] && echo N >"$zp/enabled"
        for p in compressor max_pool_percent accept_threshold_percent shrinker_enabled; do
            [[ -n ${zswap_orig[$p]:-} ]] || continue
            [[ $(cat "$zp/$p") == "${zswap_orig[$p]}" ]] || echo "${zswap_orig[$p]}" >"$zp/$p" \
                || log "WARNING: could not restore zswap $p=${zswap_orig[$p]}"
        done
        [[ -n ${zswap_orig[enabled]:-} ]] && echo "${zswap_orig[enabled]}" >"$zp/enabled"
    fi
    if [[ $swap_on -eq 1 ]]; then
        swapoff "$swapdev" || log "WARNING: swapoff $swapdev failed"
    fi
    if [[ -n $loopdev ]]; then losetup -d "$loopdev" || log "WARNING: losetup -d $loopdev failed"; fi
    [[ -n $swapfile && -f $swapfile ]] && rm -f "$swapfile"
    if [[ $debugfs_mounted -eq 1 ]]; then umount /sys/kernel/debug || log "WARNING: umount debugfs failed"; fi
    if [[ -n $v2_subtree_added ]]; then echo "-memory" >"$v2_subtree_added" 2>/dev/null; fi
    [[ -n $tmpdir ]] && rm -rf "$tmpdir"
    log "restored: swap=[$(swapon --noheadings --show=NAME | tr '\n' ' ')] zswap enabled=$(cat "$zp/enabled") compressor=$(cat "$zp/compressor") max_pool_percent=$(cat "$zp/max_pool_percent")"
    exit "$rc"
}
trap restore EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

for p in enabled compressor max_pool_percent accept_threshold_percent shrinker_enabled; do
    [[ -r $zp/$p ]] && zswap_orig[$p]=$(cat "$zp/$p")
done
log "zswap before: $(for p in "${!zswap_orig[@]}"; do printf '%s=%s ' "$p" "${zswap_orig[$p]}"; done)"

# ---- build usemem and the page file ---------------------------------------------------
tmpdir=$(mktemp -d "/var/tmp/linux-zswap.$$.XXXXXX")
usemem="$here/usemem"
if [[ ! -x $usemem || $here/usemem.c -nt $usemem ]]; then
    gcc -O2 -Wall -o "$usemem" "$here/usemem.c" || fail "cannot build usemem"
fi
if [[ $pages == *.zst ]]; then
    command -v zstd >/dev/null || fail "zstd CLI needed to decompress $pages (apt-get install zstd)"
    raw="$tmpdir/$(basename "${pages%.zst}")"
    zstd -q -dc -- "$pages" >"$raw"
else
    raw=$pages
fi

# ---- swap file ------------------------------------------------------------------------
avail_mib=$(df -Pm "$swap_dir" | awk 'NR==2 {print $4}')
[[ $avail_mib -gt $((swap_mib + 1024)) ]] || fail "not enough space in $swap_dir for a ${swap_mib} MiB swap file"
swapfile="$swap_dir/linux-zswap-bench.$$.swap"
log "creating ${swap_mib} MiB swap file $swapfile ($(stat -f -c %T "$swap_dir"))"
dd if=/dev/zero of="$swapfile" bs=1M count="$swap_mib" status=none conv=fsync
chmod 600 "$swapfile"
swapdev=$swapfile
if [[ $swap_backing == loop ]]; then
    loopdev=$(losetup --find --show "$swapfile") || fail "cannot attach a loop device (try --swap-backing file)"
    swapdev=$loopdev
    log "swap on loop device $loopdev"
fi
mkswap -q "$swapdev" >/dev/null
# Drop the file's pages that dd left in the page cache, so the page cache the swap file
# holds during a run (swap_file_cached_max_bytes) is what swapping put there.
dd if=/dev/null of="$swapfile" oflag=nocache conv=notrunc,fdatasync count=0 status=none \
    || log "WARNING: could not drop the swap file's page cache"
swapon "$swapdev"
swap_on=1

# ---- debugfs --------------------------------------------------------------------------
if [[ ! -d /sys/kernel/debug/zswap ]]; then
    if ! mountpoint -q /sys/kernel/debug; then
        if mount -t debugfs debugfs /sys/kernel/debug; then debugfs_mounted=1; else log "WARNING: cannot mount debugfs"; fi
    fi
fi

# ---- cgroup ---------------------------------------------------------------------------
cg_version=
cg_parent=
if [[ -f /sys/fs/cgroup/memory/memory.limit_in_bytes ]]; then
    cg_version=1; cg_parent=/sys/fs/cgroup/memory
else
    for d in /sys/fs/cgroup /sys/fs/cgroup/unified; do
        if [[ -f $d/cgroup.controllers ]] && grep -qw memory "$d/cgroup.controllers"; then
            cg_version=2; cg_parent=$d; break
        fi
    done
fi
[[ -n $cg_version ]] || fail "no memory cgroup controller found (v1 or v2)"
if [[ $cg_version == 2 ]] && ! grep -qw memory "$cg_parent/cgroup.subtree_control"; then
    echo "+memory" >"$cg_parent/cgroup.subtree_control"
    v2_subtree_added="$cg_parent/cgroup.subtree_control"
fi
log "memory cgroup v$cg_version under $cg_parent"

make_cgroup() {
    cgdir="$cg_parent/linux-zswap-bench.$$"
    mkdir "$cgdir"
    if [[ $cg_version == 1 ]]; then
        echo "$limit_b" >"$cgdir/memory.limit_in_bytes"
    else
        echo "$limit_b" >"$cgdir/memory.max"
    fi
}

remove_cgroup() {
    [[ -n $cgdir && -d $cgdir ]] || return 0
    local _ pid
    for _ in $(seq 1 50); do
        rmdir "$cgdir" 2>/dev/null && { cgdir=; return 0; }
        # Only processes of this run can be in it: kill leftovers by pid.
        while read -r pid; do kill -KILL "$pid" 2>/dev/null; done <"$cgdir/cgroup.procs" 2>/dev/null
        sleep 0.2
    done
    log "WARNING: could not remove cgroup $cgdir"
}

# ---- swap-file page cache --------------------------------------------------------------
# On a loop device (not in direct-I/O mode) every page swapped out also lands in the page
# cache of the backing file, outside the memory cgroup: memory Linux uses that neither the
# cgroup peak nor the zswap pool shows. Sampled (fincore, every 200 ms) while usemem runs;
# the maximum is reported as swap_file_cached_max_bytes, the value just before the run as
# swap_file_cached_start_bytes (what swapon's reads left; both 0 with --swap-backing file, where
# swap I/O goes to the file's blocks directly; -1 when fincore is missing).
cached_now() {
    local v
    v=$(fincore --bytes --noheadings --output RES "$swapfile" 2>/dev/null) || v=0
    [[ $v =~ ^[0-9]+$ ]] || v=0
    echo "$v"
}

start_sampler() {  # pid to follow
    : >"$tmpdir/cache_max"
    if [[ $swap_backing != loop ]] || ! command -v fincore >/dev/null; then return 0; fi
    (
        max=0
        while kill -0 "$1" 2>/dev/null; do
            v=$(cached_now)
            ((v > max)) && max=$v && echo "$max" >"$tmpdir/cache_max"
            sleep 0.2
        done
    ) &
    sampler=$!
}

stop_sampler() {  # after usemem is reaped: the sampler sees it gone and ends within one period
    [[ -n $sampler ]] || return 0
    wait "$sampler" 2>/dev/null
    sampler=
}

cache_start() {
    if [[ $swap_backing != loop ]]; then echo 0
    elif ! command -v fincore >/dev/null; then echo -1
    else cached_now
    fi
}

swap_cache_max() {
    if [[ $swap_backing != loop ]]; then echo 0
    elif ! command -v fincore >/dev/null; then echo -1
    else
        local v
        v=$(cat "$tmpdir/cache_max" 2>/dev/null)
        echo "${v:-0}"
    fi
}

# ---- runs -----------------------------------------------------------------------------
set_param() {  # name value
    echo "$2" >"$zp/$1" 2>/dev/null || return 1
    [[ $(cat "$zp/$1") == "$2" ]]
}

set_param max_pool_percent "$max_pool_percent" || fail "cannot set max_pool_percent=$max_pool_percent"
[[ -z $accept_threshold ]] || set_param accept_threshold_percent "$accept_threshold" || fail "cannot set accept_threshold_percent"
[[ -z $shrinker ]] || set_param shrinker_enabled "$shrinker" || fail "cannot set shrinker_enabled"

kernel=$(uname -r)
cores=$(nproc)
memtotal_kib=$(awk '/^MemTotal/ {print $2}' /proc/meminfo)
thp=$(sed -e 's/.*\[\(.*\)\].*/\1/' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null || echo none)

emit() {  # JSON line -> stdout (+ --out)
    echo "$1"
    [[ -z $out ]] || echo "$1" >>"$out"
}

IFS=, read -r -a comp_list <<<"$compressors"
IFS=, read -r -a access_list <<<"$access"
overall=0
for comp in "${comp_list[@]}"; do
    meta="\"engine\":\"linux-zswap\",\"kernel\":\"$kernel\",\"cores\":$cores,\"mem_total_kib\":$memtotal_kib,\"thp_enabled\":\"$thp\",\"cgroup_version\":$cg_version,\"compressor\":\"$comp\",\"zswap_enabled\":\"$zswap_enabled\",\"limit_bytes\":$limit_b,\"max_pool_percent\":$max_pool_percent,\"pages_file\":\"$(basename "$pages")\""
    # A name the crypto API lacks may still be accepted while zswap is uninitialised, and
    # zswap then silently falls back to its default compressor when enabled: read back.
    in_crypto=$(grep -qE "^name +: $comp\$" /proc/crypto && echo yes || echo no)
    if [[ $zswap_enabled == N ]]; then
        set_param enabled N || fail "cannot disable zswap"
    elif ! set_param compressor "$comp" || ! set_param enabled Y || [[ $(cat "$zp/compressor") != "$comp" ]]; then
        log "compressor $comp is not available (in /proc/crypto: $in_crypto; zswap now uses $(cat "$zp/compressor")) - skipped"
        emit "{$meta,\"ok\":false,\"error\":\"compressor not available in the kernel crypto API\"}"
        overall=1
        continue
    fi
    for acc in "${access_list[@]}"; do
        for r in $(seq 1 "$repeat"); do
            make_cgroup
            sync
            load_before=$(cut -d' ' -f1 /proc/loadavg)
            cached_before=$(cache_start)
            log "run: compressor=$comp access=$acc order=$order workers=$workers size=$size limit=$limit passes=$passes ($r/$repeat)"
            set +e
            "$usemem" --workers "$workers" --size "$size_b" --passes "$passes" --access "$acc" \
                --order "$order" --pages "$raw" --cgroup "$cgdir" --sample-ms "$sample_ms" \
                >"$tmpdir/out.json" &
            child=$!
            start_sampler "$child"
            wait "$child"
            rc=$?
            child=
            stop_sampler
            set -e
            json=$(cat "$tmpdir/out.json")
            run_meta="\"run\":$r,\"swap_backing\":\"$swap_backing\",\"loadavg_before\":$load_before,\"swap_file_cached_start_bytes\":$cached_before,\"swap_file_cached_max_bytes\":$(swap_cache_max)"
            remove_cgroup
            if [[ -z $json ]]; then
                emit "{$meta,$run_meta,\"ok\":false,\"error\":\"usemem exited $rc without output\"}"
                overall=1
                continue
            fi
            [[ $rc -eq 0 ]] || overall=1
            emit "{$meta,$run_meta,${json#\{}"
        done
    done
done
exit $overall

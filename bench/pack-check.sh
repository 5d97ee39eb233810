#!/usr/bin/env bash
# Packs the library (BatchSwap) and the tool (BatchSwap.Cli, command batchswap) from a clean Release build, installs
# the tool from that folder alone (a nuget.config with only the local source: works offline), runs batchswap --version
# and draws sweep plots with the installed tool: SkiaSharp and libzstd must load from the tool's trimmed runtimes/
# folder, and the system libz.so.1 for deflate. Prints the package sizes.
# Usage: bench/pack-check.sh [OUT_DIR]   (default: a temporary folder, removed at the end)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-}"
if [ -z "$out" ]; then out="$(mktemp -d)"; trap 'rm -rf "$out"' EXIT; fi
mkdir -p "$out/packages"
dotnet pack src/BatchSwap/BatchSwap.csproj -c Release -o "$out/packages" -nodeReuse:false
dotnet pack src/BatchSwap.Cli/BatchSwap.Cli.csproj -c Release -o "$out/packages" -nodeReuse:false
cat > "$out/nuget.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="local" value="$out/packages" />
  </packageSources>
</configuration>
XML
dotnet tool install --tool-path "$out/tools" --configfile "$out/nuget.config" BatchSwap.Cli
"$out/tools/batchswap" --version
# A sweep over zstd and deflate with plots; the dynamic loader's log shows which native libraries it loaded.
LD_DEBUG=libs "$out/tools/batchswap" sweep --workers 1 --size 12MiB --limit 12MiB --passes 1 --engines 1 --batch-sizes 8 \
  --compressors zstd,deflate --out "$out/sweep" > "$out/sweep.log" 2>&1
ls "$out/sweep"/*.png > /dev/null
for lib in libSkiaSharp.so libzstd.so libz.so.1; do
  grep -q "calling init: .*/$lib" "$out/sweep.log" || { echo "pack-check: $lib was not loaded" >&2; exit 1; }
done
grep -q "calling init: .*/tools/.*/runtimes/linux-[a-z0-9]*/native/libzstd.so" "$out/sweep.log" \
  || { echo "pack-check: libzstd did not come from the tool's own runtimes/ folder" >&2; exit 1; }
ls -l "$out/packages"
echo "pack-check: OK"

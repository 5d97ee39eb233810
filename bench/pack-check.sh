#!/usr/bin/env bash
# Packs the library (BatchSwap) and the tool (BatchSwap.Cli, command batchswap) from a clean Release build, installs
# the tool from that folder alone (a nuget.config with only the local source: works offline), runs batchswap --version
# and draws a sweep plot with the installed tool (SkiaSharp's trimmed natives must load). Prints the package sizes.
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
"$out/tools/batchswap" sweep --workers 1 --size 12MiB --limit 12MiB --passes 1 --engines 1 --batch-sizes 8 --out "$out/sweep" > /dev/null
ls "$out/sweep"/*.png > /dev/null
ls -l "$out/packages"
echo "pack-check: OK"

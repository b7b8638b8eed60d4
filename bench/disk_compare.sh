#!/usr/bin/env bash
# Bytes per sample of probe-like data: nines' store against a compacted Prometheus block built
# by Debian's promtool from the very same samples.
# Usage: bench/disk_compare.sh [CHECKS=100] [DAYS=7]   (BUILD_DIR defaults to build)
set -euo pipefail
cd "$(dirname "$0")/.."
checks=${1:-100}
days=${2:-7}
bin=${BUILD_DIR:-build}/bench/nines_disk_bench
[[ -x $bin ]] || { echo "build $bin first (./dev build)"; exit 1; }
command -v promtool >/dev/null || { echo "promtool missing: scripts/install-deps.sh"; exit 1; }
tmp=$(mktemp -d /tmp/nines-disk.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

echo "== nines ($checks checks x 2 series, $days days, 15 s step)"
"$bin" --dir "$tmp/nines" --checks "$checks" --days "$days" --om "$tmp/data.om" | tee "$tmp/nines.txt"
samples=$(sed -n 's/^samples=\([0-9]*\).*/\1/p' "$tmp/nines.txt")

echo "== prometheus (promtool tsdb create-blocks-from openmetrics, one block for the whole range)"
hours=$(( days * 24 + 24 ))
promtool tsdb create-blocks-from openmetrics --max-block-duration="${hours}h" \
  "$tmp/data.om" "$tmp/prom" >/dev/null
blocks=$(find "$tmp/prom" -mindepth 1 -maxdepth 1 -type d | wc -l)
chunk_bytes=$(find "$tmp/prom" -path '*/chunks/*' -type f -printf '%s\n' | awk '{s+=$1} END {print s+0}')
all_bytes=$(find "$tmp/prom" -type f -printf '%s\n' | awk '{s+=$1} END {print s+0}')
awk -v c="$chunk_bytes" -v a="$all_bytes" -v n="$samples" -v b="$blocks" 'BEGIN {
  printf "prometheus chunks     %10d bytes  %.3f bytes/sample (%d block(s))\n", c, c / n, b
  printf "prometheus block      %10d bytes  %.3f bytes/sample (chunks + index + meta)\n", a, a / n
}'

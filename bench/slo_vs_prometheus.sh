#!/usr/bin/env bash
# A 30-day error budget from nines vs the equivalent PromQL in Debian's Prometheus (2.42), on the
# same data: one probe x 3 regions x 3 locations, one sample per minute for 30 days + 1 hour.
#
#   bench/slo_vs_prometheus.sh [BUILD_DIR]     (default: build; needs nines_rules_bench built)
#
# nines: `nines_rules_bench budget` opens the store, evaluates the SLO once (the 30-day backfill
# a restart pays) and then times evaluation cycles + the /api/v1/slos/NAME JSON (what every
# 10-second cycle and every API read costs).
# Prometheus: the data goes in through `promtool tsdb create-blocks-from openmetrics`, then
# Prometheus is started on loopback and two queries are timed over its HTTP API at the same
# instant: the plain sum_over_time/count_over_time over [30d] (counts per location, no quorum),
# and the exact quorum budget as a one-minute subquery (what nines computes).
set -euo pipefail

BUILD=${1:-build}
BENCH="$BUILD/bench/nines_rules_bench"
PROM=${NINES_PROMETHEUS:-/usr/bin/prometheus}
PROMTOOL=${NINES_PROMTOOL:-/usr/bin/promtool}
REPEAT=${REPEAT:-10}
for f in "$BENCH" "$PROM" "$PROMTOOL"; do
  [[ -x "$f" ]] || { echo "missing $f" >&2; exit 1; }
done

WORK=$(mktemp -d)
PROM_PID=
cleanup() {
  if [[ -n "$PROM_PID" ]]; then kill "$PROM_PID" 2>/dev/null || true; wait "$PROM_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "== generating 30 days of probe data"
END=$("$BENCH" gen --dir "$WORK/nines" --days 30 --probes 1 --openmetrics "$WORK/data.om")
echo "evaluation instant: $END ($(date -u -d "@$END" +%FT%TZ))"
mkdir -p "$WORK/prom"
"$PROMTOOL" tsdb create-blocks-from openmetrics "$WORK/data.om" "$WORK/prom" >/dev/null

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'global:\n  scrape_interval: 1m\n' >"$WORK/prometheus.yml"
"$PROM" --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/prom" \
  --storage.tsdb.retention.time=3650d --web.listen-address="127.0.0.1:$PORT" \
  >"$WORK/prom.log" 2>&1 &
PROM_PID=$!
for _ in $(seq 1 600); do
  grep -q "Server is ready to receive web requests" "$WORK/prom.log" && break
  kill -0 "$PROM_PID" 2>/dev/null || { cat "$WORK/prom.log" >&2; exit 1; }
  sleep 0.1  # polling a child's log for readiness; this is a script, not a test
done

echo "== nines"
"$BENCH" budget --dir "$WORK/nines" --days 30 --repeat 50

echo "== prometheus"
query() {  # query NAME PROMQL: prints the median latency of REPEAT runs and the result
  local name=$1 q=$2 times=()
  local out
  for _ in $(seq 1 "$REPEAT"); do
    out=$(curl -sS -o "$WORK/resp.json" -w '%{time_total}' --get \
      --data-urlencode "query=$q" --data-urlencode "time=$END" \
      "http://127.0.0.1:$PORT/api/v1/query")
    times+=("$out")
  done
  local median
  median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]*1000}')
  echo "prometheus: $name: median ${median} ms over $REPEAT runs; first run $(awk "BEGIN{print ${times[0]}*1000}") ms"
  echo "  result: $(head -c 300 "$WORK/resp.json")"
}
SEL='probe_success{probe="p0",region="eu-west-1"}'
query "sum_over_time [30d] (per location)" "sum by (location) (sum_over_time(${SEL}[30d]))"
query "count_over_time [30d] (per location)" "sum by (location) (count_over_time(${SEL}[30d]))"
R="count by (region) (count_over_time(${SEL}[1m]))"
F="(count by (region) (min_over_time(${SEL}[1m]) == 0) or (${R}) * 0)"
query "quorum budget: bad minutes, 1m subquery [30d]" "sum_over_time((2 * ${F} > bool ${R})[2591999s:1m])"
query "quorum budget: counted minutes, 1m subquery [30d]" "count_over_time((${R})[2591999s:1m])"

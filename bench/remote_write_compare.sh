#!/usr/bin/env bash
# Whole-process comparison of remote-write ingest: nines vs Debian's Prometheus 2.42 receiver vs
# a trivial sink (the load generator's own ceiling), on loopback, one after the other, with the
# same load generator (bench/rw_loadgen.cc).
#
# For each batch shape (500 series x 1 sample, 100 series x 10 samples) and each system it
# starts the server fresh in its own temp dir, warms it up (creating all series), then sends a
# fixed number of samples over keep-alive connections and reads the server's CPU time
# (utime+stime from /proc/PID/stat) before and after, and its peak RSS (VmHWM). Only samples in
# 2xx-answered requests count, and the server's own "stored" counter is shown beside them.
#
# Usage: bench/remote_write_compare.sh        (from the repo root, after building nines and
#                                              nines_rw_loadgen)
# Environment (defaults):
#   BUILD_DIR=build            where app/nines and bench/nines_rw_loadgen are
#   PROMETHEUS=/usr/bin/prometheus
#   SYSTEMS="nines prometheus sink"   SHAPES="500x1 100x10"
#   TOTAL_SAMPLES=3000000      measured samples per run   WARMUP_SAMPLES=300000
#   SERIES=3000 REGIONS=3 CONNECTIONS=2 INTERVAL_MS=5000 (the load must span < 2 h)
#   REPEATS=1                  whole sequence repeated (noisy machine: use 2)
#   DURATION_LIMIT=120         hard stop of each loadgen run, seconds
#   PORT_BASE=19400            ports PORT_BASE..PORT_BASE+2 on 127.0.0.1
#   NINES_PERF=FILE            if set: perf record (cpu-clock, DWARF call graphs: nines has no
#                              frame pointers; NINES_PERF_CALLGRAPH overrides) nines during its
#                              measured runs,
#                              into FILE.<shape>.<repeat>
#   KEEP_TMP=1                 keep the temp dir (logs, data)
set -euo pipefail

cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
NINES=$BUILD_DIR/app/nines
LOADGEN=$BUILD_DIR/bench/nines_rw_loadgen
PROMETHEUS=${PROMETHEUS:-/usr/bin/prometheus}
SYSTEMS=${SYSTEMS:-"nines prometheus sink"}
SHAPES=${SHAPES:-"500x1 100x10"}
TOTAL_SAMPLES=${TOTAL_SAMPLES:-3000000}
WARMUP_SAMPLES=${WARMUP_SAMPLES:-300000}
SERIES=${SERIES:-3000}
# Between two samples of a series. nines refuses samples more than its out-of-order window (2 h)
# behind its clock, so the whole load must fit in it: (WARMUP_SAMPLES + TOTAL_SAMPLES) / SERIES
# rounds of this (3.3M / 3000 x 5 s = 1.5 h).
INTERVAL_MS=${INTERVAL_MS:-5000}
REGIONS=${REGIONS:-3}
CONNECTIONS=${CONNECTIONS:-2}
REPEATS=${REPEATS:-1}
DURATION_LIMIT=${DURATION_LIMIT:-120}
PORT_BASE=${PORT_BASE:-19400}
SETTLE_SECONDS=${SETTLE_SECONDS:-1}

for bin in "$NINES" "$LOADGEN"; do
  [[ -x $bin ]] || { echo "missing $bin: build nines and nines_rw_loadgen in $BUILD_DIR" >&2; exit 1; }
done
if [[ " $SYSTEMS " == *" prometheus "* && ! -x $PROMETHEUS ]]; then
  echo "missing $PROMETHEUS (apt-get install -y prometheus)" >&2
  exit 1
fi

CLK_TCK=$(getconf CLK_TCK)
TMP=$(mktemp -d /tmp/nines-rw-compare.XXXXXX)
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  if [[ ${KEEP_TMP:-0} == 1 ]]; then echo "kept $TMP" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

cpu_ticks() {  # utime+stime of PID, in clock ticks (fields 14, 15; comm may hold spaces)
  sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'
}
hwm_kib() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }

forget_pid() {  # so that cleanup never signals a reused PID
  local keep=() p
  for p in "${PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
  PIDS=("${keep[@]}")
}

stop_pid() {
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  forget_pid "$pid"
}

wait_ready() {  # URL PID
  for _ in $(seq 150); do
    kill -0 "$2" 2>/dev/null || return 1
    curl -sf -o /dev/null "$1" && return 0
    sleep 0.2
  done
  return 1
}

# The server's own count of stored samples (0 for the sink).
stored_samples() {  # SYSTEM PORT
  case $1 in
    nines)
      curl -sf "http://127.0.0.1:$2/metrics" |
        awk '/^nines_remote_write_received_samples_total\{outcome="appended"\}/ {printf "%d", $2; f=1} END {if (!f) print 0}' ;;
    prometheus)
      curl -sf "http://127.0.0.1:$2/metrics" |
        awk '/^prometheus_tsdb_head_samples_appended_total\{type="float"\}/ {printf "%d", $2; f=1} END {if (!f) print 0}' ;;
    *) echo 0 ;;
  esac
}

# Starts SYSTEM on PORT with data in DIR; sets SERVER_PID.
start_server() {
  local system=$1 port=$2 dir=$3
  mkdir -p "$dir"
  case $system in
    nines)
      # No self-scrape, as Prometheus scrapes nothing here. The load ends 2 minutes before
      # now and spans less than the out-of-order window (2 h behind nines' clock; see
      # INTERVAL_MS), so nines stores all of it, as Prometheus does.
      printf 'storage:\n  self_scrape_interval: 0s\n' >"$dir/nines.yaml"
      "$NINES" serve --config "$dir/nines.yaml" --listen "127.0.0.1:$port" \
        --data-dir "$dir/data" --log-level warning >"$dir/log" 2>&1 &
      SERVER_PID=$!
      PIDS+=("$SERVER_PID")
      wait_ready "http://127.0.0.1:$port/metrics" "$SERVER_PID" ;;
    prometheus)
      printf 'global:\n  scrape_interval: 15s\nscrape_configs: []\n' >"$dir/prometheus.yml"
      "$PROMETHEUS" --config.file="$dir/prometheus.yml" --web.enable-remote-write-receiver \
        --storage.tsdb.path="$dir/data" --web.listen-address="127.0.0.1:$port" \
        >"$dir/log" 2>&1 &
      SERVER_PID=$!
      PIDS+=("$SERVER_PID")
      wait_ready "http://127.0.0.1:$port/-/ready" "$SERVER_PID" ;;
    sink)
      "$LOADGEN" --sink "127.0.0.1:$port" --duration-limit 900 >"$dir/log" 2>&1 &
      SERVER_PID=$!
      PIDS+=("$SERVER_PID")
      for _ in $(seq 50); do grep -q listening "$dir/log" 2>/dev/null && return 0; sleep 0.1; done
      return 1 ;;
  esac
}

field() { tr ' ' '\n' <<<"$2" | awk -F= -v k="$1" '$1 == k {print $2}'; }

RESULTS=$TMP/results.tsv
: >"$RESULTS"
echo "# remote-write comparison: $SERIES series over $REGIONS regions, $CONNECTIONS connections," \
  "$WARMUP_SAMPLES warm-up + $TOTAL_SAMPLES measured samples per run"
echo "# $(uname -srm); $(nproc) cores; $("$PROMETHEUS" --version 2>/dev/null | head -1)"
echo "# load at start: $(uptime)"

run_one() {  # SYSTEM SHAPE REPEAT
  local system=$1 shape=$2 rep=$3
  local bs=${shape%x*} sps=${shape#*x}
  local port dir
  case $system in nines) port=$PORT_BASE ;; prometheus) port=$((PORT_BASE + 1)) ;;
    *) port=$((PORT_BASE + 2)) ;; esac
  dir=$TMP/$system-$shape-$rep
  if ! start_server "$system" "$port" "$dir"; then
    echo "$system did not start; log:" >&2
    tail -20 "$dir/log" >&2
    exit 1
  fi
  local url="http://127.0.0.1:$port/api/v1/write"
  local now_ms start_ms
  now_ms=$(date +%s%3N)
  # Data ends about 2 minutes before now: recent, moving forward, INTERVAL_MS per round per
  # series.
  start_ms=$((now_ms - (WARMUP_SAMPLES + TOTAL_SAMPLES) * INTERVAL_MS / SERIES - 120000))
  local common=(--url "$url" --series "$SERIES" --regions "$REGIONS" --interval-ms "$INTERVAL_MS"
    --batch-series "$bs"
    --samples-per-series "$sps" --connections "$CONNECTIONS" --duration-limit "$DURATION_LIMIT")
  local warm
  warm=$("$LOADGEN" "${common[@]}" --total-samples "$WARMUP_SAMPLES" --start-ms "$start_ms" \
    2>>"$dir/loadgen.err") || { echo "warm-up failed ($system $shape): $warm" >&2; tail -5 "$dir/loadgen.err" >&2; }
  local next
  next=$(field next_start_ms "$warm")
  sleep "$SETTLE_SECONDS"
  local stored0 cpu0 perf_pid=""
  stored0=$(stored_samples "$system" "$port")
  if [[ -n ${NINES_PERF:-} && $system == nines ]]; then
    perf record -e cpu-clock -F 499 --call-graph "${NINES_PERF_CALLGRAPH:-dwarf,16384}" -p "$SERVER_PID" -o "$NINES_PERF.$shape.$rep" \
      >/dev/null 2>"$dir/perf.err" &
    perf_pid=$!
    PIDS+=("$perf_pid")
    sleep 0.5
  fi
  cpu0=$(cpu_ticks "$SERVER_PID")
  local out rc=0
  out=$("$LOADGEN" "${common[@]}" --total-samples "$TOTAL_SAMPLES" --start-ms "$next" \
    2>>"$dir/loadgen.err") || rc=$?
  sleep "$SETTLE_SECONDS"  # deferred work the load caused is part of its cost
  local cpu1 hwm stored1
  cpu1=$(cpu_ticks "$SERVER_PID")
  hwm=$(hwm_kib "$SERVER_PID")
  stored1=$(stored_samples "$system" "$port")
  if [[ -n $perf_pid ]]; then
    kill -INT "$perf_pid" 2>/dev/null || true
    wait "$perf_pid" 2>/dev/null || true
    forget_pid "$perf_pid"
  fi
  stop_pid "$SERVER_PID"
  if [[ $rc != 0 ]]; then
    echo "loadgen reported errors for $system $shape: $out" >&2
    tail -5 "$dir/loadgen.err" >&2
  fi
  local accepted seconds errors client_cpu
  accepted=$(field samples_accepted "$out")
  seconds=$(field seconds "$out")
  errors=$(field errors "$out")
  client_cpu=$(field client_cpu_seconds "$out")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$rep" "$system" "$shape" "$accepted" \
    "$seconds" "$((cpu1 - cpu0))" "$hwm" "$((stored1 - stored0))" "$errors" "$client_cpu" \
    >>"$RESULTS"
  echo "# done: $system $shape (repeat $rep): $out" >&2
}

for rep in $(seq "$REPEATS"); do
  for shape in $SHAPES; do
    for system in $SYSTEMS; do
      run_one "$system" "$shape" "$rep"
    done
  done
done

echo "# load at end:   $(uptime)"
echo
awk -F'\t' -v tck="$CLK_TCK" '
  {
    key = $1 SUBSEP $2 SUBSEP $3
    rate[key] = $5 > 0 ? $4 / $5 : 0
    cpu[key] = $4 > 0 ? ($6 / tck) / ($4 / 1e6) : 0
    rss[key] = $7 / 1024
    rows[++n] = $0
  }
  END {
    printf "%-3s %-10s %-6s %12s %10s %9s %12s %10s %6s %9s\n", "rep", "system", "shape", \
      "samples/s", "CPU-s/1M", "peakRSS", "accepted", "stored", "errors", "gen-CPU-s"
    for (i = 1; i <= n; i++) {
      split(rows[i], f, "\t")
      key = f[1] SUBSEP f[2] SUBSEP f[3]
      printf "%-3s %-10s %-6s %12.0f %10.3f %6.1f MiB %12d %10d %6d %9s\n", f[1], f[2], f[3], \
        rate[key], cpu[key], rss[key], f[4], f[8], f[9], f[10]
    }
    print ""
    printf "%-3s %-6s %16s %16s %16s   goal: >=2, <=0.5, <=1\n", "rep", "shape", \
      "samples/s ratio", "CPU/1M ratio", "peak RSS ratio"
    for (i = 1; i <= n; i++) {
      split(rows[i], f, "\t")
      if (f[2] != "nines") continue
      a = f[1] SUBSEP "nines" SUBSEP f[3]; b = f[1] SUBSEP "prometheus" SUBSEP f[3]
      if (!(b in rate) || rate[b] == 0 || cpu[b] == 0 || rss[b] == 0) continue
      r1 = rate[a] / rate[b]; r2 = cpu[a] / cpu[b]; r3 = rss[a] / rss[b]
      printf "%-3s %-6s %11.2f %-4s %11.2f %-4s %11.2f %-4s\n", f[1], f[3], \
        r1, (r1 >= 2 ? "ok" : "MISS"), r2, (r2 <= 0.5 ? "ok" : "MISS"), r3, (r3 <= 1 ? "ok" : "MISS")
    }
  }' "$RESULTS"

#!/usr/bin/env bash
# Time to page: the same hard outage of a loopback target, measured side by side by
#  (a) nines: two agents (locations a and b) probe the target every 15 s and remote-write to an
#      engine (`nines serve`), whose rules raise the alerts and whose `alerting:` section routes
#      them to a webhook receiver; and
#  (b) Debian's stack at its usual defaults: two prometheus-blackbox-exporters (locations a and
#      b), prometheus (scrape 15 s, evaluation 1 m) and prometheus-alertmanager (group_wait 30 s,
#      group_interval 5m) with a webhook receiver.
# Seconds from the outage's start (the moment the target is killed) to the webhook receiving the
# page, for two rule kinds in each system:
#  - quorum: the target fails from both locations for 1m.
#      nines: a threshold rule, probe_success == 0, min_count 2, group_by [probe, region], for: 1m.
#      stack: count by (instance) (probe_success == 0) >= 2, for: 1m.
#  - burn: a 99.8%, 30-day SLO's page at 14.4x over 1h and 5m (2 bad minutes of 60, or 1.73
#      minutes of 15-second samples: 7 of 240).
#      nines: a probe_availability SLO, quorum 2, burn_rates [{page, long 1h, short 5m, 14.4}].
#      stack: Sloth-style: SLI recording rules slo:sli_error:ratio_rate5m and _rate1h (error ratio
#      1 - avg_over_time(probe_success[W]), averaged over both locations) in one group, and the
#      page alert (both > 14.4 * 0.002, no `for`, as Sloth generates it) in a second group, both
#      at the 1m evaluation interval.
#    Only the 14.4x pair: Sloth's and nines' pages also carry 6x over 6h/30m, which over a
#    young (1h) history would fire after one bad minute; nines' store takes late samples only up
#    to 2h back, so neither side gets 6h of history and neither side gets the 6x pair.
#
# A full hour of history (the 1h window must be full, or a young window burns faster): both
# systems are given the same 70 minutes of probe_success = 1 for both locations, every 15 s,
# ending just before they start measuring:
#  - prometheus: an OpenMetrics file with the exact series the live scrapes produce (job,
#    instance, location), turned into TSDB blocks with `promtool tsdb create-blocks-from
#    openmetrics` in its data dir before it starts (the live head begins after the blocks end);
#  - nines: the engine starts without probing, the history is remote-written to it (a small
#    Python remote-write 1.0 sender below: protobuf by hand, snappy as literals) with the exact
#    labels the agents' probes carry (probe, target, region, location, service), then the
#    agents start. The script checks that each location ends up as one series.
# For nines the script also records when each alert fired (firedAt in /api/v1/alerts, the
# engine's clock), shown as system "nines-fired": the page's time minus it is routing and
# delivery. A nines whose config refuses `alerting:` is measured on that alone (no page).
# Both systems then probe the healthy target for WARMUP seconds (default 45) plus a random 0 to
# JITTER-1 (default 60), the target (nginx, one process) is killed with SIGKILL (connections
# refused from then on), and the script waits up to LIMIT seconds (default 420) for the four
# pages, then stops everything by PID.
#
#   bench/time_to_page.sh [BUILD_DIR]        (default: build; needs the `nines` target built)
#
# Environment: TRIALS (default 1: each trial starts everything afresh), WARMUP, JITTER, LIMIT,
# SYSTEMS ("nines stack", default both), STACK_GROUP_WAIT (default 30s), NINES_GROUP_WAIT
# (default 0s: nines' example config routes severity="page" without a group wait; its root route
# keeps Alertmanager's 30s, as here). Binaries: NINES_PROMETHEUS, NINES_PROMTOOL,
# NINES_ALERTMANAGER, NINES_BLACKBOX_EXPORTER, NINES_NGINX. Everything listens on 127.0.0.1 on
# free ports, in one temp dir removed at exit.
#
# Reading the figures (the schedules' phases make each trial different):
#  - stack, quorum: the first failed scrape (0-15 s), the evaluation that sees it (0-60 s), `for`
#    (60 s: the next evaluation), group_wait (30 s): about 95-165 s.
#  - stack, burn rate: 7 failed scrapes of 240 (about 90-105 s), the recording group's next
#    evaluation (0-60 s), the alert group's (0-60 s, a group of its own as Sloth writes them),
#    group_wait (30 s).
#  - nines, quorum: both agents' first failed probe (0-15 s, plus the agents' 1 s flush), `for`
#    (60 s), the next 10 s evaluation, routing and the webhook.
#  - nines, burn rate: nines counts whole minutes, a minute bad when both locations failed in it,
#    so the page needs 2 bad minutes of 60 (2 > 1.73); the outage's first minute counts bad even
#    when it began late in it, so the page comes 1-2 minutes after the outage began (plus up to
#    one probe interval and one evaluation).
set -euo pipefail

BUILD=${1:-build}
NINES=$BUILD/app/nines
PROM=${NINES_PROMETHEUS:-/usr/bin/prometheus}
PROMTOOL=${NINES_PROMTOOL:-/usr/bin/promtool}
AM=${NINES_ALERTMANAGER:-/usr/bin/prometheus-alertmanager}
BLACKBOX=${NINES_BLACKBOX_EXPORTER:-/usr/bin/prometheus-blackbox-exporter}
NGINX=${NINES_NGINX:-/usr/sbin/nginx}
TRIALS=${TRIALS:-1}
WARMUP=${WARMUP:-45}
JITTER=${JITTER:-60}
LIMIT=${LIMIT:-420}
SYSTEMS=${SYSTEMS:-nines stack}
STACK_GROUP_WAIT=${STACK_GROUP_WAIT:-30s}
NINES_GROUP_WAIT=${NINES_GROUP_WAIT:-0s}
HISTORY_S=4200  # 70 minutes
for bin in "$PROM" "$PROMTOOL" "$AM" "$BLACKBOX" "$NGINX" "$(command -v python3 || echo python3)" \
  "$(command -v curl || echo curl)"; do
  [[ -x $bin ]] || { echo "missing $bin (scripts/install-deps.sh)" >&2; exit 1; }
done
want() { [[ " $SYSTEMS " == *" $1 "* ]]; }

tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {  # wait_port PORT NAME LOG: up to 30 s
  for _ in $(seq 300); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1  # polling a child's port; this is a script, not a test
  done
  echo "$2 did not open port $1; its log:" >&2; tail -20 "$3" >&2; exit 1
}
now() { date +%s.%N; }

# --- helpers written once -------------------------------------------------------------------

# The webhook receiver: one line per alert of every POST ("unix_time path status alertname"),
# and the raw bodies beside it.
cat >"$tmp/receiver.py" <<'PY'
import http.server, json, sys, time
port, log_path = int(sys.argv[1]), sys.argv[2]
log = open(log_path, "a", buffering=1)
class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        t = time.time()
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            doc = json.loads(body)
        except ValueError:
            doc = {}
        path = self.path.strip("/") or "-"
        for a in doc.get("alerts", []):
            name = a.get("labels", {}).get("alertname", "?")
            log.write(f"{t:.3f} {path} {a.get('status', '?')} {name}\n")
        with open(log_path + ".bodies", "ab") as f:
            f.write(f"{t:.3f} {path} ".encode() + body + b"\n")
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
PY

# A Prometheus remote-write 1.0 sender for the nines history: WriteRequest encoded by hand,
# snappy as literal-only blocks (valid snappy that any decoder reads). Series as JSON label maps.
cat >"$tmp/rw_history.py" <<'PY'
import json, struct, sys, urllib.request
url, series_json, start_ms, end_ms, step_ms = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:6])
def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)
def field(num, payload):  # length-delimited
    return varint(num << 3 | 2) + varint(len(payload)) + payload
def snappy(data):
    out = bytearray(varint(len(data)))
    for i in range(0, len(data), 65536):
        chunk = data[i:i + 65536]
        out += bytes([61 << 2]) + struct.pack("<H", len(chunk) - 1) + chunk
    return bytes(out)
series = json.loads(series_json)
stamps = list(range(start_ms, end_ms + 1, step_ms))
for lo in range(0, len(stamps), 120):
    req = bytearray()
    for labels in series:
        ts = b"".join(field(1, field(1, k.encode()) + field(2, v.encode()))
                      for k, v in sorted(labels.items()))
        for t in stamps[lo:lo + 120]:
            ts += field(2, b"\x09" + struct.pack("<d", 1.0) + b"\x10" + varint(t))
        req += field(1, ts)
    r = urllib.request.Request(url, data=snappy(bytes(req)), method="POST", headers={
        "Content-Type": "application/x-protobuf", "Content-Encoding": "snappy",
        "X-Prometheus-Remote-Write-Version": "0.1.0"})
    with urllib.request.urlopen(r, timeout=30) as resp:
        if resp.status // 100 != 2:
            sys.exit(f"remote write: HTTP {resp.status}")
print(f"{len(series)} series x {len(stamps)} samples")
PY

# --- one trial --------------------------------------------------------------------------------

start_target() {  # nginx, one process, serving /health
  mkdir -p "$T/nginx"
  cat >"$T/nginx/nginx.conf" <<CONF
daemon off;
master_process off;
pid $T/nginx/nginx.pid;
error_log stderr warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $T/nginx/body; proxy_temp_path $T/nginx/proxy;
  fastcgi_temp_path $T/nginx/fastcgi; uwsgi_temp_path $T/nginx/uwsgi; scgi_temp_path $T/nginx/scgi;
  server {
    listen 127.0.0.1:$target_port;
    location = /health { default_type application/json; return 200 '{"status":"ok"}'; }
  }
}
CONF
  "$NGINX" -p "$T/nginx/" -c "$T/nginx/nginx.conf" -e stderr >"$T/nginx.log" 2>&1 &
  target_pid=$!; pids+=("$target_pid")
  wait_port "$target_port" nginx "$T/nginx.log"
}

start_stack() {
  local bb_a bb_b prom_port am_port
  bb_a=$(free_port); bb_b=$(free_port); prom_port=$(free_port); am_port=$(free_port)
  cat >"$T/blackbox.yml" <<CONF
modules:
  http_2xx:
    prober: http
    timeout: 5s
    http:
      preferred_ip_protocol: ip4
CONF
  for loc in a b; do
    local port=$bb_a; [[ $loc == b ]] && port=$bb_b
    "$BLACKBOX" --config.file="$T/blackbox.yml" --web.listen-address="127.0.0.1:$port" \
      >"$T/blackbox-$loc.log" 2>&1 &
    pids+=("$!")
  done
  cat >"$T/alertmanager.yml" <<CONF
route:
  receiver: webhook
  group_by: [alertname]
  group_wait: $STACK_GROUP_WAIT
receivers:
  - name: webhook
    webhook_configs:
      - url: http://127.0.0.1:$recv_port/stack
CONF
  "$AM" --config.file="$T/alertmanager.yml" --storage.path="$T/am" \
    --web.listen-address="127.0.0.1:$am_port" --cluster.listen-address= >"$T/am.log" 2>&1 &
  pids+=("$!")

  # The Sloth-style rules (recordings in one group, the page in another, as Sloth writes them)
  # and the quorum rule.
  local sel='probe_success{job=~"blackbox-.*"}'
  cat >"$T/rules.yml" <<CONF
groups:
  - name: sloth-slo-sli-recordings-target-availability
    rules:
      - record: slo:sli_error:ratio_rate5m
        expr: 1 - avg(avg_over_time(${sel}[5m]))
        labels: {sloth_service: target, sloth_slo: availability, sloth_window: 5m}
      - record: slo:sli_error:ratio_rate1h
        expr: 1 - avg(avg_over_time(${sel}[1h]))
        labels: {sloth_service: target, sloth_slo: availability, sloth_window: 1h}
  - name: sloth-slo-alerts-target-availability
    rules:
      - alert: SloBurnRate
        expr: |
          (
            max(slo:sli_error:ratio_rate5m{sloth_service="target", sloth_slo="availability"}
                > (14.4 * 0.002)) without (sloth_window)
            and
            max(slo:sli_error:ratio_rate1h{sloth_service="target", sloth_slo="availability"}
                > (14.4 * 0.002)) without (sloth_window)
          )
        labels: {severity: page}
  - name: quorum
    rules:
      - alert: CheckFailingFromTwoLocations
        expr: count by (instance) (${sel} == 0) >= 2
        for: 1m
        labels: {severity: page}
CONF
  local scrape=""
  for loc in a b; do
    local port=$bb_a; [[ $loc == b ]] && port=$bb_b
    scrape+="
  - job_name: blackbox-$loc
    metrics_path: /probe
    params: {module: [http_2xx]}
    static_configs: [{targets: ['$target_url'], labels: {location: $loc}}]
    relabel_configs:
      - {source_labels: [__address__], target_label: __param_target}
      - {source_labels: [__param_target], target_label: instance}
      - {target_label: __address__, replacement: '127.0.0.1:$port'}"
  done
  cat >"$T/prometheus.yml" <<CONF
global:
  scrape_interval: 15s
  evaluation_interval: 1m
rule_files: ['$T/rules.yml']
alerting:
  alertmanagers: [{static_configs: [{targets: ['127.0.0.1:$am_port']}]}]
scrape_configs:$scrape
CONF
  "$PROMTOOL" check config "$T/prometheus.yml" >"$T/promtool.log" 2>&1 ||
    { cat "$T/promtool.log" >&2; exit 1; }

  # The hour of history: the series the scrapes will write, every 15 s until 15 s ago.
  local end_s=$(( $(date +%s) - 15 ))
  {
    echo "# TYPE probe_success gauge"
    for loc in a b; do
      for ((t = end_s - HISTORY_S; t <= end_s; t += 15)); do
        echo "probe_success{instance=\"$target_url\",job=\"blackbox-$loc\",location=\"$loc\"} 1 $t"
      done
    done
    echo "# EOF"
  } >"$T/history.om"
  mkdir -p "$T/prom"
  "$PROMTOOL" tsdb create-blocks-from openmetrics "$T/history.om" "$T/prom" \
    >"$T/promtool.log" 2>&1 || { cat "$T/promtool.log" >&2; exit 1; }
  "$PROM" --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/prom" \
    --web.listen-address="127.0.0.1:$prom_port" >"$T/prom.log" 2>&1 &
  pids+=("$!")
  wait_port "$bb_a" blackbox "$T/blackbox-a.log"
  wait_port "$bb_b" blackbox "$T/blackbox-b.log"
  wait_port "$am_port" alertmanager "$T/am.log"
  wait_port "$prom_port" prometheus "$T/prom.log"
  stack_prom_port=$prom_port
}

# nines' side; its alerting section follows the form app/ reads (see examples/nines.yaml).
write_nines_config() {
  mkdir -p "$T/nines/rules"
  cat >"$T/nines/nines.yaml" <<CONF
server:
  listen: 127.0.0.1:$nines_port
  access_log: false
slo:
  evaluation_interval: 10s
regions:
  - name: local
    locations: [a, b]
services:
  - name: target
    checks:
      - name: target-http
        region: local
        interval: 15s
        http: {url: "$target_url"}
rule_files: [rules/*.yaml]
CONF
  [[ $1 == with-alerting ]] && cat >>"$T/nines/nines.yaml" <<CONF
alerting:
  route:
    receiver: webhook
    group_by: [alertname, slo, region]
    routes:
      - matchers: ['severity="page"']
        receiver: webhook
        group_wait: $NINES_GROUP_WAIT
  receivers:
    - name: webhook
      webhook_configs:
        - url: http://127.0.0.1:$recv_port/nines
CONF
  cat >"$T/nines/rules/rules.yaml" <<CONF
slos:
  - name: target-availability
    service: target
    objective: 99.8
    window: 30d
    sli:
      probe_availability: {selector: '{service="target"}', quorum: 2}
    alerting:
      burn_rates:
        - {severity: page, long: 1h, short: 5m, factor: 14.4}
alerts:
  - name: CheckFailingFromTwoLocations
    selector: probe_success
    op: "=="
    threshold: 0
    group_by: [probe, region]
    min_count: 2
    for: 1m
    labels: {severity: page}
CONF
}

start_nines() {
  "$NINES" serve --config "$T/nines/nines.yaml" --data-dir "$T/nines/data" >"$T/nines.log" 2>&1 &
  pids+=("$!")
  wait_port "$nines_port" nines "$T/nines.log"
  local series=""
  for loc in a b; do
    series+="${series:+,}{\"__name__\": \"probe_success\", \"probe\": \"target-http\","
    series+=" \"target\": \"$target_url\", \"region\": \"local\", \"location\": \"$loc\","
    series+=" \"service\": \"target\"}"
  done
  local end_ms=$(( ($(date +%s) - 15) * 1000 ))
  python3 "$tmp/rw_history.py" "http://127.0.0.1:$nines_port/api/v1/write" "[$series]" \
    $((end_ms - HISTORY_S * 1000)) "$end_ms" 15000 >"$T/nines-history.log" 2>&1 ||
    { echo "nines history:" >&2; cat "$T/nines-history.log" >&2; exit 1; }
  for loc in a b; do
    "$NINES" agent --config "$T/nines/nines.yaml" --location "$loc" \
      --engine "http://127.0.0.1:$nines_port/api/v1/write" --listen 127.0.0.1:0 \
      --queue-dir "$T/nines/queue-$loc" >"$T/nines-agent-$loc.log" 2>&1 &
    pids+=("$!")
  done
}

# The first firing arrival of ALERTNAME at PATH, in seconds after the outage began ("-" if none).
first_page() {
  awk -v p="$1" -v a="$2" -v t0="$outage" \
    '$2 == p && $3 == "firing" && $4 == a { printf "%.1f", $1 - t0; found = 1; exit }
     END { if (!found) printf "-" }' "$T/webhook.log"
}

# Without alerting wired: each alert's firedAt from /api/v1/alerts, once, as a receiver line.
poll_nines_fired() {
  curl -sf "http://127.0.0.1:$nines_port/api/v1/alerts?state=firing" 2>/dev/null | python3 -c '
import datetime, json, sys
seen = {l.split()[3] for l in open(sys.argv[1]) if l.split()[1] == "nines-fired"}
with open(sys.argv[1], "a") as log:
    for a in json.load(sys.stdin)["data"]["alerts"]:
        name = a["labels"].get("alertname", "?")
        if name in seen:
            continue
        seen.add(name)
        t = datetime.datetime.fromisoformat(a["firedAt"].replace("Z", "+00:00")).timestamp()
        log.write(f"{t:.3f} nines-fired firing {name}\n")
' "$T/webhook.log" || true
}

run_trial() {
  T=$tmp/trial-$1
  mkdir -p "$T"
  : >"$T/webhook.log"
  recv_port=$(free_port); target_port=$(free_port); nines_port=$(free_port)
  target_url="http://127.0.0.1:$target_port/health"
  python3 "$tmp/receiver.py" "$recv_port" "$T/webhook.log" >"$T/receiver.log" 2>&1 &
  pids+=("$!")
  wait_port "$recv_port" receiver "$T/receiver.log"
  start_target
  # systems: the rows measured, each "path" of a receiver line: stack (pages), nines (pages),
  # nines-fired (when nines' alerts fired, firedAt in /api/v1/alerts, the engine's own time: no
  # page, but where nines' delay ends and its delivery begins).
  local systems="" waits=""
  if want stack; then start_stack; systems+=" stack"; waits+=" stack"; fi
  if want nines; then
    write_nines_config with-alerting
    if [[ ! -x $NINES ]]; then
      echo "nines: $NINES not built; measuring the stack only" >&2
    elif "$NINES" check "$T/nines/nines.yaml" >"$T/nines-check.log" 2>&1; then
      start_nines; systems+=" nines nines-fired"; waits+=" nines"
    else
      # A nines without alerting refuses the section: then only when its rules fire is measured.
      echo "nines: its config is refused; measuring only when nines' alerts fire (no page):" >&2
      cat "$T/nines-check.log" >&2
      write_nines_config without-alerting
      "$NINES" check "$T/nines/nines.yaml" >"$T/nines-check.log" 2>&1 ||
        { cat "$T/nines-check.log" >&2; exit 1; }
      start_nines; systems+=" nines-fired"; waits+=" nines-fired"
    fi
  fi
  [[ -n $systems ]] || { echo "nothing to measure" >&2; exit 1; }

  # A random part, so that the outage falls at a new phase of the probe and evaluation
  # schedules in each trial (with a fixed one, nines' schedules, which start with its processes,
  # would meet the outage at the same phase every time).
  local healthy=$((WARMUP + RANDOM % JITTER))
  echo "trial $1:$systems up; target healthy for ${healthy}s" >&2
  sleep "$healthy"  # the healthy period before the outage; wall time is what is measured
  if [[ -s $T/webhook.log ]]; then
    echo "trial $1: pages before the outage (history or setup is wrong):" >&2
    cat "$T/webhook.log" >&2; exit 1
  fi
  outage=$(now)
  kill -KILL "$target_pid"
  wait "$target_pid" 2>/dev/null || true
  echo "trial $1: target killed at $(date -u -d "@${outage%.*}" +%T) UTC; waiting for pages" >&2

  local deadline=$(( ${outage%.*} + LIMIT )) need=0
  for _ in $waits; do need=$((need + 2)); done
  while (( $(date +%s) < deadline )); do
    [[ $systems == *nines-fired* ]] && poll_nines_fired
    (( $(awk -v w=" $waits " '$3 == "firing" && index(w, " " $2 " ") { print $2, $4 }' \
      "$T/webhook.log" | sort -u | wc -l) >= need )) && break
    sleep 0.5  # polling the receiver's log
  done

  for sys in $systems; do
    printf "%-6s %-12s %-30s %8s\n" "$1" "$sys" "CheckFailingFromTwoLocations" \
      "$(first_page "$sys" CheckFailingFromTwoLocations)" >>"$tmp/table"
    printf "%-6s %-12s %-30s %8s\n" "$1" "$sys" "SloBurnRate (14.4x 1h/5m)" \
      "$(first_page "$sys" SloBurnRate)" >>"$tmp/table"
  done
  if [[ $systems == *"nines nines-fired"* ]]; then
    # Routing and delivery: from the alert firing in nines to the webhook's receipt.
    awk -v trial="$1" '$3 == "firing" && !(($2, $4) in t) { t[$2, $4] = $1 }
      END { for (k in t) { split(k, p, SUBSEP)
              if (p[1] == "nines" && ((p[1] "-fired", p[2]) in t))
                printf "%-6s nines: %s fired -> webhook: %.0f ms\n", trial, p[2],
                  (t[k] - t[p[1] "-fired", p[2]]) * 1000 } }' "$T/webhook.log" >>"$tmp/delivery"
  fi
  if [[ $systems == *nines* ]]; then
    curl -s "http://127.0.0.1:$nines_port/api/v1/alerts" >"$T/nines-alerts.json" || true
    # Each location must be one series (history and live probes share their labels).
    local n
    n=$(curl -sg "http://127.0.0.1:$nines_port/api/v1/series?match[]=probe_success" | python3 -c \
      'import json,sys; print(len(json.load(sys.stdin)["data"]))' 2>/dev/null || echo "?")
    [[ $n == 2 ]] || echo "trial $1: nines holds $n probe_success series, want 2" >&2
  fi
  # Stop this trial's processes (by PID) before the next one starts.
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}

: >"$tmp/table"
: >"$tmp/delivery"
for trial in $(seq 1 "$TRIALS"); do run_trial "$trial"; done
echo "seconds from outage start (target killed) to the webhook receiving the page"
echo "(nines-fired: to the alert firing in nines, firedAt in /api/v1/alerts: no page)"
echo "(stack: scrape 15s, evaluation 1m, group_wait $STACK_GROUP_WAIT; nines: probes 15s,"
echo " evaluation 10s, group_wait $NINES_GROUP_WAIT; both with 70 minutes of healthy history)"
printf "%-6s %-12s %-30s %8s\n" trial system rule seconds
cat "$tmp/table"
cat "$tmp/delivery" 2>/dev/null || true

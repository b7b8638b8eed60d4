#!/usr/bin/env bash
# CPU per 1000 HTTP probes: blackbox_exporter vs nines, against the same nginx on loopback.
#
#   bench/probe_compare.sh [N=1000] [CONCURRENCY=20]
#
# blackbox_exporter is driven the way Prometheus drives it, one GET /probe per probe (curl, N
# requests, CONCURRENCY at a time); its CPU is utime+stime from /proc/<pid>/stat before and after
# (curl's own CPU is not counted). nines runs the same N probes in-process
# (nines_probe_bench --loadgen, which reads its own /proc/self/stat around the probing). nginx's
# CPU is reported for both runs, as a check that both did the same work.
# Needs: nginx, prometheus-blackbox-exporter, curl (scripts/install-deps.sh), and a build with
# bench/ (BUILD=build by default).
set -euo pipefail

N=${1:-1000}
C=${2:-20}
BUILD=${BUILD:-build}
NGINX=${NINES_NGINX:-/usr/sbin/nginx}
BLACKBOX=${NINES_BLACKBOX_EXPORTER:-/usr/bin/prometheus-blackbox-exporter}
LOADGEN=$BUILD/bench/nines_probe_bench
for bin in "$NGINX" "$BLACKBOX" "$LOADGEN" "$(command -v curl || echo curl)"; do
  [[ -x $bin ]] || { echo "missing $bin (scripts/install-deps.sh; build target nines_probe_bench)" >&2; exit 1; }
done

tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
  for _ in $(seq 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "port $1 did not open" >&2; exit 1
}
ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
per1000() { awk -v t="$1" -v hz="$hz" -v n="$N" 'BEGIN{printf "%.3f", t/hz*1000/n}'; }

nginx_port=$(free_port)
mkdir -p "$tmp/nginx"
cat > "$tmp/nginx/nginx.conf" <<CONF
daemon off;
master_process off;
pid $tmp/nginx/nginx.pid;
error_log stderr warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $tmp/nginx/body; proxy_temp_path $tmp/nginx/proxy;
  fastcgi_temp_path $tmp/nginx/fastcgi; uwsgi_temp_path $tmp/nginx/uwsgi; scgi_temp_path $tmp/nginx/scgi;
  server {
    listen 127.0.0.1:$nginx_port;
    location = /health { default_type application/json; return 200 '{"status":"ok"}'; }
  }
}
CONF
"$NGINX" -p "$tmp/nginx/" -c "$tmp/nginx/nginx.conf" -e stderr &
nginx_pid=$!; pids+=("$nginx_pid")
wait_port "$nginx_port"
target="http://127.0.0.1:$nginx_port/health"

bb_port=$(free_port)
cat > "$tmp/blackbox.yml" <<CONF
modules:
  http_2xx:
    prober: http
    timeout: 5s
    http:
      preferred_ip_protocol: ip4
CONF
"$BLACKBOX" --config.file="$tmp/blackbox.yml" --web.listen-address="127.0.0.1:$bb_port" \
  >"$tmp/blackbox.log" 2>&1 &
bb_pid=$!; pids+=("$bb_pid")
wait_port "$bb_port"
probe_url="http://127.0.0.1:$bb_port/probe?module=http_2xx&target=$target"
curl -sf "$probe_url" | grep -q '^probe_success 1' || { echo "blackbox probe failed" >&2; exit 1; }

# blackbox: N probes through /probe.
bb0=$(ticks "$bb_pid"); ng0=$(ticks "$nginx_pid"); t0=$(date +%s.%N)
seq "$N" | xargs -P "$C" -n 25 sh -c 'for _ in "$@"; do curl -s -o /dev/null "$0"; done' "$probe_url"
t1=$(date +%s.%N); bb1=$(ticks "$bb_pid"); ng1=$(ticks "$nginx_pid")
bb_cpu=$((bb1 - bb0)); bb_ng=$((ng1 - ng0))

# nines: the same N probes in-process.
ng0=$(ticks "$nginx_pid"); t2=$(date +%s.%N)
out=$("$LOADGEN" --loadgen "$target" "$N" "$C")
t3=$(date +%s.%N); ng1=$(ticks "$nginx_pid")
nines_cpu_s=$(sed -n 's/.*cpu_seconds=\([0-9.]*\).*/\1/p' <<<"$out")
nines_ng=$((ng1 - ng0))

echo "probes: $N, concurrency $C, target $target"
printf "%-22s %12s %14s %14s\n" "" "cpu s/1000" "wall s total" "nginx cpu s/1000"
printf "%-22s %12s %14.2f %14s\n" "blackbox_exporter" "$(per1000 "$bb_cpu")" \
  "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')" "$(per1000 "$bb_ng")"
printf "%-22s %12s %14.2f %14s\n" "nines (in-process)" \
  "$(awk -v s="$nines_cpu_s" -v n="$N" 'BEGIN{printf "%.3f", s*1000/n}')" \
  "$(awk -v a="$t2" -v b="$t3" 'BEGIN{print b-a}')" "$(per1000 "$nines_ng")"
echo "nines loadgen: $out"
awk -v b="$bb_cpu" -v hz="$hz" -v s="$nines_cpu_s" 'BEGIN{ if (s > 0) printf "ratio blackbox/nines: %.1fx\n", (b/hz)/s; }'

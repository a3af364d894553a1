#!/usr/bin/env bash
# The http library against nginx, measured the same way in one run (ratios, not timing asserts):
#   (1) wrk, keep-alive, the same settings against http_bench_server and nginx (one worker), plain
#       and TLS (same ECDSA P-256 certificate for both): requests/s, latency p50/p99 (wrk
#       --latency), server CPU from /proc/PID/stat (utime+stime over the run) as % of one core
#       and as microseconds per request, and the ratio ours/nginx. Each server is pinned to CPU
#       0 with taskset and wrk to CPU 1.
#   (2) the RSS of COUNT idle TLS connections (10,000; handshake done, no request): VmRSS of a
#       fresh server (ours; nginx's worker) before and after, and bytes per connection.
#
#   bench/http/run.sh BUILD_DIR [--quick] [--json FILE]
#
# --quick: 3 s wrk runs and 1,000 idle connections. Needs wrk, nginx (nginx-light), openssl,
# python3, curl, taskset. Not a test: no pass/fail; run it on a quiet machine (on a shared VM the
# figures are noisy).
set -euo pipefail
BUILD=${1:?usage: $0 BUILD_DIR [--quick] [--json FILE]}
shift
QUICK=0
JSON=""
while (($#)); do
  case $1 in
    --quick) QUICK=1 ;;
    --json) JSON=${2:?--json needs a file}; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
here=$(cd "$(dirname "$0")" && pwd)
server_bin=$BUILD/bench/http/http_bench_server
[[ -x $server_bin ]] || { echo "build http_bench_server first (ninja -C $BUILD http_bench_server)" >&2; exit 1; }
NGINX=${NGINX:-/usr/sbin/nginx}
for tool in wrk "$NGINX" openssl python3 curl taskset; do
  command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 1; }
done

if ((QUICK)); then DURATION=3; IDLE_COUNT=1000; else DURATION=10; IDLE_COUNT=10000; fi
THREADS=1
CONNECTIONS=50
SERVER_CPU=0
CLIENT_CPU=1
TIMEOUT=300  # header/idle timeouts of both servers: idle connections must outlive the test
ulimit -n $((IDLE_COUNT + 4096)) 2>/dev/null || ulimit -n "$(ulimit -Hn)"

tmp=$(mktemp -d /tmp/http-bench.XXXXXX)
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
  -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null

PLAIN_PORT=18080
TLS_PORT=18443
mkdir -p "$tmp/nginx/logs"
cat >"$tmp/nginx/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 1;
worker_rlimit_nofile $((IDLE_COUNT + 4096));
pid $tmp/nginx/nginx.pid;
error_log stderr warn;
events { worker_connections $((IDLE_COUNT + 1024)); }
http {
  access_log off;
  default_type text/plain;
  keepalive_requests 1000000000;
  keepalive_timeout ${TIMEOUT}s;
  client_header_timeout ${TIMEOUT}s;
  client_body_temp_path $tmp/nginx/body;
  server {
    listen 127.0.0.1:$PLAIN_PORT;
    listen 127.0.0.1:$TLS_PORT ssl;
    ssl_certificate $tmp/cert.pem;
    ssl_certificate_key $tmp/key.pem;
    location / { return 200 "Hello, world\n"; }
  }
}
EOF

# ---- helpers ---------------------------------------------------------------------------------
# cpu_ticks PID: utime+stime in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
now() { date +%s.%N; }
CLK_TCK=$(getconf CLK_TCK)

# wait_port PORT: until something listens on 127.0.0.1:PORT.
wait_port() {
  local i
  for i in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "nothing listening on port $1" >&2
  return 1
}

SERVER_PID=""  # the process whose CPU and RSS are measured (nginx: its worker)
MAIN_PID=""    # the process to stop
start_ours() {  # start_ours plain|tls
  local args=(--listen "127.0.0.1:$PLAIN_PORT" --timeout "$TIMEOUT" --max-connections $((IDLE_COUNT + 1024)))
  [[ $1 == tls ]] && args=(--listen "127.0.0.1:$TLS_PORT" --tls --cert "$tmp/cert.pem" --key "$tmp/key.pem"
    --timeout "$TIMEOUT" --max-connections $((IDLE_COUNT + 1024)))
  taskset -c $SERVER_CPU "$server_bin" "${args[@]}" >"$tmp/ours.out" 2>&1 &
  MAIN_PID=$!
  PIDS+=("$MAIN_PID")
  SERVER_PID=$MAIN_PID
  wait_port "$([[ $1 == tls ]] && echo $TLS_PORT || echo $PLAIN_PORT)"
  grep -q '^listening on' "$tmp/ours.out" || { cat "$tmp/ours.out" >&2; return 1; }
}
start_nginx() {
  taskset -c $SERVER_CPU "$NGINX" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -e stderr \
    >"$tmp/nginx.out" 2>&1 &
  MAIN_PID=$!
  PIDS+=("$MAIN_PID")
  wait_port $PLAIN_PORT
  wait_port $TLS_PORT
  local i
  SERVER_PID=""
  for i in $(seq 1 50); do
    SERVER_PID=$(ps -o pid= --ppid "$MAIN_PID" | head -1 | tr -d ' ')
    [[ -n $SERVER_PID ]] && break
    sleep 0.05
  done
  [[ -n $SERVER_PID ]] || { echo "no nginx worker" >&2; cat "$tmp/nginx.out" >&2; return 1; }
}
stop_server() {
  kill "$MAIN_PID" 2>/dev/null || true
  wait "$MAIN_PID" 2>/dev/null || true
  MAIN_PID="" SERVER_PID=""
}

# to_us VALUE: wrk's "95.00us", "1.23ms", "2.00s" in microseconds.
to_us() {
  awk -v v="$1" 'BEGIN {
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
    if (u == "us") m = 1; else if (u == "ms") m = 1000; else if (u == "s") m = 1000000; else m = 1
    printf "%.1f", n * m }'
}

declare -A R  # R[<test>.<server>.<field>]
# measure TEST NAME URL: one wrk run against the running server (SERVER_PID).
measure() {
  local test=$1 name=$2 url=$3 out="$tmp/wrk.$1.$2"
  local size
  size=$(curl -sk -o "$tmp/body" -w '%{size_download}' "$url")
  [[ $size == 13 && $(cat "$tmp/body") == "Hello, world" ]] ||
    { echo "$name $test: unexpected body ($size bytes)" >&2; return 1; }
  ((QUICK)) || taskset -c $CLIENT_CPU wrk -t$THREADS -c$CONNECTIONS -d1s "$url" >/dev/null  # warm-up
  local t0 c0 t1 c1
  t0=$(now) c0=$(cpu_ticks "$SERVER_PID")
  taskset -c $CLIENT_CPU wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency "$url" >"$out"
  t1=$(now) c1=$(cpu_ticks "$SERVER_PID")
  local rps total p50 p99 errors
  rps=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
  total=$(awk '/requests in/ { print $1 }' "$out")
  p50=$(to_us "$(awk '$1 == "50%" { print $2 }' "$out")")
  p99=$(to_us "$(awk '$1 == "99%" { print $2 }' "$out")")
  errors=$(awk '/Socket errors|Non-2xx/ { printf "%s ", $0 }' "$out")
  R[$test.$name.rps]=$rps
  R[$test.$name.p50]=$p50
  R[$test.$name.p99]=$p99
  R[$test.$name.cpu]=$(awk -v a="$c0" -v b="$c1" -v t0="$t0" -v t1="$t1" -v hz="$CLK_TCK" \
    'BEGIN { printf "%.1f", (b - a) / hz / (t1 - t0) * 100 }')
  R[$test.$name.us_per_req]=$(awk -v a="$c0" -v b="$c1" -v n="$total" -v hz="$CLK_TCK" \
    'BEGIN { if (n > 0) printf "%.2f", (b - a) / hz / n * 1e6; else print "-" }')
  R[$test.$name.errors]=${errors:-none}
  printf '    %-6s %-6s %10s req/s  p50 %8s us  p99 %8s us  CPU %5s%%  %s us/req  errors: %s\n' \
    "$test" "$name" "$rps" "$p50" "$p99" "${R[$test.$name.cpu]}" "${R[$test.$name.us_per_req]}" \
    "${R[$test.$name.errors]}"
}

# idle NAME PORT: RSS of the server (fresh) before and after IDLE_COUNT idle TLS connections.
idle() {
  local name=$1 port=$2 before after ready
  sleep 0.5
  before=$(rss_kb "$SERVER_PID")
  taskset -c $CLIENT_CPU python3 "$here/idle_tls_clients.py" 127.0.0.1 "$port" "$IDLE_COUNT" \
    >"$tmp/idle.$name" 2>&1 &
  local client=$!
  PIDS+=("$client")
  local i
  for i in $(seq 1 600); do
    grep -q '^ready' "$tmp/idle.$name" && break
    kill -0 "$client" 2>/dev/null || break
    sleep 0.2
  done
  ready=$(grep '^ready' "$tmp/idle.$name" || echo "ready 0 ?")
  sleep 2  # the server reads the last Finished messages and settles
  after=$(rss_kb "$SERVER_PID")
  local established
  established=$(awk '{ print $2 }' <<<"$ready")
  R[idle.$name.before_kb]=$before
  R[idle.$name.after_kb]=$after
  R[idle.$name.connections]=$established
  R[idle.$name.failed]=$(awk '{ print $3 }' <<<"$ready")
  R[idle.$name.bytes_per_conn]=$(awk -v a="$before" -v b="$after" -v n="$established" \
    'BEGIN { if (n > 0) printf "%.0f", (b - a) * 1024 / n; else print "-" }')
  if [[ $name == ours ]]; then
    kill -USR1 "$SERVER_PID"
    sleep 0.2
    R[idle.$name.server_says]=$(grep '^rss_kb=' "$tmp/ours.out" | tail -1)
  fi
  printf '    idle   %-6s %s established (%s failed): VmRSS %s -> %s KiB, %s bytes/connection\n' \
    "$name" "$established" "${R[idle.$name.failed]}" "$before" "$after" \
    "${R[idle.$name.bytes_per_conn]}"
  kill "$client" 2>/dev/null || true
  wait "$client" 2>/dev/null || true
}

# ---- the run ---------------------------------------------------------------------------------
echo "==> http bench: wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s (keep-alive), servers on CPU" \
  "$SERVER_CPU, wrk on CPU $CLIENT_CPU; $IDLE_COUNT idle TLS connections"
echo "  throughput"
start_ours plain
measure plain ours "http://127.0.0.1:$PLAIN_PORT/"
stop_server
start_nginx
measure plain nginx "http://127.0.0.1:$PLAIN_PORT/"
measure tls nginx "https://127.0.0.1:$TLS_PORT/"
stop_server
start_ours tls
measure tls ours "https://127.0.0.1:$TLS_PORT/"
stop_server

echo "  idle TLS connections (fresh servers)"
start_ours tls
idle ours $TLS_PORT
stop_server
start_nginx
idle nginx $TLS_PORT
stop_server

# ---- the table -------------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0 || a == "" || a == "-") print "-"; else printf "%.2f", a / b }'; }
echo
printf '%-7s %-12s %12s %10s %10s %8s %10s\n' test server "req/s" "p50 us" "p99 us" "CPU %" "CPU us/req"
for t in plain tls; do
  for s in ours nginx; do
    printf '%-7s %-12s %12s %10s %10s %8s %10s\n' "$t" "$s" "${R[$t.$s.rps]}" "${R[$t.$s.p50]}" \
      "${R[$t.$s.p99]}" "${R[$t.$s.cpu]}" "${R[$t.$s.us_per_req]}"
  done
  printf '%-7s %-12s %12s %10s %10s %8s %10s\n' "$t" "ours/nginx" \
    "$(ratio "${R[$t.ours.rps]}" "${R[$t.nginx.rps]}")" "$(ratio "${R[$t.ours.p50]}" "${R[$t.nginx.p50]}")" \
    "$(ratio "${R[$t.ours.p99]}" "${R[$t.nginx.p99]}")" "$(ratio "${R[$t.ours.cpu]}" "${R[$t.nginx.cpu]}")" \
    "$(ratio "${R[$t.ours.us_per_req]}" "${R[$t.nginx.us_per_req]}")"
done
echo
printf '%-7s %-12s %12s %12s %12s %12s\n' idle server connections "RSS before" "RSS after" "bytes/conn"
for s in ours nginx; do
  printf '%-7s %-12s %12s %10s K %10s K %12s\n' tls "$s" "${R[idle.$s.connections]}" \
    "${R[idle.$s.before_kb]}" "${R[idle.$s.after_kb]}" "${R[idle.$s.bytes_per_conn]}"
done
printf '%-7s %-12s %12s %12s %12s %12s\n' tls ours/nginx "" "" "" \
  "$(ratio "${R[idle.ours.bytes_per_conn]}" "${R[idle.nginx.bytes_per_conn]}")"
[[ -n ${R[idle.ours.server_says]:-} ]] && echo "(our server on SIGUSR1: ${R[idle.ours.server_says]})"

if [[ -n $JSON ]]; then
  {
    printf '{\n  "date": "%s",\n  "host": "%s",\n  "cpus": %s,\n' "$(date -u +%FT%TZ)" \
      "$(uname -srm)" "$(nproc)"
    printf '  "wrk": {"threads": %s, "connections": %s, "duration_s": %s},\n' $THREADS \
      $CONNECTIONS $DURATION
    printf '  "idle_count": %s,\n  "results": {\n' $IDLE_COUNT
    first=1
    for k in $(printf '%s\n' "${!R[@]}" | sort); do
      ((first)) || printf ',\n'
      first=0
      v=${R[$k]}
      if [[ $v =~ ^-?[0-9]+(\.[0-9]+)?$ ]]; then printf '    "%s": %s' "$k" "$v"; else
        printf '    "%s": "%s"' "$k" "${v//\"/\\\"}"; fi
    done
    printf '\n  }\n}\n'
  } >"$JSON"
  echo "wrote $JSON"
fi

#!/usr/bin/env bash
# A real Prometheus server (Debian's prometheus package) scrapes the sample registry on loopback:
# a small HTTP server answers each scrape with the format NegotiateFormat picks for Prometheus'
# own Accept header (OpenMetrics 1.0.0), so Prometheus' OpenMetrics parser reads our exposition;
# the test then asks the query API for the values it stored. promtool only reads the 0.0.4 text
# format, so this is the outside check of the OpenMetrics body.
# Usage: prometheus_scrape_test.sh <path to metrics_sample>. Exits 77 (skipped) without
# prometheus or python3. Everything listens on 127.0.0.1 only; both processes are stopped on exit.
set -euo pipefail
sample=${1:?usage: prometheus_scrape_test.sh <metrics_sample>}
for tool in prometheus python3 curl; do
  command -v "$tool" >/dev/null || {
    echo "SKIP: $tool not found (apt-get install prometheus python3 curl)"; exit 77; }
done

work=$(mktemp -d /tmp/metrics_prometheus.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  echo "--- exporter log"; cat "$work/exporter.log" 2>/dev/null || true
  echo "--- prometheus log (last 20 lines)"; tail -20 "$work/prometheus.log" 2>/dev/null || true
  exit 1
}

# The exporter: GET /metrics runs `metrics_sample --accept <Accept>` and replies with the
# negotiated Content-Type and body; it logs each Accept header and the Content-Type it sent.
cat > "$work/exporter.py" <<'PY'
import http.server, subprocess, sys
sample, port_file = sys.argv[1], sys.argv[2]
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        out = subprocess.run([sample, "--accept", self.headers.get("Accept", "")],
                             capture_output=True, check=True).stdout
        head, body = out.split(b"\n\n", 1)
        ctype = head.decode().split(": ", 1)[1]
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        print("accept=%s -> %s" % (self.headers.get("Accept"), ctype), flush=True)
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
open(port_file, "w").write(str(server.server_address[1]))
server.serve_forever()
PY
python3 "$work/exporter.py" "$sample" "$work/exporter.port" >"$work/exporter.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do [[ -s "$work/exporter.port" ]] && break; sleep 0.1; done
exporter_port=$(cat "$work/exporter.port" 2>/dev/null) || fail "the exporter did not start"
web_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

cat > "$work/prometheus.yml" <<EOF2
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: sample
    static_configs:
      - targets: ["127.0.0.1:$exporter_port"]
EOF2
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/data" \
  --web.listen-address="127.0.0.1:$web_port" >"$work/prometheus.log" 2>&1 &
pids+=($!)

# The first value of an instant query, or empty.
query() {
  curl -sf --max-time 2 "http://127.0.0.1:$web_port/api/v1/query" --data-urlencode "query=$1" |
    python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")' \
    2>/dev/null || true
}

for _ in $(seq 60); do
  [[ "$(query 'up{job="sample"}')" == 1 ]] && [[ -n "$(query 'meshvpn_test_peers')" ]] && break
  sleep 0.5
done
[[ "$(query 'up{job="sample"}')" == 1 ]] || fail "Prometheus did not scrape the sample (up != 1)"
grep -q 'openmetrics-text;version=1.0.0.* -> application/openmetrics-text; version=1.0.0' \
  "$work/exporter.log" || fail "the scrape was not answered in OpenMetrics 1.0.0"
head -1 "$work/exporter.log"

check() {  # check <query> <want>
  local got
  got=$(query "$1")
  python3 -c 'import sys; a, b = sys.argv[1], sys.argv[2]; sys.exit(0 if a and float(a) == float(b) or a == b else 1)' \
    "$got" "$2" || fail "$1 = '$got', want $2"
  echo "ok: $1 = $got"
}
check 'meshvpn_test_rx_bytes_total{peer="a"}' 5
check 'meshvpn_test_rx_bytes_total{peer="b\"\\\n"}' 7
check 'meshvpn_test_handshakes_total' 18446744073709551615
check 'meshvpn_test_dropped_packets_total{reason="replayed"}' 3
check 'meshvpn_test_peer_rx_bytes_total{peer="amy"}' 1000
check 'meshvpn_test_peer_last_handshake_seconds{peer="amy"}' 12.5
check 'meshvpn_test_peers' 2.5
check 'meshvpn_test_ratio{kind="inf"}' +Inf
check 'meshvpn_test_ratio{kind="neg"}' -Inf
check 'meshvpn_test_ratio{kind="nan"}' NaN
check 'meshvpn_test_handshake_duration_seconds_count' 4
check 'meshvpn_test_handshake_duration_seconds_sum' 3.875
check 'meshvpn_test_handshake_duration_seconds_bucket{le="1.0"}' 3
check 'meshvpn_test_handshake_duration_seconds_bucket{le="+Inf"}' 4
check 'scrape_samples_scraped{job="sample"}' 18  # every sample line of the body
echo "Prometheus scraped the OpenMetrics exposition and stored every value"

#!/usr/bin/env bash
# --metrics-listen on the wave-1 daemons, read by tools nobody here wrote:
#   * mini-wireguard (left) and wireguard-go (right) in two namespaces, a tunnel with pings (200 KB
#     each way); a real Prometheus server inside the left namespace scrapes mini-wireguard's
#     http://127.0.0.1:PORT/metrics, and its query API must return meshvpn_wg_rx_bytes_total and
#     meshvpn_wg_tx_bytes_total equal to the transfer `wg show` reports (traffic stopped), a
#     handshake count >= 1 and a per-peer series for wireguard-go's key;
#   * promtool check metrics lints each daemon's exposition: mini-wireguard, stun_server and
#     rendezvous (the last two after real requests, so their counters are non-zero);
#   * a bad --metrics-listen address makes the daemon exit with a clear error.
# Usage: daemon_metrics_test.sh BUILD. Skips (77) without prometheus, promtool or wireguard-go.
set -euo pipefail
BUILD=${1:?usage: daemon_metrics_test.sh BUILD}
source "$(dirname "$0")/lib/wg.sh"

wg_init metrics "$BUILD"
wg_require wireguard-go mini-wireguard
for tool in prometheus promtool curl python3; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool not found"; exit 77; }
done
STUN_SERVER=$BUILD/tools/stun_server/stun_server
RENDEZVOUS=$BUILD/tools/rendezvous/rendezvous
STUN_CLIENT=$BUILD/tools/stun_client/stun_client
for bin in "$STUN_SERVER" "$RENDEZVOUS" "$STUN_CLIENT"; do
  [[ -x $bin ]] || e2e_fail "$bin is not built"
done

METRICS_PORT=9586
e2e_pair left right 211
WG_MINI_ARGS="--metrics-listen 127.0.0.1:$METRICS_PORT" wg_start left mini-wireguard
wg_start right wireguard-go
wg_genkey left
wg_genkey right
wg_in left set "${WG_IFACE[left]}" listen-port 51820 private-key "${WG_KEYFILE[left]}" \
  peer "${WG_PUB[right]}" allowed-ips 10.11.0.2/32 endpoint "$E2E_right_IP:51821"
wg_in right set "${WG_IFACE[right]}" listen-port 51821 private-key "${WG_KEYFILE[right]}" \
  peer "${WG_PUB[left]}" allowed-ips 10.11.0.1/32
wg_addr left 10.11.0.1/24 fd11::1/64
wg_addr right 10.11.0.2/24 fd11::2/64
grep -q "Metrics: http://127.0.0.1:$METRICS_PORT/metrics" "${WG_OUT[left]}" ||
  e2e_fail "mini-wireguard did not print its metrics URL: $(cat "${WG_OUT[left]}")"

e2e_wait "a ping through the tunnel" 15 e2e_in left ping -c 1 -W 1 10.11.0.2
e2e_in left ping -c 5 -i 0.2 -W 2 10.11.0.2 >/dev/null || e2e_fail "pings through the tunnel"
# 200 pings of 1000 bytes: ~200 KB each way, well above what the handshakes carry.
e2e_in left ping -q -c 200 -s 1000 -i 0.005 -W 2 10.11.0.2 >"$E2E_WORK/bulk-ping.txt" 2>&1 ||
  { cat "$E2E_WORK/bulk-ping.txt"; e2e_fail "200 large pings through the tunnel"; }
e2e_pass "tunnel up: pings, 200 of them with 1000-byte payloads"

# 1. promtool lints what mini-wireguard serves.
scrape() { e2e_in "$1" curl -sf --max-time 3 "$2"; }
scrape left "http://127.0.0.1:$METRICS_PORT/metrics" >"$E2E_WORK/wg.prom" ||
  e2e_fail "GET /metrics from mini-wireguard"
promtool check metrics <"$E2E_WORK/wg.prom" >"$E2E_WORK/wg.promtool" 2>&1 ||
  { cat "$E2E_WORK/wg.promtool"; e2e_fail "promtool check metrics (mini-wireguard)"; }
grep -q "^meshvpn_wg_rx_bytes_total{" "$E2E_WORK/wg.prom" ||
  e2e_fail "no meshvpn_wg_rx_bytes_total in mini-wireguard's exposition"
e2e_pass "promtool: mini-wireguard's exposition ($(grep -vc '^#' "$E2E_WORK/wg.prom") series)"

# 2. A real Prometheus in the left namespace scrapes it every second.
cat >"$E2E_WORK/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: mini-wireguard
    static_configs:
      - targets: ["127.0.0.1:$METRICS_PORT"]
EOF
e2e_bg left prometheus prometheus --config.file="$E2E_WORK/prometheus.yml" \
  --storage.tsdb.path="$E2E_WORK/tsdb" --web.listen-address=127.0.0.1:9090
query() {
  e2e_in left curl -sf --max-time 2 http://127.0.0.1:9090/api/v1/query \
    --data-urlencode "query=$1" |
    python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")' \
      2>/dev/null || true
}
rx=""
for _ in $(seq 60); do
  rx=$(query "sum(meshvpn_wg_rx_bytes_total)")
  [[ -n $rx ]] && break
  sleep 0.5
done
[[ -n $rx ]] || { tail -20 "$E2E_WORK/prometheus.log"; e2e_fail "Prometheus never stored meshvpn_wg_rx_bytes_total"; }
up=$(query 'up{job="mini-wireguard"}')
[[ $up == 1 ]] || e2e_fail "Prometheus reports the target as up=$up"
# Compare with what `wg show` says. A passive keepalive (32 bytes) may go out between the two
# reads, so Prometheus' value must lie between wg show's before and after a fresh scrape.
read -r _ rx_before tx_before < <(wg_in left show "${WG_IFACE[left]}" transfer | head -1)
sleep 2.5  # more than two scrape intervals
rx=$(query "sum(meshvpn_wg_rx_bytes_total)")
tx=$(query "sum(meshvpn_wg_tx_bytes_total)")
read -r _ rx_after tx_after < <(wg_in left show "${WG_IFACE[left]}" transfer | head -1)
e2e_log "Prometheus: rx $rx, tx $tx bytes; wg show: rx $rx_before..$rx_after, tx $tx_before..$tx_after"
((rx_before <= rx && rx <= rx_after && tx_before <= tx && tx <= tx_after)) ||
  e2e_fail "Prometheus' rx/tx ($rx/$tx) are not wg show's ($rx_before..$rx_after/$tx_before..$tx_after)"
((rx > 200000)) || e2e_fail "rx bytes $rx: the 200 large pings are missing"
handshakes=$(query "sum(meshvpn_wg_handshakes_completed_total)")
[[ -n $handshakes ]] && (( ${handshakes%.*} >= 1 )) ||
  e2e_fail "handshakes completed: '$handshakes'"
peer_series=$(query "count(meshvpn_wg_rx_bytes_total{peer=\"${WG_PUB[right]}\"})")
[[ $peer_series == 1 ]] || e2e_fail "no per-peer series for wireguard-go's key (got '$peer_series')"
e2e_pass "Prometheus scraped mini-wireguard: rx $rx as wg show, $handshakes handshake(s), per-peer series"

# 3. stun_server and rendezvous on loopback in the right namespace, after real requests.
e2e_bg right stun_server "$STUN_SERVER" --listen 127.0.0.1:3478 --metrics-listen 127.0.0.1:9101
e2e_bg right rendezvous "$RENDEZVOUS" --listen 127.0.0.1:9000 --metrics-listen 127.0.0.1:9102
e2e_wait "stun_server's metrics" 10 e2e_in right curl -sf -o /dev/null http://127.0.0.1:9101/metrics
e2e_wait "rendezvous' metrics" 10 e2e_in right curl -sf -o /dev/null http://127.0.0.1:9102/metrics
e2e_in right "$STUN_CLIENT" --server 127.0.0.1:3478 >"$E2E_WORK/stun_client.out" 2>&1 ||
  { cat "$E2E_WORK/stun_client.out"; e2e_fail "stun_client against stun_server"; }
e2e_in right python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.sendto(b"junk", ("127.0.0.1", 9000))'
for pair in stun_server:9101 rendezvous:9102; do
  name=${pair%%:*} port=${pair##*:}
  for _ in $(seq 20); do
    scrape right "http://127.0.0.1:$port/metrics" >"$E2E_WORK/$name.prom" || true
    if [[ $name == stun_server ]]; then
      grep -q '^meshvpn_stun_requests_total [1-9]' "$E2E_WORK/$name.prom" && break
    else
      grep -q '^meshvpn_holepunch_dropped_datagrams_total{reason="malformed"} [1-9]' \
        "$E2E_WORK/$name.prom" && break
    fi
    sleep 0.2
  done
  promtool check metrics <"$E2E_WORK/$name.prom" >"$E2E_WORK/$name.promtool" 2>&1 ||
    { cat "$E2E_WORK/$name.promtool"; e2e_fail "promtool check metrics ($name)"; }
done
grep -q '^meshvpn_stun_requests_total [1-9]' "$E2E_WORK/stun_server.prom" ||
  e2e_fail "stun_server counted no requests: $(grep stun_requests "$E2E_WORK/stun_server.prom")"
grep -q '^meshvpn_holepunch_dropped_datagrams_total{reason="malformed"} [1-9]' \
  "$E2E_WORK/rendezvous.prom" || e2e_fail "rendezvous counted no malformed datagram"
e2e_pass "promtool: stun_server and rendezvous expositions, with the requests they answered"

# 4. A bad address is refused at start with a clear message.
set +e
out=$(e2e_in right timeout 5 "$STUN_SERVER" --listen 127.0.0.1:3479 --metrics-listen nowhere 2>&1)
rc=$?
set -e
[[ $rc != 0 && $rc != 124 ]] || e2e_fail "stun_server accepted --metrics-listen nowhere (rc $rc)"
grep -q "metrics-listen" <<<"$out" || e2e_fail "unclear error for a bad address: $out"
e2e_pass "a bad --metrics-listen address: exit $rc, '$(grep -m1 metrics-listen <<<"$out")'"

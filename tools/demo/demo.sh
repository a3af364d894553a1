#!/usr/bin/env bash
# The demo `./run demo` runs on embedded defaults: the most complete end-to-end scenario meshvpn
# has so far. Today: the crypto building blocks, an encrypted tunnel (psk_tunnel, C project 3)
# between two network namespaces, then WireGuard: our mini-wireguard against Debian's wireguard-go
# (deep dive project 7), with traffic, a look at the wire, `wg show` and the statistics; then the
# coordination server, mini-headscale, with two machines logging in (deep dive project 8).
# It grows with the project (next: the mesh client).
# usage: demo.sh BUILD_DIR     (as root: it makes network namespaces, and removes them)
source "$(cd "$(dirname "$0")/../.." && pwd)/test/e2e/lib/netns.sh"
build=${1:?usage: demo.sh BUILD_DIR}
tools="$build/tools"

banner() { printf '\n\033[1m=== %s ===\033[0m\n' "$*"; }

banner "1. Curve25519: two parties agree on a secret (deep dive project 4)"
"$tools/curve25519_demo/curve25519_demo"

banner "2. ChaCha20-Poly1305: sealing, tampering, nonce reuse (deep dive project 5)"
"$tools/chacha20poly1305_demo/chacha20poly1305_demo"

banner "3. An encrypted tunnel between two network namespaces (C project 3: psk_tunnel)"
e2e_init demo
e2e_pair alice bob 204
echo "namespaces: $E2E_alice ($E2E_alice_IP) and $E2E_bob ($E2E_bob_IP), joined by a veth pair"
psk="$tools/psk_tunnel/psk_tunnel"
"$psk" --genkey >"$E2E_WORK/tunnel.key"
echo "made a random 32-byte pre-shared key (it is never printed)"
e2e_bg alice alice "$psk" --mode server --listen :5000 --tun mvpn0 --address 10.0.0.1/24 \
  --key-file "$E2E_WORK/tunnel.key"
alice_pid=$E2E_LAST_PID
e2e_bg bob bob "$psk" --mode client --peer "$E2E_alice_IP:5000" --tun mvpn0 \
  --address 10.0.0.2/24 --key-file "$E2E_WORK/tunnel.key"
bob_pid=$E2E_LAST_PID
e2e_wait "alice to hear from bob" 10 grep -q "peer is now" "$E2E_WORK/alice.log"
echo "alice's tunnel log:"
sed 's/^/    /' "$E2E_WORK/alice.log"

echo
echo "bob pings alice's tunnel address 10.0.0.1:"
e2e_in bob ping -c 4 -i 0.3 10.0.0.1 | sed 's/^/    /'

echo
echo "what the wire carries meanwhile (tcpdump on bob's veth, one datagram):"
e2e_bg bob capture tcpdump -i "$E2E_bob_DEV" -c 1 -X -n udp port 5000
capture_pid=$E2E_LAST_PID
sleep 0.5
e2e_in bob ping -c 1 -p 48454c4c4f2d414c494345 10.0.0.1 >/dev/null   # "HELLO-ALICE"
e2e_wait "the capture" 5 grep -q "0x0000" "$E2E_WORK/capture.log"
sed -n '/IP /,$p' "$E2E_WORK/capture.log" | head -8 | sed 's/^/    /'
echo "    (the ping carried the text HELLO-ALICE; on the wire it is ChaCha20-Poly1305 ciphertext)"

echo
echo "a 10 MB TCP transfer through the tunnel, checked by sha256:"
head -c $((10 * 1024 * 1024)) /dev/urandom >"$E2E_WORK/payload"
e2e_bg alice sink sh -c "nc -l 10.0.0.1 7000 | sha256sum > '$E2E_WORK/received.sha'"
sink_pid=$E2E_LAST_PID
e2e_wait "the TCP sink" 10 e2e_in alice sh -c "ss -ltn | grep -q ':7000'"
start=$(date +%s%N)
e2e_in bob nc -N 10.0.0.1 7000 <"$E2E_WORK/payload"
for _ in $(seq 100); do kill -0 "$sink_pid" 2>/dev/null || break; sleep 0.1; done
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
sent=$(sha256sum <"$E2E_WORK/payload" | cut -c1-16)
received=$(cut -c1-16 "$E2E_WORK/received.sha")
echo "    sent sha256 ${sent}...  received sha256 ${received}...  (${elapsed_ms} ms)"
[[ "$sent" == "$received" ]] || e2e_fail "the transfer was corrupted"

e2e_stop "$bob_pid"
e2e_stop "$alice_pid"
echo
echo "alice's statistics:"
sed -n '/=== Tunnel Statistics ===/,$p' "$E2E_WORK/alice.log" | sed 's/^/    /'

banner "4. WireGuard: mini-wireguard (ours) and wireguard-go (Debian's) build a tunnel (project 7)"
if ! command -v wireguard-go >/dev/null || ! command -v wg >/dev/null; then
  echo "wireguard-go or wg is not installed (cmake/debian-packages.txt); skipping"
else
  e2e_pair mini gogo 205
  mini_key=$(wg genkey)
  go_key=$(wg genkey)
  mini_pub=$(wg pubkey <<<"$mini_key")
  go_pub=$(wg pubkey <<<"$go_key")
  echo "$go_key" >"$E2E_WORK/go.key"
  cat >"$E2E_WORK/wgdemo$$.conf" <<CONF
# mini-wireguard's side, in wg-quick's format
[Interface]
PrivateKey = $mini_key
Address = 10.55.0.1/24
ListenPort = 51820

[Peer]
PublicKey = $go_pub
Endpoint = $E2E_gogo_IP:51820
AllowedIPs = 10.55.0.2/32
CONF
  iface_go="wgd$$"
  echo "wireguard-go runs in $E2E_gogo as $iface_go, configured with wg set:"
  e2e_bg gogo wireguard-go env WG_PROCESS_FOREGROUND=1 wireguard-go -f "$iface_go"
  go_pid=$E2E_LAST_PID
  e2e_wait "wireguard-go's UAPI socket" 10 test -S "/var/run/wireguard/$iface_go.sock"
  e2e_in gogo wg set "$iface_go" private-key "$E2E_WORK/go.key" listen-port 51820 \
    peer "$mini_pub" allowed-ips 10.55.0.1/32
  e2e_in gogo ip address add 10.55.0.2/24 dev "$iface_go"
  e2e_in gogo ip link set "$iface_go" up
  echo "mini-wireguard runs in $E2E_mini from a wg-quick file (wgdemo$$.conf):"
  e2e_bg mini mini "$tools/mini-wireguard/mini-wireguard" -config "$E2E_WORK/wgdemo$$.conf" --trace 6
  mini_pid=$E2E_LAST_PID
  e2e_wait "mini-wireguard to come up" 10 grep -q "ready" "$E2E_WORK/mini.log"
  echo
  echo "mini-wireguard pings wireguard-go through the tunnel:"
  e2e_in mini ping -c 3 -i 0.3 10.55.0.2 | sed 's/^/    /'
  echo
  echo "mini-wireguard's log (the handshake, then the first packets in the seed's words):"
  grep -v '^\[\(tun\|udp\|wg\)\]' "$E2E_WORK/mini.log" | sed 's/^/    /'
  echo
  echo "wg show on mini-wireguard's side (the same wg tool that drives wireguard-go):"
  e2e_in mini wg show "wgdemo$$" | sed 's/^/    /'
  echo
  echo "a 10 MB TCP transfer from wireguard-go's side to mini-wireguard's, checked by sha256:"
  e2e_bg mini wgsink sh -c "nc -l 10.55.0.1 7001 | sha256sum > '$E2E_WORK/wg-received.sha'"
  wgsink_pid=$E2E_LAST_PID
  e2e_wait "the TCP sink" 10 e2e_in mini sh -c "ss -ltn | grep -q ':7001'"
  start=$(date +%s%N)
  e2e_in gogo nc -N 10.55.0.1 7001 <"$E2E_WORK/payload"
  for _ in $(seq 100); do kill -0 "$wgsink_pid" 2>/dev/null || break; sleep 0.1; done
  elapsed_ms=$((($(date +%s%N) - start) / 1000000))
  received=$(cut -c1-16 "$E2E_WORK/wg-received.sha")
  echo "    sent sha256 ${sent}...  received sha256 ${received}...  (${elapsed_ms} ms)"
  [[ "$sent" == "$received" ]] || e2e_fail "the WireGuard transfer was corrupted"
  e2e_stop "$mini_pid"
  e2e_stop "$go_pid"
  echo
  echo "mini-wireguard's statistics:"
  sed -n '/=== mini-wireguard statistics/,$p' "$E2E_WORK/mini.log" | grep -v '^\[' |
    sed 's/^/    /'
fi

banner "5. The coordination server: machines log in and learn their peers (deep dive project 8)"
mh="$tools/mini-headscale/mini-headscale"
probe="$build/test/e2e/control_probe"
e2e_ns control
mkdir -m 700 "$E2E_WORK/hs"
e2e_bg control hs "$mh" serve --state-dir "$E2E_WORK/hs" --stun-port 0
hs_pid=$E2E_LAST_PID
e2e_wait "mini-headscale to start" 10 grep -q "^Nodes: " "$E2E_WORK/hs.log"
hs() { e2e_in control "$mh" --state-dir "$E2E_WORK/hs" "$@"; }
hs users create alice | sed 's/^/    /'
key=$(hs preauthkeys create --user alice --reusable --expiration 1h)
echo "    made a reusable pre-auth key for alice (${key:0:17}..., the rest is secret)"
e2e_bg control laptop "$probe" 127.0.0.1 8080 alice-laptop "$key" --endpoint 192.168.1.50:41641
e2e_wait "alice-laptop to log in" 10 grep -q "^REGISTERED" "$E2E_WORK/laptop.log"
e2e_bg control desktop "$probe" 127.0.0.1 8080 bob-desktop - --endpoint 98.76.54.32:41641
e2e_wait "bob-desktop's auth URL" 10 grep -q "^AUTH_URL" "$E2E_WORK/desktop.log"
reg=$(sed -n 's|^AUTH_URL .*/auth/||p' "$E2E_WORK/desktop.log" | head -n 1)
echo "    bob-desktop logs in without a key and is told: $(grep '^AUTH_URL' "$E2E_WORK/desktop.log")"
echo "    the admin approves it: mini-headscale nodes register --user alice --key $reg"
hs nodes register --user alice --key "$reg" | sed 's/^/    /'
e2e_wait "alice-laptop to see bob-desktop" 10 grep -q "PEERS 1 bob-desktop=.*online,ep" \
  "$E2E_WORK/laptop.log"
echo
echo "mini-headscale's log (the seed's lines):"
sed -n '/^Starting/,$p' "$E2E_WORK/hs.log" | sed 's/^/    /'
echo
echo "what alice-laptop's control client heard (a full map, then only deltas):"
grep '^MAP' "$E2E_WORK/laptop.log" | sed 's/^/    /'
echo
echo "mini-headscale nodes list, and the seed's GET /api/machines:"
hs nodes list | sed 's/^/    /'
echo "    $(e2e_in control curl -s http://127.0.0.1:8080/api/machines)"
e2e_stop "$hs_pid"

banner "done"
echo "Next: the tools' lab pages in docs/labs/, and ./run test for the whole suite."

#!/usr/bin/env bash
# End-to-end test of udp_tunnel and psk_tunnel (C projects 2 and 3) between two network
# namespaces joined by a veth pair:
#   1. ping through the tunnel, IPv4 and IPv6 inside it;
#   2. a 20 MB TCP transfer through the tunnel, checked by sha256;
#   3. tcpdump on the veth: the plaintext marker is on the wire for udp_tunnel, never for psk_tunnel;
#   4. psk_tunnel only: a relay that flips a byte in every 5th datagram and replays every 7th;
#      traffic keeps flowing and the server counts exactly those drops.
# usage: tunnel_test.sh BUILD_DIR udp_tunnel|psk_tunnel [openssl|ref]
source "$(dirname "$0")/lib/netns.sh"
build=$1
tool=$2
backend=${3:-openssl}
bin="$build/tools/$tool/$tool"
mangler="$build/test/e2e/udp_mangler"
[[ -x "$bin" ]] || e2e_fail "$bin is not built"

e2e_init "${tool//_/}"
e2e_pair srv cli 203
marker="MVPN-PLAINTEXT-MARKER-$$"

extra=()
if [[ $tool == psk_tunnel ]]; then
  "$bin" --genkey >"$E2E_WORK/tunnel.key"
  extra=(--key-file "$E2E_WORK/tunnel.key" --backend "$backend")
fi

start_tunnels() {  # start_tunnels SERVER_PORT CLIENT_PEER
  e2e_bg srv server "$bin" --mode server --listen ":$1" --tun mvpn0 --address 10.77.0.1/24 \
    --address6 fd77::1/64 --keepalive 1 "${extra[@]}"
  server_pid=$E2E_LAST_PID
  e2e_bg cli client "$bin" --mode client --peer "$2" --tun mvpn0 --address 10.77.0.2/24 \
    --address6 fd77::2/64 --keepalive 1 "${extra[@]}"
  client_pid=$E2E_LAST_PID
  e2e_wait "the server to learn its peer" 10 grep -q "peer is now" "$E2E_WORK/server.log"
}

stop_tunnels() {
  e2e_stop "$client_pid"
  e2e_stop "$server_pid"
}

# --- 1. ping, v4 and v6 ------------------------------------------------------------------------
start_tunnels 5000 "$E2E_srv_IP:5000"
e2e_in cli ping -c 3 -i 0.2 -W 2 10.77.0.1 >"$E2E_WORK/ping4.log" || e2e_fail "IPv4 ping through $tool"
e2e_pass "IPv4 ping through $tool: $(grep -o '[0-9]* received' "$E2E_WORK/ping4.log")"
e2e_wait "IPv6 on the tunnel" 5 e2e_in cli ping -6 -c 1 -W 1 fd77::1
e2e_in cli ping -6 -c 3 -i 0.2 -W 2 fd77::1 >"$E2E_WORK/ping6.log" || e2e_fail "IPv6 ping through $tool"
e2e_pass "IPv6 ping through $tool"

# --- 2 + 3. 20 MB over TCP, with a capture on the veth ---------------------------------------
head -c $((20 * 1024 * 1024)) /dev/urandom >"$E2E_WORK/payload"
# The marker sits in the payload several times so a capture of any part of the stream has it.
for off in 0 5000000 10000000 15000000; do
  printf '%s' "$marker" | dd of="$E2E_WORK/payload" bs=1 seek=$off conv=notrunc status=none
done
want=$(sha256sum <"$E2E_WORK/payload" | cut -d' ' -f1)
e2e_bg cli capture tcpdump -i "$E2E_cli_DEV" -w "$E2E_WORK/wire.pcap" -s 0 -U udp
capture_pid=$E2E_LAST_PID
e2e_wait "tcpdump to start" 10 grep -q "listening on" "$E2E_WORK/capture.log"
e2e_bg srv sink sh -c "nc -l 10.77.0.1 7000 | sha256sum > '$E2E_WORK/received.sha'"
sink_pid=$E2E_LAST_PID
e2e_wait "the TCP sink" 10 e2e_in srv sh -c "ss -ltn | grep -q ':7000'"
start=$SECONDS
e2e_in cli timeout 60 nc -N 10.77.0.1 7000 <"$E2E_WORK/payload" || e2e_fail "TCP transfer through $tool"
for _ in $(seq 100); do kill -0 "$sink_pid" 2>/dev/null || break; sleep 0.1; done
got=$(cut -d' ' -f1 <"$E2E_WORK/received.sha")
[[ "$got" == "$want" ]] || e2e_fail "sha256 mismatch after the transfer: sent $want, received $got"
e2e_pass "20 MB over TCP through $tool in $((SECONDS - start))s, sha256 matches"
sleep 0.5
e2e_stop "$capture_pid"
if grep -aq "$marker" "$E2E_WORK/wire.pcap"; then on_wire=yes; else on_wire=no; fi
if [[ $tool == udp_tunnel ]]; then
  [[ $on_wire == yes ]] || e2e_fail "the marker should be visible on the wire of an unencrypted tunnel"
  e2e_pass "capture: the plaintext marker is on the wire (udp_tunnel does not encrypt)"
else
  [[ $on_wire == no ]] || e2e_fail "plaintext marker found on the wire of psk_tunnel"
  # The capture must really hold the transfer, or "no marker" proves nothing. Count bytes, not
  # packets: with UDP segmentation offload one captured packet carries up to 64 datagrams.
  packets=$(tcpdump -r "$E2E_WORK/wire.pcap" 2>/dev/null | wc -l)
  bytes=$(stat -c %s "$E2E_WORK/wire.pcap")
  ((bytes > 20 * 1024 * 1024)) ||
    e2e_fail "the capture holds only $bytes bytes ($packets packets) of a 20 MB transfer"
  e2e_pass "capture: $packets UDP packets ($bytes bytes) on the wire, no plaintext marker"
fi
stop_tunnels

# --- 4. a flipping, replaying relay (psk_tunnel only) ----------------------------------------
if [[ $tool == psk_tunnel ]]; then
  e2e_bg srv mangler "$mangler" 6000 127.0.0.1 5001 5 7
  mangler_pid=$E2E_LAST_PID
  e2e_wait "the mangler" 5 grep -q ready "$E2E_WORK/mangler.log"
  start_tunnels 5001 "$E2E_srv_IP:6000"
  e2e_in cli ping -c 30 -i 0.1 -W 1 10.77.0.1 >"$E2E_WORK/ping_mangled.log" || true
  received=$(grep -o '[0-9]* received' "$E2E_WORK/ping_mangled.log" | cut -d' ' -f1)
  ((received >= 15)) || e2e_fail "only $received of 30 pings came back through the mangler"
  # Traffic still flows after all the attacks.
  e2e_in cli ping -c 3 -i 0.2 -W 1 10.77.0.1 | grep -Eq ' [1-3] received' ||
    e2e_fail "no ping got through after the attacks"
  stop_tunnels
  e2e_stop "$mangler_pid"
  read -r flipped replayed < <(sed -n 's/.*flipped=\([0-9]*\) replayed=\([0-9]*\).*/\1 \2/p' \
    "$E2E_WORK/mangler.log")
  auth=$(sed -n 's/ *authentication failed: *\([0-9]*\)/\1/p' "$E2E_WORK/server.log" | tail -1)
  replays=$(sed -n 's/ *replayed: *\([0-9]*\)/\1/p' "$E2E_WORK/server.log" | tail -1)
  e2e_log "mangler flipped $flipped and replayed $replayed; server dropped $auth (auth) and $replays (replay)"
  ((flipped > 0 && replayed > 0)) || e2e_fail "the mangler did not get to attack"
  [[ "$auth" == "$flipped" ]] || e2e_fail "server counted $auth authentication failures, mangler flipped $flipped"
  [[ "$replays" == "$replayed" ]] || e2e_fail "server counted $replays replays, mangler replayed $replayed"
  e2e_pass "every flipped datagram failed authentication, every replay was dropped; $received/30 pings answered"
fi
e2e_pass "$tool end-to-end"

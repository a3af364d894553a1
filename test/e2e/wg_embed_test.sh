#!/usr/bin/env bash
# WireGuard embedded in an app, no TUN device: wg_ping (libwg's UvDevice with a PacketSink) runs
# as an unprivileged process and pings through a tunnel to wireguard-go:
#
#   ns app    10.214.0.1:51821 ----veth---- 10.214.0.2:51820   ns peer
#             wg_ping, user nobody, no capabilities,        wireguard-go -f wgp<pid>
#             no TUN (only lo and the veth)                 10.9.0.2/24 on its TUN interface
#   tunnel    10.9.0.1 (exists only inside wg_ping)
#
# Checks: wg_ping gets 5/5 echo replies from the peer's kernel, prints the handshake line before
# the first reply and exits 0; the app namespace never gains a link; `wg show` on the
# wireguard-go side reports a recent handshake, non-zero transfer (at least five transport
# messages each way) and wg_ping's address as the endpoint it learned. Then with a preshared key
# on the peer: wg_ping without it fails (exit 1, nothing received), with --psk-file it succeeds.
#
# usage: wg_embed_test.sh BUILD
source "$(dirname "$0")/lib/wg.sh"

[[ $# -ge 1 ]] || { echo "usage: $0 BUILD" >&2; exit 2; }
BUILD=$1
WG_PING=$BUILD/tools/wg_ping/wg_ping

wg_init wg_embed "$BUILD"
wg_require wireguard-go
command -v setpriv >/dev/null || { echo "SKIP: setpriv is not installed (util-linux)"; exit 77; }
[[ -x $WG_PING ]] || e2e_fail "wg_ping is not built: $WG_PING does not exist"
e2e_log "wg_ping ($WG_PING) without TUN against wireguard-go"

e2e_pair app peer 214
APP_IP=$E2E_app_IP PEER_IP=$E2E_peer_IP
APP_PORT=51821 PEER_PORT=51820
APP_TUN=10.9.0.1 PEER_TUN=10.9.0.2

# --- the peer: wireguard-go with a TUN interface, configured with wg set and ip ---------------
wg_start peer wireguard-go
wg_genkey peer
wg_genkey app
PEER_IFACE=${WG_IFACE[peer]}
e2e_log "configure peer: wg set $PEER_IFACE listen-port $PEER_PORT private-key peer.key" \
  "peer ${WG_PUB[app]:0:8}… allowed-ips $APP_TUN/32"
wg_in peer set "$PEER_IFACE" listen-port "$PEER_PORT" private-key "${WG_KEYFILE[peer]}" \
  peer "${WG_PUB[app]}" allowed-ips "$APP_TUN/32"
ip -n "$E2E_peer" addr add "$PEER_TUN/24" dev "$PEER_IFACE"
ip -n "$E2E_peer" link set "$PEER_IFACE" up
[[ $(wg_latest_handshake peer "${WG_PUB[app]}") == 0 ]] ||
  e2e_fail "the peer reports a handshake before any traffic"

# --- the app: an unprivileged process, no TUN -------------------------------------------------
# nobody must read its key: a copy it owns, in the work directory made traversable (not listable).
chmod 711 "$E2E_WORK"
install -m 600 -o nobody -g nogroup "${WG_KEYFILE[app]}" "$E2E_WORK/app-nobody.key"
AS_NOBODY=(setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all
  --bounding-set=-all --no-new-privs)
caps=$(e2e_in app "${AS_NOBODY[@]}" sh -c 'echo "uid $(id -u), $(grep CapEff /proc/self/status)"')
[[ $caps == *"CapEff:"*"0000000000000000" ]] || e2e_fail "the unprivileged context has: $caps"
e2e_log "wg_ping runs as: $caps (no CAP_NET_ADMIN: it could not create a TUN device)"
links_before=$(ip -n "$E2E_app" -o link show | awk -F': ' '{print $2}' | sort | xargs)

# wg_ping_run NAME EXPECTED_RC ARGS...: runs wg_ping as nobody in the app namespace, output to
# $E2E_WORK/NAME.log (printed), and checks its exit status.
wg_ping_run() {
  local name=$1 want_rc=$2 log="$E2E_WORK/$1.log" rc=0 start=$EPOCHREALTIME; shift 2
  e2e_log "==> wg_ping $*"
  e2e_in app timeout 30 "${AS_NOBODY[@]}" "$WG_PING" \
    --private-key-file "$E2E_WORK/app-nobody.key" --listen-port "$APP_PORT" \
    --peer-public-key "${WG_PUB[peer]}" --peer-endpoint "$PEER_IP:$PEER_PORT" \
    --address "$APP_TUN" --target "$PEER_TUN" "$@" >"$log" 2>&1 || rc=$?
  sed 's/^/    | /' "$log"
  ((rc == want_rc)) || e2e_fail "wg_ping ($name) exited with $rc, expected $want_rc"
  e2e_log "    exit status $rc after $(wg_ms_since "$start") ms"
}

# --- 1: five pings through the tunnel ------------------------------------------------------------
wg_ping_run ping5 0 --count 5 --interval-ms 200
log=$E2E_WORK/ping5.log
grep -q '^5 packets transmitted, 5 received, 0% packet loss' "$log" ||
  e2e_fail "wg_ping's summary is not 5/5"
replies=$(grep -cE "^64 bytes from $PEER_TUN: icmp_seq=[1-5] ttl=64 time=[0-9.]+ ms$" "$log" || true)
((replies == 5)) || e2e_fail "$replies reply lines instead of 5"
for seq in 1 2 3 4 5; do
  grep -q "icmp_seq=$seq " "$log" || e2e_fail "no reply line for icmp_seq=$seq"
done
hs_line=$(grep -n "^\[Handshake\] complete with ${WG_PUB[peer]:0:6}\.\.\." "$log" | head -1 | cut -d: -f1)
first_reply=$(grep -n "bytes from" "$log" | head -1 | cut -d: -f1)
[[ -n $hs_line ]] || e2e_fail "no '[Handshake] complete with ${WG_PUB[peer]:0:6}...' line"
((hs_line < first_reply)) || e2e_fail "the handshake line comes after the first reply"
grep -q "rtt min/avg/max = " "$log" || e2e_fail "no rtt line"
e2e_pass "wg_ping: handshake, then 5/5 echo replies from $PEER_TUN, exit 0"

links_after=$(ip -n "$E2E_app" -o link show | awk -F': ' '{print $2}' | sort | xargs)
[[ $links_after == "$links_before" ]] ||
  e2e_fail "the app namespace's links changed: '$links_before' -> '$links_after'"
e2e_pass "the app namespace has only its own links ($links_after): no TUN device was made"

# What wireguard-go saw: a handshake, traffic both ways, wg_ping's address learned as endpoint.
now=$(date +%s)
hs=$(wg_latest_handshake peer "${WG_PUB[app]}")
((hs > 0 && now - hs <= 30)) || e2e_fail "wg show on the peer: latest handshake $hs (now $now)"
read -r rx tx <<<"$(wg_field peer transfer "${WG_PUB[app]}")"
# An 84-byte ping is padded to 96 and sealed into a 128-byte transport message; five each way.
((rx >= 5 * 128 && tx >= 5 * 128)) || e2e_fail "wg show on the peer: transfer rx '$rx' tx '$tx'"
ep=$(wg_field peer endpoints "${WG_PUB[app]}")
[[ $ep == "$APP_IP:$APP_PORT" ]] || e2e_fail "wg show on the peer: endpoint $ep, not $APP_IP:$APP_PORT"
tun_rx=$(ip -n "$E2E_peer" -s -j link show "$PEER_IFACE" |
  grep -o '"rx":{"bytes":[0-9]*,"packets":[0-9]*' | grep -o '[0-9]*$')
((tun_rx >= 5)) || e2e_fail "the peer's TUN interface received $tun_rx packets, expected >= 5"
e2e_pass "wg show $PEER_IFACE (wireguard-go): peer ${WG_PUB[app]:0:8}…, handshake" \
  "$((now - hs)) s ago, rx $rx B, tx $tx B, endpoint $ep; its TUN received $tun_rx packets"
e2e_in peer timeout 10 wg show "$PEER_IFACE" | sed 's/^/    | /'

# --- 2: a preshared key on the peer: without it wg_ping fails, with it it works ---------------
(umask 077; wg genpsk >"$E2E_WORK/psk")
install -m 600 -o nobody -g nogroup "$E2E_WORK/psk" "$E2E_WORK/psk-nobody"
wg_in peer set "$PEER_IFACE" peer "${WG_PUB[app]}" preshared-key "$E2E_WORK/psk"
e2e_log "configure peer: preshared-key set for ${WG_PUB[app]:0:8}…"
wg_ping_run psk_missing 1 --count 2 --interval-ms 200 --wait-ms 1000
grep -q '^2 packets transmitted, 0 received, 100% packet loss' "$E2E_WORK/psk_missing.log" ||
  e2e_fail "without the psk wg_ping should receive nothing"
! grep -q '^\[Handshake\] complete' "$E2E_WORK/psk_missing.log" ||
  e2e_fail "a handshake completed without the psk"
e2e_pass "without the peer's preshared key: no handshake, 0/2 replies, exit 1"

hs_before=$(wg_latest_handshake peer "${WG_PUB[app]}")
sleep 1  # latest-handshake has 1 s resolution: the new one must be visibly later
wg_ping_run psk_ok 0 --count 3 --interval-ms 200 --psk-file "$E2E_WORK/psk-nobody"
grep -q '^3 packets transmitted, 3 received, 0% packet loss' "$E2E_WORK/psk_ok.log" ||
  e2e_fail "with the psk wg_ping's summary is not 3/3"
wg_wait_handshake peer "${WG_PUB[app]}" 5 "$hs_before"
e2e_pass "with --psk-file: a new handshake, 3/3 replies, exit 0"

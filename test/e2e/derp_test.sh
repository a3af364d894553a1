#!/usr/bin/env bash
# DERP end to end, through real NATs (natlab: nftables in network namespaces): derp_server on the
# lab's public hosts over TLS on port 443, derp_clients on hosts behind a symmetric NAT (a) and a
# NAT that blocks UDP (b): neither can be reached directly, both reach each other through the relay.
#
#   derp_test.sh BUILD_DIR SCENARIO        (as root; needs derp_server and derp_client built)
#
#   relay    lines from a reach b with a's key and the other way; the server saw both clients
#            from their NATs' public addresses; a killed mid-stream makes b hear PeerGone; the
#            packets counted on /metrics
#   restart  the server stopped (SIGTERM: Restarting frames) and killed (SIGKILL), each time
#            started again with the same key and certificate: both clients reconnect on their
#            own and packets flow again
#   mesh     a region of two meshed servers (one mesh key, one certificate): a on one, b on the
#            other, lines both ways, forwarded counts on both servers, PeerGone across the mesh
#   liars    clients that lie (a frame before the handshake, a box that does not open, an
#            oversized frame, no ClientInfo, a slowloris upgrade) are closed and counted while
#            a and b keep relaying
source "$(dirname "$0")/lib/netns.sh"
SCENARIO=${2:?usage: $0 BUILD_DIR relay|restart|mesh|liars}
e2e_init "derp-$SCENARIO"

SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$1
NATLAB=$SRC/tools/natlab/natlab
SERVER=$BUILD/tools/derp_server/derp_server
CLIENT=$BUILD/tools/derp_client/derp_client
LAB="derp$$"
S1=203.0.113.20  # the "rendezvous" host
S2=203.0.113.10  # the "stun" host
W=$E2E_WORK

for b in "$SERVER" "$CLIENT"; do
  [[ -x $b ]] || e2e_fail "$b is not built (ninja -C $BUILD derp_server derp_client)"
done

derp_cleanup() {
  local rc=$?
  set +e
  for pid in "${E2E_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  "$NATLAB" --name "$LAB" down >/dev/null 2>&1
  (exit $rc)
  e2e_cleanup
}
trap derp_cleanup EXIT

nl() { "$NATLAB" --name "$LAB" "$@"; }

# at_least FILE REGEX N: FILE has at least N lines matching REGEX (evaluated at each e2e_wait try).
at_least() { (($(grep -c "$2" "$1" 2>/dev/null || true) >= $3)); }

# One certificate for both servers' addresses (as a region sharing a certificate), and the
# region's mesh key.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=derp" \
  -addext "subjectAltName=IP:$S1,IP:$S2" -keyout "$W/tls.key" -out "$W/tls.crt" 2>/dev/null
chmod 600 "$W/tls.key"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$W/mesh.key"
chmod 600 "$W/mesh.key"

nl up "pair:symmetric,udp-blocked" >"$W/up.log" 2>&1 || {
  cat "$W/up.log"
  e2e_fail "natlab up"
}

# start_server NAME HOST [FLAGS...]: derp_server on HOST:443 (node NAME), log $W/NAME.log.
start_server() {
  local name=$1 host=$2
  shift 2
  local node=rendezvous starts
  [[ $host == "$S2" ]] && node=stun
  starts=$(grep -c "^Server key:" "$W/$name.log" 2>/dev/null || true)
  # "$NATLAB" itself, not the nl function: a function in the background is a subshell, and
  # its pid would not be the server's.
  "$NATLAB" --name "$LAB" exec "$node" -- "$SERVER" --addr "$host:443" --hostname "$host" --config "$W/$name.key" \
    --certfile "$W/tls.crt" --keyfile "$W/tls.key" --stun-port 3478 \
    --metrics-listen "$host:9090" "$@" >>"$W/$name.log" 2>&1 &
  E2E_PIDS+=("$!")
  eval "PID_$name=$!"
  e2e_wait "$name listening" 10 at_least "$W/$name.log" "^Server key:" $((${starts:-0} + 1))
}

# start_client NAME HOST SERVER_IP [FLAGS...]: derp_client on HOST (a or b), its stdin from the
# fifo $W/NAME.in (kept open), log $W/NAME.log; sets KEY_NAME to its public key.
start_client() {
  local name=$1 host=$2 server=$3
  shift 3
  mkfifo "$W/$name.in"
  "$NATLAB" --name "$LAB" exec "$host" -- "$CLIENT" --server "https://$server:443" --ca-file "$W/tls.crt" \
    --key-file "$W/$name.key" "$@" <"$W/$name.in" >"$W/$name.log" 2>&1 &
  E2E_PIDS+=("$!")
  eval "PID_$name=$!"
  exec {fd}>"$W/$name.in"  # the writer end: the client's stdin stays open until we close it
  eval "FD_$name=$fd"
  e2e_wait "$name connected" 10 grep -q "^\[Connected\]" "$W/$name.log"
  local key
  key=$(sed -n 's/^Public key: \(nodekey:[0-9a-f]*\)$/\1/p' "$W/$name.log")
  [[ -n $key ]] || e2e_fail "$name printed no public key"
  eval "KEY_$name=$key"
}

# say NAME LINE: the client NAME (started with --send-to) sends LINE as one packet.
say() {
  local fd_var="FD_$1"
  printf '%s\n' "$2" >&"${!fd_var}"
}

# received NAME FROM_KEY TEXT: NAME printed the packet TEXT from FROM_KEY.
received() { grep -qF "[Recv] from $2: $3" "$W/$1.log"; }

count_recv() { grep -c "^\[Recv\]" "$W/$1.log" || true; }

metric() {  # metric HOST NAME_WITH_LABELS: the value of one series on HOST's /metrics
  nl exec "${3:-a}" -- curl -s "http://$1:9090/metrics" | awk -v m="$2" '$1 == m { print $2 }'
}

case $SCENARIO in
relay)
  start_server s1 "$S1"
  start_client bob b "$S1"
  start_client alice a "$S1" --send-to "$KEY_bob"
  say alice "hello bob, from behind a symmetric NAT"
  say alice "second line"
  e2e_wait "bob got alice's lines" 10 received bob "$KEY_alice" "second line"
  received bob "$KEY_alice" "hello bob, from behind a symmetric NAT" || e2e_fail "first line"
  e2e_pass "alice -> bob through the relay, with alice's key"

  start_client carol b "$S1" --send-to "$KEY_alice"
  say carol "hello alice"
  e2e_wait "alice got carol's line" 10 received alice "$KEY_carol" "hello alice"
  e2e_pass "carol (b) -> alice (a): the other direction"

  # The server saw each client from its NAT's public side: the relay is what connects them.
  grep -q "\[Connect\] Client $KEY_alice from 203.0.113.101:" "$W/s1.log" ||
    e2e_fail "the server did not see alice from nat-a's public address"
  grep -q "\[Connect\] Client $KEY_bob from 203.0.113.102:" "$W/s1.log" ||
    e2e_fail "the server did not see bob from nat-b's public address"
  e2e_pass "the server saw the clients from 203.0.113.101 and .102 (their NATs)"

  # b cannot even send UDP out: DERP over TLS/TCP is its only way.
  if nl exec b -- timeout 5 "$BUILD/tools/stun_client/stun_client" --server "$S1:3478" \
    --sends 3 >"$W/stun_b.log" 2>&1; then
    e2e_fail "b got a STUN answer: its NAT should block UDP"
  fi
  e2e_pass "b has no UDP at all (STUN through its NAT fails) and still relays"

  sent=$(metric "$S1" meshvpn_derp_packets_sent_total)
  ((sent >= 3)) || e2e_fail "meshvpn_derp_packets_sent_total is $sent, want >= 3"
  e2e_pass "/metrics counts $sent relayed packets"

  # alice killed mid-stream: bob, who received from her, hears PeerGone(disconnected).
  say alice "last words"
  e2e_wait "bob got the last line" 10 received bob "$KEY_alice" "last words"
  kill -9 "$PID_alice"
  e2e_wait "bob hears PeerGone" 10 grep -qF "[PeerGone] $KEY_alice (disconnected)" "$W/bob.log"
  e2e_pass "alice killed: bob got PeerGone(disconnected) for her key"
  ;;

restart)
  start_server s1 "$S1"
  start_client bob b "$S1"
  start_client alice a "$S1" --send-to "$KEY_bob"
  say alice "before"
  e2e_wait "bob got 'before'" 10 received bob "$KEY_alice" "before"

  kill -TERM "$PID_s1"
  e2e_wait "alice told to come back" 10 grep -q "^\[Restarting\]" "$W/alice.log"
  e2e_wait "alice lost the server" 10 grep -q "^\[Disconnected\]" "$W/alice.log"
  wait "$PID_s1" 2>/dev/null || true
  start_server s1 "$S1"
  e2e_wait "alice reconnected" 20 at_least "$W/alice.log" '^\[Connected\]' 2
  e2e_wait "bob reconnected" 20 at_least "$W/bob.log" '^\[Connected\]' 2
  say alice "after a graceful restart"
  e2e_wait "bob got the line after the restart" 10 \
    received bob "$KEY_alice" "after a graceful restart"
  e2e_pass "SIGTERM: Restarting frames, both clients back on their own, relaying again"

  kill -9 "$PID_s1"
  e2e_wait "bob lost the server" 10 at_least "$W/bob.log" '^\[Disconnected\]' 2
  start_server s1 "$S1"
  e2e_wait "alice reconnected again" 30 at_least "$W/alice.log" '^\[Connected\]' 3
  e2e_wait "bob reconnected again" 30 at_least "$W/bob.log" '^\[Connected\]' 3
  say alice "after a crash"
  e2e_wait "bob got the line after the crash" 10 received bob "$KEY_alice" "after a crash"
  e2e_pass "SIGKILL: both clients back on their own (backoff), relaying again"
  test "$(sed -n 's/^Server key: //p' "$W/s1.log" | sort -u | wc -l)" -eq 1 ||
    e2e_fail "the server's key changed across restarts (its key file must keep it)"
  e2e_pass "the server kept its key across three starts (its 0600 key file)"
  ;;

mesh)
  start_server s1 "$S1" --mesh-key-file "$W/mesh.key" --mesh-with "$S2:443"
  start_server s2 "$S2" --mesh-key-file "$W/mesh.key" --mesh-with "$S1:443"
  e2e_wait "s1 meshed with s2" 15 grep -q "mesh $S2:443 connected" "$W/s1.log"
  e2e_wait "s2 meshed with s1" 15 grep -q "mesh $S1:443 connected" "$W/s2.log"
  start_client bob b "$S2"
  start_client alice a "$S1" --send-to "$KEY_bob"
  # s1 learns bob from s2's PeerPresent; until then alice's packets have nowhere to go.
  for _ in $(seq 50); do
    say alice "across the mesh"
    sleep 0.2
    received bob "$KEY_alice" "across the mesh" && break
  done
  received bob "$KEY_alice" "across the mesh" || e2e_fail "bob (on s2) never got alice's line"
  e2e_pass "alice on s1 -> bob on s2 through the mesh"
  start_client carol b "$S2" --send-to "$KEY_alice"
  say carol "back across"
  e2e_wait "alice got carol's line" 10 received alice "$KEY_carol" "back across"
  e2e_pass "carol on s2 -> alice on s1"
  out=$(metric "$S1" 'meshvpn_derp_packets_forwarded_total{direction="out"}')
  in=$(metric "$S2" 'meshvpn_derp_packets_forwarded_total{direction="in"}')
  ((out >= 1 && in >= 1)) || e2e_fail "forwarded out on s1 = $out, in on s2 = $in"
  e2e_pass "s1 forwarded $out packets out, s2 took $in in"
  kill -9 "$PID_alice"
  e2e_wait "bob hears PeerGone across the mesh" 15 \
    grep -qF "[PeerGone] $KEY_alice (disconnected)" "$W/bob.log"
  e2e_pass "alice killed on s1: bob on s2 got PeerGone"
  ;;

liars)
  start_server s1 "$S1"
  start_client bob b "$S1"
  start_client alice a "$S1" --send-to "$KEY_bob"
  # Longer than the liars take (the two timeouts alone are 20 s); cleanup ends it.
  (for i in $(seq 1 3000); do printf 'steady %d\n' "$i"; sleep 0.05; done) >&"$FD_alice" &
  E2E_PIDS+=("$!")
  e2e_wait "bob receiving" 10 received bob "$KEY_alice" "steady 5"
  nl exec a -- python3 "$SRC/test/e2e/derp_liar.py" "$S1" 443 >"$W/liars.log" 2>&1 ||
    { cat "$W/liars.log"; e2e_fail "a lying client was not closed"; }
  cat "$W/liars.log"
  before=$(count_recv bob)
  sleep 1
  after=$(count_recv bob)
  ((after > before)) || e2e_fail "bob stopped receiving while the liars ran ($before -> $after)"
  e2e_pass "bob kept receiving ($after packets) while every liar was closed"
  for r in bad-client-info:2 frame-too-large:1 handshake-timeout:1; do
    n=$(metric "$S1" "meshvpn_derp_connections_closed_total{reason=\"${r%%:*}\"}")
    ((n >= ${r##*:})) || e2e_fail "closed{reason=${r%%:*}} = $n, want >= ${r##*:}"
  done
  e2e_pass "/metrics counts the closes by reason"
  ;;

*) e2e_fail "unknown scenario $SCENARIO" ;;
esac

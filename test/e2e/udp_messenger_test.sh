#!/usr/bin/env bash
# End-to-end test of tools/udp_messenger (deep dive project 1) in three network namespaces:
#
#        ns A                      ns L (listener)                    ns B
#   udp_messenger  10.77.1.2 ---veth--- 10.77.1.1 udp_messenger   fd77:2::2 ---veth--- ...
#   -peer 10.77.1.1:4000             -listen :4000 (dual-stack)      -peer [fd77:2::1]:4000
#                                     fd77:2::1 ------------------------------------'
#
# A reaches the listener over IPv4 and B over IPv6, so the listener's one dual-stack socket serves
# both families. Checks: peers appear on their first packet, messages arrive, a broadcast reaches
# both peers, the statistics block counts exactly what was sent, a silent peer times out while a
# talking one does not, and bind errors (port in use, privileged port) are clear.
#
# Usage: udp_messenger_test.sh <build dir>   (root; exits 77, "skipped" for ctest, otherwise)
# Self-contained: everything it creates (namespaces mvpn-udp-<pid>-*, veths, processes, the
# work directory) is removed on exit, also when a check fails.
set -euo pipefail

BUILD=${1:?usage: udp_messenger_test.sh <build dir>}
BIN=${UDP_MESSENGER:-$BUILD/tools/udp_messenger/udp_messenger}
if [[ $(id -u) -ne 0 ]]; then
  echo "SKIP: needs root for network namespaces"
  exit 77
fi
command -v ip >/dev/null || { echo "SKIP: iproute2 (ip) is not installed"; exit 77; }
[[ -x $BIN ]] || { echo "FAIL: $BIN is not built"; exit 1; }

PREFIX=mvpn-udp-$$
NS_L=$PREFIX-l
NS_A=$PREFIX-a
NS_B=$PREFIX-b
VETH_LA=mu$$la # interface names: at most 15 characters
VETH_AL=mu$$al
VETH_LB=mu$$lb
VETH_BL=mu$$bl
WORK=$(mktemp -d /tmp/$PREFIX.XXXXXX)
declare -A PID=()

cleanup() {
  local rc=$?
  set +e
  trap '' PIPE # a closed stdout must not stop the cleanup
  for name in "${!PID[@]}"; do kill "${PID[$name]}" 2>/dev/null; done
  for name in "${!PID[@]}"; do wait "${PID[$name]}" 2>/dev/null; done
  exec 7>&- 8>&- 9>&- 2>/dev/null
  for ns in "$NS_L" "$NS_A" "$NS_B"; do ip netns del "$ns" 2>/dev/null; done
  for link in "$VETH_LA" "$VETH_LB"; do ip link del "$link" 2>/dev/null; done
  if [[ $rc -ne 0 ]]; then
    for f in "$WORK"/*.out "$WORK"/*.err; do
      [[ -s $f ]] && { echo "---- $(basename "$f")"; cat "$f"; }
    done
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
  echo "FAIL: $*"
  exit 1
}
pass() { echo "ok: $*"; }

# wait_for <file> <fixed string> [count] [seconds]: until the file has that many matching lines.
wait_for() {
  local file=$1 text=$2 count=${3:-1} seconds=${4:-10}
  local deadline=$((SECONDS + seconds)) n
  while true; do
    n=$(grep -cF -- "$text" "$file" 2>/dev/null) || true
    ((${n:-0} >= count)) && return 0
    ((SECONDS < deadline)) || fail "waited ${seconds}s for $count x '$text' in $(basename "$file")"
    sleep 0.05
  done
}
# stat_value <file> <label>: the value on the last "<label>: n" line, without thousands separators.
stat_value() {
  grep -F -- "$2: " "$1" | tail -n 1 | sed -e 's/.*: //' -e 's/,//g'
}
expect_stat() {
  local file=$1 label=$2 want=$3 got
  got=$(stat_value "$file" "$label")
  [[ $got == "$want" ]] || fail "$(basename "$file"): '$label' is '$got', want '$want'"
  pass "$(basename "$file" .out) $label: $got"
}

# ---- The network: L in the middle, A on IPv4, B on IPv6.
for ns in "$NS_L" "$NS_A" "$NS_B"; do
  ip netns add "$ns"
  ip -n "$ns" link set lo up
done
ip link add "$VETH_LA" type veth peer name "$VETH_AL"
ip link set "$VETH_LA" netns "$NS_L"
ip link set "$VETH_AL" netns "$NS_A"
ip link add "$VETH_LB" type veth peer name "$VETH_BL"
ip link set "$VETH_LB" netns "$NS_L"
ip link set "$VETH_BL" netns "$NS_B"
ip -n "$NS_L" addr add 10.77.1.1/24 dev "$VETH_LA"
ip -n "$NS_A" addr add 10.77.1.2/24 dev "$VETH_AL"
ip -n "$NS_L" addr add fd77:2::1/64 dev "$VETH_LB" nodad
ip -n "$NS_B" addr add fd77:2::2/64 dev "$VETH_BL" nodad
ip -n "$NS_L" link set "$VETH_LA" up
ip -n "$NS_A" link set "$VETH_AL" up
ip -n "$NS_L" link set "$VETH_LB" up
ip -n "$NS_B" link set "$VETH_BL" up

# Each messenger reads its stdin from a FIFO this script keeps open (fd 7, 8, 9).
mkfifo "$WORK/l.in" "$WORK/a.in" "$WORK/b.in"
exec 7<>"$WORK/l.in" 8<>"$WORK/a.in" 9<>"$WORK/b.in"

# `ip netns exec` execs the program, so $! is the messenger itself.
ip netns exec "$NS_L" "$BIN" -listen :4000 -peer_timeout 2s <"$WORK/l.in" >"$WORK/l.out" \
  2>"$WORK/l.err" &
PID[l]=$!
wait_for "$WORK/l.out" "Listening on :4000..."
pass "listener up"

ip netns exec "$NS_A" "$BIN" -peer 10.77.1.1:4000 <"$WORK/a.in" >"$WORK/a.out" 2>"$WORK/a.err" &
PID[a]=$!
ip netns exec "$NS_B" "$BIN" -peer '[fd77:2::1]:4000' <"$WORK/b.in" >"$WORK/b.out" \
  2>"$WORK/b.err" &
PID[b]=$!
wait_for "$WORK/a.out" "[Peer 10.77.1.1:4000] Added"
wait_for "$WORK/b.out" "[Peer [fd77:2::1]:4000] Added"

# ---- Messages: 3 from A, 2 from B. Bytes are counted as the listener should count them.
bytes_in=0
for i in 1 2 3; do
  msg="hello $i from a"
  echo "$msg" >&8
  bytes_in=$((bytes_in + ${#msg}))
  wait_for "$WORK/l.out" "Message: $msg"
done
for i in 1 2; do
  msg="hello $i from b (over IPv6)"
  echo "$msg" >&9
  bytes_in=$((bytes_in + ${#msg}))
  wait_for "$WORK/l.out" "Message: $msg"
done
[[ $(grep -c "Connected" "$WORK/l.out") -eq 2 ]] || fail "listener should print Connected twice"
grep -q "^\[Peer 10.77.1.2:[0-9]*\] Connected$" "$WORK/l.out" || fail "A not seen as 10.77.1.2"
grep -q "^\[Peer \[fd77:2::2\]:[0-9]*\] Connected$" "$WORK/l.out" || fail "B not seen as fd77:2::2"
grep -q "^\[Peer 10.77.1.2:[0-9]*\] Message: hello 2 from a$" "$WORK/l.out" ||
  fail "message line format"
pass "listener learned both peers (IPv4 and IPv6 on one socket) and got 5 messages"

# ---- Broadcast from the listener reaches both peers.
broadcast="Broadcast message"
echo "$broadcast" >&7
wait_for "$WORK/a.out" "[Peer 10.77.1.1:4000] Message: $broadcast"
wait_for "$WORK/b.out" "[Peer [fd77:2::1]:4000] Message: $broadcast"
wait_for "$WORK/l.out" "Sending to all peers: \"$broadcast\""
[[ $(grep -c "^\[Sent to " "$WORK/l.out") -eq 2 ]] || fail "listener should report 2 sends"
pass "broadcast reached both peers"

# ---- The statistics block counts exactly what happened.
echo "/stats" >&7
wait_for "$WORK/l.out" "Statistics:"
wait_for "$WORK/l.out" "peers seen"
expect_stat "$WORK/l.out" "Packets received" 5
expect_stat "$WORK/l.out" "Packets sent" 2
expect_stat "$WORK/l.out" "Active peers" 2
expect_stat "$WORK/l.out" "Bytes transferred" $((bytes_in + 2 * ${#broadcast}))

# ---- Clean bind errors.
set +e
ip netns exec "$NS_L" "$BIN" -listen :4000 </dev/null >"$WORK/dup.out" 2>"$WORK/dup.err"
rc=$?
set -e
[[ $rc -eq 1 ]] || fail "second listener on :4000 should exit 1, got $rc"
grep -qxF "udp_messenger: bind [::]:4000: address already in use (EADDRINUSE)" "$WORK/dup.err" ||
  fail "port-in-use error: $(cat "$WORK/dup.err")"
pass "port in use: $(cat "$WORK/dup.err")"
if command -v setpriv >/dev/null; then
  set +e
  ip netns exec "$NS_L" setpriv --reuid=65534 --regid=65534 --clear-groups \
    "$BIN" -listen 10.77.1.1:80 </dev/null >"$WORK/priv.out" 2>"$WORK/priv.err"
  rc=$?
  set -e
  if [[ $rc -eq 126 || $rc -eq 127 ]]; then
    echo "note: nobody cannot run $BIN here; privileged-port check skipped"
  else
    [[ $rc -eq 1 ]] || fail "unprivileged bind of port 80 should exit 1, got $rc"
    grep -qxF "udp_messenger: bind 10.77.1.1:80: permission denied (EACCES)" "$WORK/priv.err" ||
      fail "permission error: $(cat "$WORK/priv.err")"
    pass "privileged port: $(cat "$WORK/priv.err")"
  fi
fi

# ---- Dead peer: A goes away; B keeps talking. A times out after 2s, B does not.
kill -TERM "${PID[a]}"
wait "${PID[a]}" || fail "peer A should exit 0 on SIGTERM"
unset 'PID[a]'
grep -q "^Statistics:" "$WORK/a.out" || fail "A printed no statistics on SIGTERM"
expect_stat "$WORK/a.out" "Packets sent" 3
expect_stat "$WORK/a.out" "Packets received" 1
extra=0
deadline=$((SECONDS + 8))
until grep -q "^\[Peer 10.77.1.2:[0-9]*\] Timed out" "$WORK/l.out"; do
  ((SECONDS < deadline)) || fail "A never timed out at the listener"
  msg="still here $extra"
  echo "$msg" >&9
  bytes_in=$((bytes_in + ${#msg}))
  extra=$((extra + 1))
  sleep 0.4
done
wait_for "$WORK/l.out" "Message: still here $((extra - 1))"
grep -q "\[fd77:2::2\]:[0-9]*\] Timed out" "$WORK/l.out" && fail "B timed out while talking"
pass "silent peer A timed out; B (sent $extra more) stayed"

# ---- SIGTERM prints the final statistics and exits 0.
kill -TERM "${PID[l]}"
wait "${PID[l]}" || fail "listener should exit 0 on SIGTERM"
unset 'PID[l]'
expect_stat "$WORK/l.out" "Packets received" $((5 + extra))
expect_stat "$WORK/l.out" "Packets sent" 2
expect_stat "$WORK/l.out" "Active peers" 1
expect_stat "$WORK/l.out" "Bytes transferred" $((bytes_in + 2 * ${#broadcast}))
grep -q "^  peers seen 2, timed out 1; drops: none$" "$WORK/l.out" || fail "peer/drop summary"
pass "final statistics"
[[ -s $WORK/l.err ]] && fail "listener wrote to stderr: $(cat "$WORK/l.err")"
echo "PASS: udp_messenger end to end"

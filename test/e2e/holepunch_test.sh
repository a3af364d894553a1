#!/usr/bin/env bash
# Hole punching end to end, through real NATs (natlab: nftables in network namespaces): our
# rendezvous and stun_server on the lab's public hosts, hole_punch on two hosts behind NATs.
#   (a) full cone <-> port-restricted cone, and port-restricted <-> port-restricted: both sides
#       report "Direct connection established" with an RTT, exchange their messages, and the
#       messages cross between the two NATs' public addresses (tcpdump on nat-b), not via a server;
#   (b) symmetric <-> port-restricted cone: both sides report "fall back to relay" at the 5 s
#       bound (not before, not much after) and exit 3;
#   (c) the same pair with --birthday: birthday probing finds a direct path after the fallback.
#
#   holepunch_test.sh [BUILD_DIR]     (as root; needs hole_punch, rendezvous, stun_server built)
source "$(dirname "$0")/lib/netns.sh"
e2e_init holepunch

SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$SRC/build}
NATLAB=$SRC/tools/natlab/natlab
HP=$BUILD/tools/hole_punch/hole_punch
RV=$BUILD/tools/rendezvous/rendezvous
STUN=$BUILD/tools/stun_server/stun_server
LAB="hp$$"
RENDEZVOUS=203.0.113.20:9000
STUN_SERVERS=203.0.113.10:3478,203.0.113.11:3479

for b in "$HP" "$RV" "$STUN"; do
  [[ -x $b ]] || e2e_fail "$b is not built (ninja -C $BUILD hole_punch rendezvous stun_server)"
done

holepunch_cleanup() {
  local rc=$?
  set +e
  "$NATLAB" --name "$LAB" down >/dev/null 2>&1
  (exit $rc)
  e2e_cleanup
}
trap holepunch_cleanup EXIT

nl() { "$NATLAB" --name "$LAB" "$@"; }

# lab BEH_A BEH_B: (re)builds the lab with hosts a and b behind those NATs and starts the servers.
lab() {
  nl up "pair:$1,$2" >"$E2E_WORK/up.log" 2>&1 || {
    cat "$E2E_WORK/up.log"
    e2e_fail "natlab up pair:$1,$2"
  }
  nl exec rendezvous -- "$RV" --listen "$RENDEZVOUS" >"$E2E_WORK/rendezvous-$1-$2.log" 2>&1 &
  E2E_PIDS+=("$!")
  nl exec stun -- "$STUN" --listen 203.0.113.10:3478 --alt_address 203.0.113.11 \
    --alt_port 3479 >"$E2E_WORK/stun-$1-$2.log" 2>&1 &
  E2E_PIDS+=("$!")
  e2e_wait "rendezvous listening" 5 grep -q "listening on" "$E2E_WORK/rendezvous-$1-$2.log"
  e2e_wait "stun_server listening" 5 grep -q "203.0.113.11:3479" "$E2E_WORK/stun-$1-$2.log"
}

# punch TAG SECONDS [FLAGS...]: alice on a and bob on b at once; waits up to SECONDS for both.
# Sets RC_A/RC_B (exit codes) and T_A/T_B (wall-clock seconds each ran); logs in $E2E_WORK/TAG-*.
punch() {
  local tag=$1 limit=$2
  shift 2
  local start=$SECONDS
  nl exec a -- "$HP" --rendezvous "$RENDEZVOUS" --stun "$STUN_SERVERS" --name "$tag-alice" \
    --peer "$tag-bob" "$@" >"$E2E_WORK/$tag-a.log" 2>&1 &
  local pa=$!
  nl exec b -- "$HP" --rendezvous "$RENDEZVOUS" --stun "$STUN_SERVERS" --name "$tag-bob" \
    --peer "$tag-alice" "$@" >"$E2E_WORK/$tag-b.log" 2>&1 &
  local pb=$!
  E2E_PIDS+=("$pa" "$pb")
  local deadline=$((SECONDS + limit))
  while kill -0 "$pa" 2>/dev/null || kill -0 "$pb" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      kill "$pa" "$pb" 2>/dev/null
      e2e_fail "$tag: hole_punch still running after ${limit}s"
    fi
    sleep 0.1
  done
  set +e
  wait "$pa"
  RC_A=$?
  wait "$pb"
  RC_B=$?
  set -e
  T_A=$((SECONDS - start))
  T_B=$T_A
  for s in a b; do
    echo "----- $tag, host $s -----"
    grep -v "Attempt [3-9]:" "$E2E_WORK/$tag-$s.log" | sed 's/^/  /'
  done
}

# result_field LOG KEY: the value of KEY=... on the Result line.
result_field() { sed -n "s/^Result: .*\b$2=\([^ ]*\).*/\1/p" "$1"; }

expect_direct() { # TAG
  local tag=$1 s peer_ip
  [[ $RC_A -eq 0 && $RC_B -eq 0 ]] || e2e_fail "$tag: exit codes $RC_A/$RC_B, expected 0 (direct)"
  for s in a b; do
    local log="$E2E_WORK/$tag-$s.log"
    grep -q "SUCCESS! Direct connection established" "$log" || e2e_fail "$tag/$s: no success line"
    grep -q "^RTT: [0-9]*ms" "$log" || e2e_fail "$tag/$s: no RTT line"
    grep -q "^Result: direct " "$log" || e2e_fail "$tag/$s: no 'Result: direct'"
    peer_ip=203.0.113.102
    [[ $s == b ]] && peer_ip=203.0.113.101
    [[ $(result_field "$log" remote) == "$peer_ip":* ]] ||
      e2e_fail "$tag/$s: the path does not go to the peer's NAT ($peer_ip)"
  done
  grep -q "^Received: \"Hello from $tag-bob!\"" "$E2E_WORK/$tag-a.log" || e2e_fail "$tag: a got no message"
  grep -q "^Received: \"Hello from $tag-alice!\"" "$E2E_WORK/$tag-b.log" || e2e_fail "$tag: b got no message"
}

expect_relay() { # TAG
  local tag=$1 s
  [[ $RC_A -eq 3 && $RC_B -eq 3 ]] || e2e_fail "$tag: exit codes $RC_A/$RC_B, expected 3 (relay)"
  for s in a b; do
    local log="$E2E_WORK/$tag-$s.log" t
    grep -q "Unreachable directly -> fall back to relay" "$log" || e2e_fail "$tag/$s: no fallback line"
    grep -q "SUCCESS" "$log" && e2e_fail "$tag/$s: claims success"
    t=$(result_field "$log" time_s)
    # Declared at the 5 s bound: not before it, and not long after.
    awk -v t="$t" 'BEGIN { exit !(t >= 5.0 && t < 5.5) }' ||
      e2e_fail "$tag/$s: relay declared after ${t}s, expected 5.0..5.5 s"
  done
}

# --- (a) cone NATs connect directly --------------------------------------------------------------
lab full-cone port-restricted-cone
# Capture on nat-b's public side: the peers' own datagrams must cross between the NATs directly.
nl exec nat-b -- tcpdump -l -n -i wan "udp and src host 203.0.113.101 and dst host 203.0.113.102" \
  >"$E2E_WORK/cap-nat-b.log" 2>/dev/null &
E2E_PIDS+=("$!")
sleep 1
punch fc-pr 20
expect_direct fc-pr
n=$(grep -c "203.0.113.101\.[0-9]* > 203.0.113.102\.[0-9]*: UDP" "$E2E_WORK/cap-nat-b.log" || true)
[[ $n -ge 2 ]] || e2e_fail "fc-pr: tcpdump on nat-b saw $n datagrams from nat-a, expected pings and a message"
e2e_pass "full cone <-> port-restricted cone: direct both ways, messages exchanged, $n datagrams NAT to NAT"

lab port-restricted-cone port-restricted-cone
punch pr-pr 20
expect_direct pr-pr
e2e_pass "port-restricted cone <-> port-restricted cone: direct (simultaneous open)"

# --- (b) symmetric <-> port-restricted: relay within the bound -----------------------------------
lab symmetric port-restricted-cone
punch sym-pr 20
expect_relay sym-pr
grep -q "varies by destination" "$E2E_WORK/sym-pr-a.log" || e2e_fail "sym-pr/a: symmetric NAT not noticed"
[[ $T_A -le 12 ]] || e2e_fail "sym-pr: took ${T_A}s in all (gathering + rendezvous + 5 s punch)"
e2e_pass "symmetric <-> port-restricted cone: both fall back to relay at 5 s (${T_A}s in all)"

# --- (c) ... unless birthday probing finds a port ------------------------------------------------
punch sym-pr-bday 45 --birthday --birthday-timeout 30s
if [[ $RC_A -eq 0 && $RC_B -eq 0 ]]; then
  expect_direct sym-pr-bday
  grep -q "Unreachable directly -> fall back to relay" "$E2E_WORK/sym-pr-bday-a.log" ||
    e2e_fail "sym-pr-bday: birthday probing must start after the standard fallback"
  e2e_pass "symmetric <-> port-restricted cone with --birthday: direct after $(result_field "$E2E_WORK/sym-pr-bday-b.log" time_s)s"
else
  # 256 sockets and 30 s of 200 probes/s miss with probability (1-256/64512)^6000 ~ 5e-11.
  e2e_fail "sym-pr-bday: birthday probing found no path (exit $RC_A/$RC_B)"
fi

e2e_pass "hole punching through natlab NATs"

#!/usr/bin/env bash
# natlab end to end: builds a lab with one host per NAT behaviour, probes each NAT's mapping
# (the public port two servers and two ports see for one inside socket) and filtering (which
# unsolicited packets reach the inside host), prints a behaviour -> observed table and checks it
# against what each behaviour promises. Also: idempotent up/down, status exit codes, a second
# lab from a topology file beside the first, exec -d processes ended by down, tc netem delay
# (skipped with a note when the kernel has no sch_netem), and no leftovers after down.
#
#   natlab_test.sh [BUILD_DIR]     (as root; BUILD_DIR is where stun_client/stun_server live)
source "$(dirname "$0")/lib/netns.sh"
e2e_init natlab

SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$SRC/build}
NATLAB=${NATLAB_UNDER_TEST:-$SRC/tools/natlab/natlab} # override to test a modified copy
LAB="e2e$$"
LAB2="e2e$$b"
S1=203.0.113.10
S2=203.0.113.11
R=203.0.113.20

natlab_cleanup() {
  local rc=$?
  set +e
  for l in "$LAB" "$LAB2"; do "$NATLAB" --name "$l" down >/dev/null 2>&1; done
  (exit $rc)
  e2e_cleanup
}
trap natlab_cleanup EXIT

nl() { "$NATLAB" --name "$LAB" "$@"; }
lab_ns_count() { ip netns list | awk '{print $1}' | grep -c "^nl-$1-" || true; }

# --- 1. Commands on a lab that is not up ------------------------------------------------------
nl down >/dev/null 2>&1 || e2e_fail "down with nothing up must succeed"
set +e
nl status >/dev/null
rc=$?
set -e
[[ $rc -eq 3 ]] || e2e_fail "status of a lab that is not up must exit 3, got $rc"
e2e_pass "down with nothing up is fine, status exits 3"

# --- 2. Up, twice -----------------------------------------------------------------------------
BEHS=(none full-cone restricted-cone port-restricted-cone symmetric udp-blocked)
HOSTS=(a b c d e f)
TOPO="hosts:$(
  IFS=,
  echo "${BEHS[*]}"
)"
nl up "$TOPO" >"$E2E_WORK/up.log" 2>&1 || {
  cat "$E2E_WORK/up.log"
  e2e_fail "natlab up $TOPO"
}
n1=$(lab_ns_count "$LAB")
[[ $n1 -eq 14 ]] || e2e_fail "expected 14 namespaces (pub, stun, rendezvous, 6 hosts, 5 NATs), got $n1"
nl up "$TOPO" 2>&1 | grep -c "already up" >/dev/null || e2e_fail "second up did not say 'already up'"
[[ $(lab_ns_count "$LAB") -eq $n1 ]] || e2e_fail "second up changed the namespaces"
nl status | grep -c "nat-e .*symmetric" >/dev/null || e2e_fail "status does not list nat-e as symmetric"
[[ $(nl addr stun | tr '\n' ' ') == "$S1 $S2 " ]] || e2e_fail "addr stun: $(nl addr stun)"
e2e_pass "up builds $n1 namespaces; up again is a no-op"

# Plain reachability: every host pings the STUN server (ICMP goes through every NAT kind).
for h in "${HOSTS[@]}"; do
  nl exec "$h" -- ping -c1 -W2 "$S1" >/dev/null || e2e_fail "host $h cannot ping $S1"
done
# udp-blocked still passes TCP.
e2e_bg_nl() { # NODE LOG CMD...: background process inside a lab node, killed at cleanup
  local node=$1 log="$E2E_WORK/$2.log"
  shift 2
  "$NATLAB" --name "$LAB" exec "$node" -- "$@" >"$log" 2>&1 &
  E2E_PIDS+=("$!")
}
e2e_bg_nl rendezvous tcp_listen nc -l -k 8080
e2e_wait "tcp listener on rendezvous" 5 nl exec f -- nc -z -w1 "$R" 8080
e2e_pass "all hosts ping $S1; TCP passes the udp-blocked NAT"

# --- 3. Probes --------------------------------------------------------------------------------
# Captures: the STUN host (both addresses) and every inside host's eth0. A capture shows a
# packet even when no socket listens, so nothing on the inside host filters it but the NAT.
e2e_bg_nl stun cap_stun tcpdump -l -n -i eth0 udp
for h in "${HOSTS[@]}"; do e2e_bg_nl "$h" "cap_$h" tcpdump -l -n -i eth0 udp; done
for c in stun "${HOSTS[@]}"; do
  e2e_wait "tcpdump in $c" 10 grep -q "listening on" "$E2E_WORK/cap_$c.log"
done

send() { # NODE SRCPORT DST DSTPORT: one UDP datagram
  echo "natlab-probe" | nl exec "$1" -- nc -u -w0 -p "$2" "$3" "$4" >/dev/null 2>&1 || true
}
# observed_port SRCADDR DST DSTPORT: the source port the STUN capture saw from SRCADDR.
observed_port() {
  { grep -oE "IP $1\.[0-9]+ > $2\.$3:" "$E2E_WORK/cap_stun.log" || true; } | head -1 |
    sed -E "s/^IP $1\.([0-9]+) .*/\1/"
}
arrived() { # HOST SRC SRCPORT: did a datagram from SRC:SRCPORT reach HOST's eth0?
  grep -qE "IP $2\.$3 > [0-9.]+\.[0-9]+: UDP" "$E2E_WORK/cap_$1.log"
}

declare -A MAP FILT PUBADDR
for i in "${!HOSTS[@]}"; do
  h=${HOSTS[$i]}
  beh=${BEHS[$i]}
  sp=$((40001 + i))
  if [[ $beh == none ]]; then pub=$(nl addr "$h"); else pub=$(nl addr "nat-$h" | head -1); fi
  PUBADDR[$h]=$pub
  # Mapping: one inside address:port to S1:3478, S2:3478 and S1:3479.
  send "$h" "$sp" "$S1" 3478
  send "$h" "$sp" "$S2" 3478
  send "$h" "$sp" "$S1" 3479
done
sleep 0.5
for i in "${!HOSTS[@]}"; do
  h=${HOSTS[$i]}
  beh=${BEHS[$i]}
  sp=$((40001 + i))
  pub=${PUBADDR[$h]}
  m1=$(observed_port "$pub" "$S1" 3478)
  m2=$(observed_port "$pub" "$S2" 3478)
  m3=$(observed_port "$pub" "$S1" 3479)
  if [[ -z $m1 && -z $m2 && -z $m3 ]]; then
    MAP[$h]="blocked"
  elif [[ -z $m1 || -z $m2 || -z $m3 ]]; then
    MAP[$h]="incomplete ($m1/$m2/$m3)"
  elif [[ $beh == none ]]; then
    [[ $m1 == "$sp" && $m2 == "$sp" && $m3 == "$sp" ]] && MAP[$h]="no NAT" || MAP[$h]="?? ($m1/$m2/$m3)"
  elif [[ $m1 == "$m2" && $m1 == "$m3" ]]; then
    MAP[$h]="endpoint-independent"
    [[ $m1 == "$sp" ]] && MAP[$h]+=" (port kept)"
  elif [[ $m1 == "$m3" ]]; then
    MAP[$h]="address-dependent"
  else
    MAP[$h]="address-and-port-dependent"
  fi
  # Filtering: to the public port S1:3478 saw (or the inside port when nothing was seen),
  # from S1:3478 (the reply), S1:4000 (same address, other port), R:4001 (other address).
  target=${m1:-$sp}
  send stun 3478 "$pub" "$target"
  send stun 4000 "$pub" "$target"
  send rendezvous 4001 "$pub" "$target"
done
sleep 0.5
for h in "${HOSTS[@]}"; do
  if ! arrived "$h" "$S1" 3478; then
    FILT[$h]="blocked"
  elif arrived "$h" "$R" 4001; then
    FILT[$h]="endpoint-independent"
  elif arrived "$h" "$S1" 4000; then
    FILT[$h]="address-dependent"
  else
    FILT[$h]="address-and-port-dependent"
  fi
done

declare -A WANT_MAP=(
  [none]="no NAT"
  [full-cone]="endpoint-independent (port kept)"
  [restricted-cone]="endpoint-independent (port kept)"
  [port-restricted-cone]="endpoint-independent (port kept)"
  [symmetric]="address-and-port-dependent"
  [udp-blocked]="blocked"
)
declare -A WANT_FILT=(
  [none]="endpoint-independent"
  [full-cone]="endpoint-independent"
  [restricted-cone]="address-dependent"
  [port-restricted-cone]="address-and-port-dependent"
  [symmetric]="address-and-port-dependent"
  [udp-blocked]="blocked"
)
bad=0
printf '\n%-4s %-21s %-34s %-28s %s\n' HOST BEHAVIOUR "OBSERVED MAPPING" "OBSERVED FILTERING" RESULT
for i in "${!HOSTS[@]}"; do
  h=${HOSTS[$i]}
  beh=${BEHS[$i]}
  ok=ok
  [[ ${MAP[$h]} == "${WANT_MAP[$beh]}" && ${FILT[$h]} == "${WANT_FILT[$beh]}" ]] || {
    ok="WRONG (want ${WANT_MAP[$beh]} / ${WANT_FILT[$beh]})"
    bad=1
  }
  printf '%-4s %-21s %-34s %-28s %s\n' "$h" "$beh" "${MAP[$h]}" "${FILT[$h]}" "$ok"
done
echo
[[ $bad -eq 0 ]] || e2e_fail "some NAT behaved unlike its description (table above)"
e2e_pass "every NAT behaviour shows the mapping and filtering it promises"

# The NAT routers counted what they did: the full cone forwarded unsolicited packets.
nl exec nat-b -- nft list chain ip natlab prerouting | grep -cE "counter packets [1-9]" >/dev/null ||
  e2e_fail "full-cone prerouting counter did not count the forwarded probes"

# A full cone opens only ports in use: an unsolicited packet to another port stays out.
send rendezvous 4002 "${PUBADDR[b]}" 45555
sleep 0.3
! arrived b "$R" 4002 || e2e_fail "full-cone NAT forwarded a packet to a port it never mapped"
e2e_pass "the full-cone NAT keeps unmapped ports closed"

# --- 4. Our own STUN NAT discovery -------------------------------------------------------------
# tools/stun_server answers on both stun addresses and two ports (RFC 5780); tools/stun_client
# on each host must name the NAT type natlab built. Skipped when BUILD_DIR has no stun tools.
CLIENT=$BUILD/tools/stun_client/stun_client
SERVER=$BUILD/tools/stun_server/stun_server
if [[ -x $CLIENT && -x $SERVER ]]; then
  declare -A WANT_TYPE=(
    [none]="Open Internet (no NAT)"
    [full-cone]="Full Cone NAT"
    [restricted-cone]="Restricted Cone NAT"
    [port-restricted-cone]="Port-Restricted Cone NAT"
    [symmetric]="Symmetric NAT"
    [udp-blocked]="UDP blocked"
  )
  e2e_bg_nl stun stun_server "$SERVER" --listen "$S1:3478" --alt_address "$S2" --alt_port 3479
  e2e_wait "stun_server on $S1:3478" 10 grep -q "answering STUN on $S2:3479" "$E2E_WORK/stun_server.log"
  bad=0
  printf '\n%-4s %-21s %s\n' HOST BEHAVIOUR "STUN_CLIENT SAYS"
  for i in "${!HOSTS[@]}"; do
    h=${HOSTS[$i]}
    beh=${BEHS[$i]}
    got=$(nl exec "$h" -- "$CLIENT" --server "$S1:3478" --rto_ms 100 --sends 3 2>&1 |
      sed -n 's/^NAT Type: //p' || true)
    ok=ok
    [[ $got == "${WANT_TYPE[$beh]}" ]] || {
      ok="WRONG (want ${WANT_TYPE[$beh]})"
      bad=1
    }
    printf '%-4s %-21s %-28s %s\n' "$h" "$beh" "$got" "$ok"
  done
  echo
  [[ $bad -eq 0 ]] || e2e_fail "stun_client disagrees with natlab (table above)"
  e2e_pass "stun_client names every NAT type natlab built"
else
  e2e_log "SKIP stun_client check: build stun_client and stun_server in $BUILD to run it"
fi

# --- 5. A second lab from a topology file, beside the first; netem; exec -d; down ------------
nl2() { "$NATLAB" --name "$LAB2" "$@"; }
nl2 up "$SRC/tools/natlab/topologies/home-vs-carrier.topo" --delay 20ms >"$E2E_WORK/up2.log" 2>&1 || {
  cat "$E2E_WORK/up2.log"
  e2e_fail "second lab from a topology file"
}
labs=$("$NATLAB" list)
grep -qx "$LAB" <<<"$labs" || e2e_fail "list does not show $LAB: $labs"
grep -qx "$LAB2" <<<"$labs" || e2e_fail "list does not show $LAB2: $labs"
nl2 exec home -- ping -c1 -W2 "$S1" >/dev/null || e2e_fail "lab2: home cannot ping $S1"
if nl2 status | grep -c "netem: on" >/dev/null; then
  # home's NAT uplink and the stun link each add 20 ms per direction: RTT >= 80 ms.
  rtt=$(nl2 exec home -- ping -c2 -W2 "$S1" | sed -nE 's|.*= [0-9.]+/([0-9]+)\..*|\1|p')
  [[ -n $rtt && $rtt -ge 75 ]] || e2e_fail "netem: expected an RTT >= 80 ms, got '$rtt'"
  e2e_pass "netem delay works (RTT $rtt ms)"
else
  grep -q "sch_netem" "$E2E_WORK/up2.log" || e2e_fail "netem unavailable but natlab did not say so"
  e2e_log "SKIP netem delay check: this kernel has no sch_netem (natlab said so and went on)"
fi
bgpid=$(nl2 exec -d stun -- sleep 300 2>/dev/null)
kill -0 "$bgpid" || e2e_fail "exec -d did not start a process"
nl2 down >/dev/null 2>&1
! kill -0 "$bgpid" 2>/dev/null || e2e_fail "down left the exec -d process $bgpid running"
[[ $(lab_ns_count "$LAB2") -eq 0 ]] || e2e_fail "down left namespaces of $LAB2"
nl status >/dev/null || e2e_fail "taking $LAB2 down disturbed $LAB"
e2e_pass "a second lab coexists, its down ends its processes and leaves $LAB alone"

# --- 6. Down, twice ---------------------------------------------------------------------------
nl down >/dev/null 2>&1 || e2e_fail "down"
[[ $(lab_ns_count "$LAB") -eq 0 ]] || e2e_fail "down left namespaces: $(ip netns list | grep "nl-$LAB-")"
[[ ! -e /run/natlab/$LAB ]] || e2e_fail "down left /run/natlab/$LAB"
nl down >/dev/null 2>&1 || e2e_fail "second down must succeed"
e2e_pass "down removes every namespace and the run directory; down again is fine"

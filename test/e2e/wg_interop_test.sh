#!/usr/bin/env bash
# WireGuard interop: two userspace implementations (wireguard-go, our mini-wireguard) in two
# network namespaces, configured only with the standard `wg` tool and `ip`:
#
#   ns left   10.209.0.1:51820 ----veth---- 10.209.0.2:51821   ns right
#             IMPL_LEFT -f wgl<pid>            IMPL_RIGHT -f wgr<pid>
#   tunnel    10.9.0.1/24  fd09::1/64          10.9.0.2/24  fd09::2/64
#
# Only the initiator (INITIATOR, default left) is given its peer's Endpoint; the responder learns
# the initiator's address from the handshake, so the initiator's first packet starts everything.
#
# Scenarios (append _psk to any of them to add a pre-shared key on both sides):
#   basic     configured with `wg set`: ping v4 and v6 in both directions; on both sides `wg show`
#             reports the peer, a recent handshake, non-zero transfer, the right (configured or
#             learned) endpoint; `wg showconf | wg setconf` round-trips and traffic still flows;
#             both daemons exit on SIGTERM and remove their socket and link.
#   setconf   the same, configured only with `wg setconf` files.
#   transfer  100 MB over TCP initiator -> responder, then responder -> initiator (nc), sha256 of
#             sent and received must match; `wg show transfer` counts at least that; a short
#             iperf3 run reports throughput.
#   roaming   the right side streams 100 MB (paced) to the left; mid-transfer it moves to another
#             listen port (`wg set listen-port`), later to another address (10.209.0.2 -> .3,
#             then the same listen port set again so wireguard-go forgets its old source); the
#             left side must follow (its `wg show endpoints`), the sha256 must match.
#   rekey     ~140 s of pings both ways and a paced TCP stream across REKEY_AFTER_TIME (120 s):
#             a new handshake must happen, no stream corruption, almost no ping lost. Slow.
#
# usage: wg_interop_test.sh BUILD SCENARIO [IMPL_LEFT [IMPL_RIGHT [INITIATOR]]]
#   IMPL: wireguard-go (default) or mini-wireguard ($BUILD/tools/mini-wireguard/mini-wireguard)
#   INITIATOR: left (default) or right
source "$(dirname "$0")/lib/wg.sh"

usage() {
  echo "usage: $0 BUILD basic|setconf|transfer|roaming|rekey[_psk]" \
    "[IMPL_LEFT [IMPL_RIGHT [left|right]]]" >&2
  exit 2
}
[[ $# -ge 2 ]] || usage
BUILD=$1 SCENARIO=$2 IMPL_LEFT=${3:-wireguard-go} IMPL_RIGHT=${4:-wireguard-go}
INITIATOR=${5:-left}
PSK=no
if [[ $SCENARIO == *_psk ]]; then PSK=yes; SCENARIO=${SCENARIO%_psk}; fi
case $SCENARIO in basic | setconf | transfer | roaming | rekey) ;; *) usage ;; esac
case $INITIATOR in left) RESPONDER=right ;; right) RESPONDER=left ;; *) usage ;; esac

wg_init wg "$BUILD"
wg_require "$IMPL_LEFT" "$IMPL_RIGHT"
e2e_log "scenario $SCENARIO (psk: $PSK): left $IMPL_LEFT, right $IMPL_RIGHT, $INITIATOR initiates"

e2e_pair left right 209
declare -A UNDERLAY=([left]=$E2E_left_IP [right]=$E2E_right_IP)
declare -A PORT=([left]=51820 [right]=51821)
declare -A TUN4=([left]=10.9.0.1 [right]=10.9.0.2)
declare -A TUN6=([left]=fd09::1 [right]=fd09::2)
other() { [[ $1 == left ]] && echo right || echo left; }
impl() { echo "${WG_IMPL[$1]}"; }

# --- setup -------------------------------------------------------------------------------------
PSK_FILE=
if [[ $PSK == yes ]]; then
  (umask 077; wg genpsk >"$E2E_WORK/psk")
  PSK_FILE=$E2E_WORK/psk
fi

wg_start left "$IMPL_LEFT"
wg_start right "$IMPL_RIGHT"
wg_genkey left
wg_genkey right

# configure SIDE set|setconf: listen port, private key, the other side as peer (with its
# endpoint only on the initiator), psk when asked.
configure() {
  local side=$1 method=$2 o
  o=$(other "$1")
  local iface=${WG_IFACE[$side]} allowed="${TUN4[$o]}/32,${TUN6[$o]}/128"
  local endpoint="${UNDERLAY[$o]}:${PORT[$o]}"
  if [[ $method == set ]]; then
    local args=(listen-port "${PORT[$side]}" private-key "${WG_KEYFILE[$side]}" peer "${WG_PUB[$o]}"
      allowed-ips "$allowed")
    if [[ -n $PSK_FILE ]]; then args+=(preshared-key "$PSK_FILE"); fi
    if [[ $side == "$INITIATOR" ]]; then args+=(endpoint "$endpoint"); fi
    e2e_log "configure $side: wg set $iface ${args[*]}"
    wg_in "$side" set "$iface" "${args[@]}"
  else
    local conf="$E2E_WORK/$side.conf"
    {
      echo "[Interface]"
      echo "PrivateKey = $(cat "${WG_KEYFILE[$side]}")"
      echo "ListenPort = ${PORT[$side]}"
      echo
      echo "[Peer]"
      echo "PublicKey = ${WG_PUB[$o]}"
      if [[ -n $PSK_FILE ]]; then echo "PresharedKey = $(cat "$PSK_FILE")"; fi
      echo "AllowedIPs = ${TUN4[$o]}/32, ${TUN6[$o]}/128"
      if [[ $side == "$INITIATOR" ]]; then echo "Endpoint = $endpoint"; fi
    } >"$conf"
    e2e_log "configure $side: wg setconf $iface $side.conf (peer ${WG_PUB[$o]:0:8}…," \
      "endpoint $([[ $side == "$INITIATOR" ]] && echo "$endpoint" || echo none))"
    wg_in "$side" setconf "$iface" "$conf"
  fi
  wg_addr "$side" "${TUN4[$side]}/24" "${TUN6[$side]}/64"
}

method=setconf
[[ $SCENARIO == basic ]] && method=set
configure left $method
configure right $method

# Before any traffic: no handshake, and the responder knows no endpoint.
for side in left right; do
  [[ $(wg_latest_handshake $side "${WG_PUB[$(other $side)]}") == 0 ]] ||
    e2e_fail "$side reports a handshake before any traffic"
done
ep=$(wg_field "$RESPONDER" endpoints "${WG_PUB[$INITIATOR]}")
[[ $ep == "(none)" ]] || e2e_fail "responder $RESPONDER has endpoint '$ep' before any handshake"

# ping_ok FROM DST [COUNT]: every ping from FROM to DST is answered.
ping_ok() {
  local from=$1 dst=$2 count=${3:-3} log="$E2E_WORK/ping-$1-${2//:/_}.txt" summary
  e2e_log "==> ping $dst from $from ($(impl "$from"))"
  e2e_in "$from" ping -c "$count" -i 0.2 -W 2 "$dst" >"$log" 2>&1 || true
  summary=$(grep -o '[0-9]* packets transmitted, [0-9]* received' "$log" || echo "no summary")
  e2e_log "    $summary"
  grep -q " $count received" "$log" || { cat "$log"; e2e_fail "ping $dst from $from: $summary"; }
}

# handshake: the initiator's first ping starts the handshake (wireguard-go queues the packet).
handshake() {
  local start=$EPOCHREALTIME
  e2e_log "==> handshake: $INITIATOR ($(impl $INITIATOR)) pings ${TUN4[$RESPONDER]}"
  e2e_wait "a ping through the tunnel (handshake)" 15 \
    e2e_in "$INITIATOR" ping -c 1 -W 1 "${TUN4[$RESPONDER]}"
  wg_wait_handshake "$INITIATOR" "${WG_PUB[$RESPONDER]}" 5
  wg_wait_handshake "$RESPONDER" "${WG_PUB[$INITIATOR]}" 5
  e2e_pass "handshake and first ping in $(wg_ms_since "$start") ms"
}

# check_show SIDE [MAX_AGE]: what `wg show` reports on SIDE about its peer; the latest handshake
# must be at most MAX_AGE (default 30) seconds old.
check_show() {
  local side=$1 o iface=${WG_IFACE[$1]} max_age=${2:-30}
  o=$(other "$1")
  local pub=${WG_PUB[$o]} now hs rx tx ep want_ep allowed psk_shown want_psk
  [[ $(wg_in "$side" show "$iface" public-key) == "${WG_PUB[$side]}" ]] ||
    e2e_fail "$side: wg show public-key is not the public key of the configured private key"
  [[ $(wg_in "$side" show "$iface" listen-port) == "${PORT[$side]}" ]] ||
    e2e_fail "$side: wg show listen-port is not ${PORT[$side]}"
  [[ $(wg_in "$side" show "$iface" peers) == "$pub" ]] ||
    e2e_fail "$side: wg show peers is not exactly the other side's key"
  now=$(date +%s)
  hs=$(wg_latest_handshake "$side" "$pub")
  ((hs > 0 && hs <= now + 2 && now - hs <= max_age)) ||
    e2e_fail "$side: latest handshake $hs is not recent (now $now)"
  read -r rx tx <<<"$(wg_field "$side" transfer "$pub")"
  ((rx > 0 && tx > 0)) || e2e_fail "$side: wg show transfer is rx '$rx' tx '$tx'"
  ep=$(wg_field "$side" endpoints "$pub")
  want_ep="${UNDERLAY[$o]}:${PORT[$o]}"
  [[ $ep == "$want_ep" ]] || e2e_fail "$side: endpoint $ep, expected $want_ep"
  allowed=$(wg_field "$side" allowed-ips "$pub")
  [[ " $allowed " == *" ${TUN4[$o]}/32 "* && " $allowed " == *" ${TUN6[$o]}/128 "* ]] ||
    e2e_fail "$side: allowed-ips '$allowed'"
  psk_shown=$(wg_field "$side" preshared-keys "$pub")
  want_psk="(none)"
  [[ -n $PSK_FILE ]] && want_psk=$(cat "$PSK_FILE")
  [[ $psk_shown == "$want_psk" ]] || e2e_fail "$side: wg show preshared-keys is not the psk we set"
  e2e_pass "wg show $side ($(impl "$side")): peer ${pub:0:8}…, handshake $((now - hs)) s ago," \
    "rx $rx B, tx $tx B, endpoint $ep, allowed-ips $allowed," \
    "psk $([[ -n $PSK_FILE ]] && echo set || echo none)"
}

# check_showconf SIDE: `wg showconf` holds what we configured; feeding it back to `wg setconf`
# gives the same showconf again.
check_showconf() {
  local side=$1 o iface=${WG_IFACE[$1]} a="$E2E_WORK/showconf-$1-a.conf" b="$E2E_WORK/showconf-$1-b.conf"
  o=$(other "$1")
  wg_in "$side" showconf "$iface" >"$a"
  grep -qxF "PrivateKey = $(cat "${WG_KEYFILE[$side]}")" "$a" &&
    grep -qxF "ListenPort = ${PORT[$side]}" "$a" &&
    grep -qxF "PublicKey = ${WG_PUB[$o]}" "$a" &&
    grep -qxF "Endpoint = ${UNDERLAY[$o]}:${PORT[$o]}" "$a" &&
    grep -qE "^AllowedIPs = .*${TUN4[$o]}/32" "$a" ||
    {
      sed 's/^\(PrivateKey\|PresharedKey\) = .*/\1 = (hidden)/' "$a"
      e2e_fail "$side: wg showconf lacks what was configured"
    }
  if [[ -n $PSK_FILE ]]; then
    grep -qxF "PresharedKey = $(cat "$PSK_FILE")" "$a" || e2e_fail "$side: wg showconf lacks the psk"
  fi
  wg_in "$side" setconf "$iface" "$a"
  wg_in "$side" showconf "$iface" >"$b"
  diff -u "$a" "$b" | sed 's/\(PrivateKey\|PresharedKey\) = .*/\1 = (hidden)/' || true
  cmp -s "$a" "$b" || e2e_fail "$side: wg showconf after wg setconf of its own output differs"
  e2e_pass "wg showconf $side ($(impl "$side")) round-trips through wg setconf ($(wc -l <"$a") lines)"
}

# pings_both_ways: v4 and v6, from each side.
pings_both_ways() {
  ping_ok "$INITIATOR" "${TUN4[$RESPONDER]}"
  ping_ok "$INITIATOR" "${TUN6[$RESPONDER]}"
  ping_ok "$RESPONDER" "${TUN4[$INITIATOR]}"
  ping_ok "$RESPONDER" "${TUN6[$INITIATOR]}"
}

# tcp_send FROM TO FILE LABEL: FILE over TCP (nc) from FROM to TO's tunnel address; sha256 of
# sent and received must match.
tcp_send() {
  local from=$1 to=$2 file=$3 label=$4 port=7000 sink_pid want got start ms
  local sha="$E2E_WORK/received-$label.sha" dst=${TUN4[$2]}
  rm -f "$sha"
  wg_bg "$to" "sink-$label" sh -c "nc -l $dst $port | sha256sum >'$sha'"
  sink_pid=$WG_BG_PID
  e2e_wait "the TCP sink on $to" 10 e2e_in "$to" sh -c "ss -ltn | grep -q '$dst:$port'"
  want=$(sha256sum <"$file" | cut -d' ' -f1)
  e2e_log "==> $(($(stat -c %s "$file") >> 20)) MB over TCP from $from ($(impl "$from"))" \
    "to $dst ($(impl "$to"))"
  start=$EPOCHREALTIME
  e2e_in "$from" timeout 60 nc -N "$dst" "$port" <"$file" || e2e_fail "TCP transfer $from -> $to"
  for _ in $(seq 100); do kill -0 "$sink_pid" 2>/dev/null || break; sleep 0.1; done
  ms=$(wg_ms_since "$start")
  got=$(cut -d' ' -f1 "$sha" 2>/dev/null || true)
  e2e_log "    sha256 sent     $want"
  e2e_log "    sha256 received ${got:-(nothing)}"
  [[ $got == "$want" ]] || e2e_fail "sha256 mismatch after the transfer $from -> $to"
  e2e_pass "$(($(stat -c %s "$file") >> 20)) MB $from -> $to in $ms ms" \
    "($(($(stat -c %s "$file") * 8 / 1000 / (ms > 0 ? ms : 1))) Mbit/s), sha256 matches"
}

# paced_sender FILE CHUNKS: a shell pipeline writing FILE in 1 MB chunks with a pause after
# each; at chunk N it creates $E2E_WORK/at-N and, for each "N" in GATES, waits (up to 30 s) for
# $E2E_WORK/go-N before going on, so the test can act in the middle of a transfer.
paced_sender() {
  local file=$1 chunks=$2 pause=$3 gates=$4
  cat <<EOF
for i in \$(seq 0 $((chunks - 1))); do
  touch '$E2E_WORK/at-'\$i
  for g in $gates; do
    if [ \$i = \$g ]; then
      n=0; while [ ! -e '$E2E_WORK/go-'\$g ] && [ \$n -lt 300 ]; do sleep 0.1; n=\$((n + 1)); done
    fi
  done
  dd if='$file' bs=1M skip=\$i count=1 status=none
  sleep $pause
done
EOF
}

# --- scenarios ---------------------------------------------------------------------------------
scenario_basic() {
  handshake
  pings_both_ways
  check_show left
  check_show right
  check_showconf left
  check_showconf right
  # setconf replaced the peers, so this needs (and shows) a fresh handshake.
  pings_both_ways
}

scenario_transfer() {
  handshake
  head -c $((100 * 1024 * 1024)) /dev/urandom >"$E2E_WORK/payload"
  tcp_send "$INITIATOR" "$RESPONDER" "$E2E_WORK/payload" forward
  tcp_send "$RESPONDER" "$INITIATOR" "$E2E_WORK/payload" back
  local side rx tx min=$((100 * 1024 * 1024))  # 100 MB each way on each side
  for side in left right; do
    read -r rx tx <<<"$(wg_field $side transfer "${WG_PUB[$(other $side)]}")"
    ((rx >= min && tx >= min)) ||
      e2e_fail "$side: wg show transfer rx $rx tx $tx, expected at least $min each way"
    e2e_pass "wg show $side ($(impl $side)) transfer: rx $((rx >> 20)) MiB, tx $((tx >> 20)) MiB"
  done
  if command -v iperf3 >/dev/null; then
    local dst=${TUN4[$RESPONDER]}
    e2e_bg "$RESPONDER" iperf3-server iperf3 -s -1 -B "$dst" -p 5201
    e2e_wait "iperf3 server" 10 e2e_in "$RESPONDER" sh -c "ss -ltn | grep -q '$dst:5201'"
    e2e_log "==> iperf3 3 s from $INITIATOR to $dst"
    e2e_in "$INITIATOR" timeout 20 iperf3 -c "$dst" -p 5201 -t 3 -f m >"$E2E_WORK/iperf3.txt" 2>&1 ||
      { cat "$E2E_WORK/iperf3.txt"; e2e_fail "iperf3 through the tunnel"; }
    e2e_log "    iperf3 $(grep receiver "$E2E_WORK/iperf3.txt" | grep -o '[0-9.]* Mbits/sec')"
  fi
  check_show left
  check_show right
}

# wait_endpoint SIDE WANT SECONDS: SIDE's endpoint for its peer becomes WANT.
wait_endpoint() {
  local side=$1 want=$2 secs=$3 start=$EPOCHREALTIME ep
  local deadline=$((SECONDS + secs))
  while :; do
    ep=$(wg_field "$side" endpoints "${WG_PUB[$(other "$side")]}")
    [[ $ep == "$want" ]] && break
    ((SECONDS < deadline)) || e2e_fail "$side still has endpoint $ep after ${secs}s, expected $want"
    sleep 0.05
  done
  e2e_pass "$side ($(impl "$side")) follows its peer to $want in $(wg_ms_since "$start") ms"
}

scenario_roaming() {
  local mover=right stayer=left new_port=51999 new_ip
  new_ip=${UNDERLAY[right]%.*}.3
  handshake
  ping_ok "$RESPONDER" "${TUN4[$INITIATOR]}"
  head -c $((100 * 1024 * 1024)) /dev/urandom >"$E2E_WORK/payload"
  local want got sha="$E2E_WORK/received-roaming.sha" dst=${TUN4[$stayer]} sink_pid sender_pid rc
  want=$(sha256sum <"$E2E_WORK/payload" | cut -d' ' -f1)
  wg_bg "$stayer" sink-roaming sh -c "nc -l $dst 7000 | sha256sum >'$sha'"
  sink_pid=$WG_BG_PID
  e2e_wait "the TCP sink on $stayer" 10 e2e_in "$stayer" sh -c "ss -ltn | grep -q '$dst:7000'"
  paced_sender "$E2E_WORK/payload" 100 0.03 "40 80" >"$E2E_WORK/sender.sh"
  e2e_log "==> 100 MB over TCP from $mover ($(impl $mover)) to $dst, paced, roaming on the way"
  wg_bg "$mover" sender sh -c "sh '$E2E_WORK/sender.sh' | timeout --foreground 90 nc -N $dst 7000"
  sender_pid=$WG_BG_PID

  e2e_wait "the transfer to reach 20 MB" 30 test -e "$E2E_WORK/at-20"
  e2e_log "==> $mover moves to listen port $new_port (wg set ${WG_IFACE[$mover]} listen-port $new_port)"
  wg_in "$mover" set "${WG_IFACE[$mover]}" listen-port "$new_port"
  PORT[$mover]=$new_port
  wait_endpoint "$stayer" "${UNDERLAY[$mover]}:$new_port" 10
  touch "$E2E_WORK/go-40"

  e2e_wait "the transfer to reach 50 MB" 30 test -e "$E2E_WORK/at-50"
  e2e_log "==> $mover moves from ${UNDERLAY[$mover]} to $new_ip (address replaced on $E2E_right_DEV)"
  e2e_in "$mover" sysctl -qw "net.ipv4.conf.$E2E_right_DEV.promote_secondaries=1"
  ip -n "$E2E_right" addr add "$new_ip/24" dev "$E2E_right_DEV"
  ip -n "$E2E_right" addr del "${UNDERLAY[$mover]}/24" dev "$E2E_right_DEV"
  # wireguard-go 0.0.20220316 keeps sending from its cached ("sticky") source address and only
  # drops it when sendmsg fails with EINVAL; Linux now says ENETUNREACH for a source that is no
  # longer local, so it would stay stuck. Re-setting the listen port rebinds and clears the
  # cached source, as a network-change handler would: the port stays the same.
  e2e_log "    wg set ${WG_IFACE[$mover]} listen-port $new_port (same port: rebind, forget the old source)"
  wg_in "$mover" set "${WG_IFACE[$mover]}" listen-port "$new_port"
  UNDERLAY[$mover]=$new_ip
  wait_endpoint "$stayer" "$new_ip:$new_port" 10
  touch "$E2E_WORK/go-80"

  rc=0
  for _ in $(seq 600); do kill -0 "$sender_pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$sender_pid" 2>/dev/null && e2e_fail "the paced transfer did not finish within 60 s"
  wait "$sender_pid" || rc=$?
  ((rc == 0)) || e2e_fail "the sender (nc) exited with $rc"
  for _ in $(seq 100); do kill -0 "$sink_pid" 2>/dev/null || break; sleep 0.1; done
  got=$(cut -d' ' -f1 "$sha" 2>/dev/null || true)
  e2e_log "    sha256 sent     $want"
  e2e_log "    sha256 received ${got:-(nothing)}"
  [[ $got == "$want" ]] || e2e_fail "sha256 mismatch after the roaming transfer"
  e2e_pass "100 MB across two moves of $mover, sha256 matches"
  pings_both_ways
  check_show left
  check_show right
}

scenario_rekey() {
  handshake
  local t0_i t0_r t1_i t1_r pid_a pid_b sink_pid sender_pid want got rc
  local sha="$E2E_WORK/received-rekey.sha" dst=${TUN4[$RESPONDER]} secs=140
  t0_i=$(wg_latest_handshake "$INITIATOR" "${WG_PUB[$RESPONDER]}")
  t0_r=$(wg_latest_handshake "$RESPONDER" "${WG_PUB[$INITIATOR]}")
  e2e_log "first handshake at $t0_i ($INITIATOR) / $t0_r ($RESPONDER); REKEY_AFTER_TIME is 120 s"
  # 140 s of traffic: pings both ways every 0.5 s and a TCP stream of 140 x 256 KB, 1 s apart.
  head -c $((secs * 256 * 1024)) /dev/urandom >"$E2E_WORK/payload"
  want=$(sha256sum <"$E2E_WORK/payload" | cut -d' ' -f1)
  wg_bg "$RESPONDER" sink-rekey sh -c "nc -l $dst 7000 | sha256sum >'$sha'"
  sink_pid=$WG_BG_PID
  e2e_wait "the TCP sink" 10 e2e_in "$RESPONDER" sh -c "ss -ltn | grep -q '$dst:7000'"
  wg_bg "$INITIATOR" sender-rekey sh -c "for i in \$(seq 0 $((secs - 1))); do
      dd if='$E2E_WORK/payload' bs=256K skip=\$i count=1 status=none; sleep 1; done |
      timeout --foreground $((secs + 60)) nc -N $dst 7000"
  sender_pid=$WG_BG_PID
  e2e_bg "$INITIATOR" ping-i ping -c $((secs * 2)) -i 0.5 -W 2 "${TUN4[$RESPONDER]}"
  pid_a=$E2E_LAST_PID
  e2e_bg "$RESPONDER" ping-r ping -c $((secs * 2)) -i 0.5 -W 2 "${TUN6[$INITIATOR]}"
  pid_b=$E2E_LAST_PID
  e2e_log "==> $secs s of traffic both ways; waiting for the rekey"
  wg_wait_handshake "$INITIATOR" "${WG_PUB[$RESPONDER]}" $((secs + 10)) "$t0_i"
  wg_wait_handshake "$RESPONDER" "${WG_PUB[$INITIATOR]}" 10 "$t0_r"
  t1_i=$(wg_latest_handshake "$INITIATOR" "${WG_PUB[$RESPONDER]}")
  t1_r=$(wg_latest_handshake "$RESPONDER" "${WG_PUB[$INITIATOR]}")
  e2e_log "    new handshake at $t1_i ($INITIATOR) / $t1_r ($RESPONDER):" \
    "$((t1_i - t0_i)) s after the first"
  ((t1_i - t0_i >= 115 && t1_i - t0_i <= 150)) ||
    e2e_fail "the rekey came $((t1_i - t0_i)) s after the first handshake, expected ~120 s"
  for pid in "$pid_a" "$pid_b" "$sender_pid"; do
    for _ in $(seq 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  done
  rc=0; wait "$sender_pid" || rc=$?
  ((rc == 0)) || e2e_fail "the TCP sender exited with $rc"
  for _ in $(seq 100); do kill -0 "$sink_pid" 2>/dev/null || break; sleep 0.1; done
  got=$(cut -d' ' -f1 "$sha" 2>/dev/null || true)
  e2e_log "    sha256 sent     $want"
  e2e_log "    sha256 received ${got:-(nothing)}"
  [[ $got == "$want" ]] || e2e_fail "sha256 mismatch for the stream across the rekey"
  local log sent recv
  for log in ping-i ping-r; do
    read -r sent recv < <(sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) received.*/\1 \2/p' \
      "$E2E_WORK/$log.log")
    e2e_log "    $log: $recv of $sent answered"
    ((sent > 0 && sent - recv <= sent / 100)) ||
      e2e_fail "$log: $recv of $sent pings answered across the rekey"
  done
  e2e_pass "traffic kept flowing across the rekey ($((secs * 256 / 1024)) MB stream intact)"
  check_show left 60
  check_show right 60
}

start=$SECONDS
case $SCENARIO in
  basic | setconf) scenario_basic ;;
  transfer) scenario_transfer ;;
  roaming) scenario_roaming ;;
  rekey) scenario_rekey ;;
esac
wg_stop left
wg_stop right

# After a transfer with TUN offloads on (mini-wireguard's default), each mini-wireguard must have
# used them both ways: TSO super-packets read and cut (sending), and segments coalesced into
# super-packets on TUN writes (receiving). Its exit statistics say so ("TUN: ... (N TSO super-packets cut into M), W written
# (C coalesced into S super-packets), ...").
check_offload_counters() {
  local side line tso coalesced
  for side in left right; do
    [[ $(impl $side) == mini-wireguard ]] || continue
    line=$(grep '^TUN: ' "${WG_OUT[$side]}" | tail -n 1)
    [[ -n $line ]] || e2e_fail "$side: no TUN statistics line in ${WG_OUT[$side]}"
    tso=$(sed -E 's/.*\(([0-9]+) TSO super-packets.*/\1/' <<<"$line")
    coalesced=$(sed -E 's/.*into ([0-9]+) super-packets\).*/\1/' <<<"$line")
    ((tso > 0 && coalesced > 0)) ||
      e2e_fail "$side: offloads unused after the transfer: $line"
    e2e_pass "$side (mini-wireguard) offloads: $line"
    if [[ " ${WG_MINI_ARGS:-} " == *" --crypto-thread "* ]]; then
      line=$(grep '^Crypto thread: ' "${WG_OUT[$side]}" | tail -n 1)
      [[ $line =~ ^Crypto\ thread:\ ([0-9]+)\ packets ]] && ((BASH_REMATCH[1] > 0)) ||
        e2e_fail "$side: --crypto-thread, but no packets went to the thread: ${line:-no line}"
      e2e_pass "$side (mini-wireguard) $line"
    fi
  done
}
if [[ $SCENARIO == transfer && " ${WG_MINI_ARGS:-} " != *" --offload=false "* ]]; then
  check_offload_counters
fi
e2e_pass "wg interop $SCENARIO$([[ $PSK == yes ]] && echo _psk): $IMPL_LEFT <-> $IMPL_RIGHT" \
  "($INITIATOR initiates) in $((SECONDS - start)) s"

#!/usr/bin/env bash
# The WireGuard data plane, side by side in one run: wireguard-go <-> wireguard-go (the baseline),
# mini-wireguard <-> wireguard-go, mini-wireguard <-> mini-wireguard in four configurations (one
# data-plane technique added at a time, see SETUPS below), and the bare veth (no tunnel: the
# ceiling for speed, the floor for CPU). Each setup is a pair of network namespaces joined by a veth; the tunnels run
# over it with MTU 1420 and are configured with `wg`.
#
#   left namespace  10.22N.0.1 ---- veth ---- 10.22N.0.2  right namespace
#   tunnel          10.12N.0.1                10.12N.0.2  (iperf3 -s here)
#   the left side sends: iperf3 client, ping, and the first-named implementation of the pair.
#
# Measured for every setup (one setup at a time; the tests are interleaved, i.e. TCP 1 stream on
# all seven setups back to back, then TCP 4 streams, ..., so that a figure and its baseline are
# measured seconds apart on this shared, noisy machine):
#   TCP throughput, 1 stream and 4 streams (iperf3 -P 4)
#   UDP received packets/s and loss at 64-byte and 1392-byte payloads (iperf3 -u -b 10G;
#     1392 + 28 bytes of IPv4/UDP headers = 1420, the tunnel MTU: 1400 would fragment)
#   ping round trip p50 / p99 (200 pings, -i 0.01)
#   CPU: utime+stime of each daemon (/proc/PID/stat) around each TCP run, and of the two iperf3
#     ends (iperf3's own report), per GB (10^9 bytes) delivered
# Every figure is printed as a ratio against wireguard-go <-> wireguard-go from this same run;
# absolute numbers are printed too but only the ratios compare across runs. After the tests, each
# mini-wireguard daemon is asked for its statistics (SIGUSR1) and its TUN and UDP offload counters
# (TSO super-packets, GSO and GRO datagrams, system calls) are printed and put in the JSON.
#
# usage: bench/tunnel/run.sh BUILD_DIR [--quick] [--json FILE] [--perf DIR]
#   --quick      3 s per iperf3 run instead of 10 s
#   --json FILE  also write the results as JSON
#   --perf DIR   afterwards, profile both daemons of mini+offload, mini+offload+thread,
#                mini,no-offload and wireguard-go<->wireguard-go during one more TCP 1-stream run each
#                (perf record -e cpu-clock -g), reports in DIR
# Needs root, iperf3, ping, wg, wireguard-go; --perf needs perf (Debian package linux-perf).
# Everything it creates (namespaces, links, processes, sockets) is removed on exit, also on
# failure or Ctrl-C.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

usage() {
  echo "usage: $0 BUILD_DIR [--quick] [--json FILE] [--perf DIR]" >&2
  exit 2
}
[[ $# -ge 1 && $1 != -* ]] || usage
BUILD=$(cd "$1" && pwd) || usage
shift
QUICK=no JSON_OUT= PERF_DIR=
while [[ $# -gt 0 ]]; do
  case $1 in
    --quick) QUICK=yes ;;
    --json) [[ $# -ge 2 ]] || usage; JSON_OUT=$2; shift ;;
    --perf) [[ $# -ge 2 ]] || usage; PERF_DIR=$2; shift ;;
    *) usage ;;
  esac
  shift
done
# Relative output paths are taken from where the command was run.
[[ -z $JSON_OUT || $JSON_OUT == /* ]] || JSON_OUT=$PWD/$JSON_OUT
[[ -z $PERF_DIR || $PERF_DIR == /* ]] || PERF_DIR=$PWD/$PERF_DIR

SECS=10
[[ $QUICK == yes ]] && SECS=3
PINGS=200
PING_INTERVAL=0.01
MTU=1420
UDP_RATE=10G
UDP_SMALL=64
UDP_LARGE=1392
CLK_TCK=$(getconf CLK_TCK)

source "$root/test/e2e/lib/wg.sh"

bench_log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

wg_init tbench "$BUILD"
wg_require wireguard-go mini-wireguard
# Run a copy of mini-wireguard: others may rebuild the build directory during the run, and the
# copy keeps one binary for the whole run and its symbols readable for perf.
mini_src=$(wg_impl_path mini-wireguard)
mkdir -p "$E2E_WORK/build/tools/mini-wireguard"
cp -p "$mini_src" "$E2E_WORK/build/tools/mini-wireguard/mini-wireguard"
WG_BUILD=$E2E_WORK/build
for tool in iperf3 ping awk getconf; do
  command -v $tool >/dev/null || e2e_fail "$tool is not installed"
done
if [[ -n $PERF_DIR ]]; then
  command -v perf >/dev/null || e2e_fail "--perf needs perf (apt-get install linux-perf)"
  mkdir -p "$PERF_DIR"
fi

# The setups, in the order they are measured and printed. gg is the baseline of every ratio.
# mm, mt, mo and mc are mini-wireguard on both sides, one technique added at a time:
#   mm  batched UDP with GSO and GRO, no TUN offloads   (--offload=false)
#   mt  + TUN TSO in: 64 KiB super-packets read and cut here   (--offload --tun-coalesce=false)
#   mo  + coalesced TUN writes out: userspace GRO   (--offload)
#   mc  + the AEAD on a second thread   (--offload --crypto-thread)
SETUPS=(gg mg mm mt mo mc veth)
declare -A NAME=([gg]="wireguard-go <-> wireguard-go" [mg]="mini-wireguard <-> wireguard-go"
  [mm]="mini-wireguard --offload=false, both sides"
  [mt]="mini-wireguard --offload --tun-coalesce=false, both sides"
  [mo]="mini-wireguard --offload, both sides"
  [mc]="mini-wireguard --offload --crypto-thread, both sides" [veth]="bare veth (no tunnel)")
declare -A SHORT=([gg]="wg-go<->wg-go" [mg]="mini<->wg-go" [mm]="mini,no-offload" [mt]="mini+tso"
  [mo]="mini+offload" [mc]="mini+offload+thread" [veth]="bare veth")
declare -A LEFT_IMPL=([gg]=wireguard-go [mg]=mini-wireguard [mm]=mini-wireguard
  [mt]=mini-wireguard [mo]=mini-wireguard [mc]=mini-wireguard)
declare -A RIGHT_IMPL=([gg]=wireguard-go [mg]=wireguard-go [mm]=mini-wireguard
  [mt]=mini-wireguard [mo]=mini-wireguard [mc]=mini-wireguard)
# Extra mini-wireguard flags per setup (WG_MINI_ARGS of test/e2e/lib/wg.sh, set only while that
# setup's daemons start; wireguard-go ignores it). mg runs mini-wireguard's defaults.
declare -A MINI_ARGS=([mm]="--offload=false" [mt]="--offload --tun-coalesce=false"
  [mo]="--offload" [mc]="--offload --crypto-thread")
declare -A IDX=([veth]=0 [gg]=1 [mg]=2 [mm]=3 [mt]=4 [mo]=5 [mc]=6)
declare -A DST=()          # the address the left side sends to
declare -A RES=()          # "SETUP.TEST.FIELD" -> number
declare -A CTR=()          # "SETUP.SIDE.FIELD" -> a mini-wireguard daemon's counter (SIDE l or r)
FAILED=()

# calc FORMAT EXPR: awk arithmetic, e.g. calc %.3f "1/3".
calc() { awk "BEGIN { printf \"$1\", $2 }"; }

# cpu_ticks PID: utime + stime of a process (all its threads), in clock ticks.
cpu_ticks() {
  local s
  s=$(<"/proc/$1/stat") || { echo 0; return; }
  s=${s##*) }
  local -a f
  read -r -a f <<<"$s"
  echo $((f[11] + f[12]))
}

# json_field FILE SECTION KEY: a number from iperf3 -J output, from the object "SECTION" (only the
# "end" object has sum_sent, sum_received and cpu_utilization_percent).
json_field() {
  awk -v s="\"$2\":" -v k="\"$3\":" '
    $1 == s { inside = 1; next }
    inside && /}/ { exit }
    inside && $1 == k { v = $2; sub(/,$/, "", v); print v; exit }' "$1"
}

# --- setup ---------------------------------------------------------------------------------------
machine_cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
machine="nproc $(nproc), CPU ${machine_cpu:-unknown}, kernel $(uname -r)"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
mini_bin=$(wg_impl_path mini-wireguard)
mini_built=$(date -r "$mini_bin" '+%Y-%m-%d %H:%M')
mini_sha=$(sha256sum "$mini_bin" | cut -c1-12)
git_rev=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git -C "$root" status --porcelain 2>/dev/null | head -1) ]]; then
  git_rev="$git_rev + uncommitted changes"
fi
wggo_version=$(wireguard-go --version 2>/dev/null | awk '/wireguard-go/ { print $2; exit }')
iperf_version=$(iperf3 --version 2>/dev/null | awk 'NR == 1 { print $2 }')
started=$SECONDS
bench_log "machine: $machine; load average $load_start"
bench_log "mini-wireguard: $mini_src (built $mini_built, sha256 $mini_sha…; run from a copy);" \
  "source tree $git_rev; wireguard-go ${wggo_version:-?}; iperf3 ${iperf_version:-?}"
bench_log "plan: ${#SETUPS[@]} setups x (TCP 1 and 4 streams, UDP $UDP_SMALL and $UDP_LARGE B:" \
  "${SECS} s each; $PINGS pings); about $(((4 * SECS + 6) * ${#SETUPS[@]} / 60 + 1)) min"

# iperf_server SETUP: iperf3 -s on the right side, bound to the address the left side sends to.
iperf_server() {
  local s=$1
  e2e_bg "${s}r" "iperf3-server-$s" iperf3 -s -B "${DST[$s]}" -p 5201
  e2e_wait "iperf3 server of $s" 10 e2e_in "${s}r" sh -c "ss -ltn | grep -q '${DST[$s]}:5201'"
}

setup_veth() {
  e2e_pair vethl vethr 220
  DST[veth]=$E2E_vethr_IP
  iperf_server veth
  bench_log "veth: namespaces $E2E_vethl / $E2E_vethr, ${E2E_vethl_IP} -> ${DST[veth]}" \
    "(MTU 1500, no tunnel)"
}

# setup_tunnel SETUP: namespaces, the two daemons, keys, addresses, MTU, a handshake, iperf3 -s.
setup_tunnel() {
  local s=$1 n=${IDX[$1]} side o
  local l="${s}l" r="${s}r"
  # Dynamic scope: wg_start sees this; "" keeps a WG_MINI_ARGS from the caller's environment
  # out of the other setups.
  local WG_MINI_ARGS=${MINI_ARGS[$s]:-}
  e2e_pair "$l" "$r" $((220 + n))
  declare -A under=([$l]=10.22$n.0.1 [$r]=10.22$n.0.2) port=([$l]=51820 [$r]=51821)
  declare -A tun4=([$l]=10.12$n.0.1 [$r]=10.12$n.0.2) tun6=([$l]=fd12:$n::1 [$r]=fd12:$n::2)
  wg_start "$l" "${LEFT_IMPL[$s]}" "tb${n}l$$"
  wg_start "$r" "${RIGHT_IMPL[$s]}" "tb${n}r$$"
  wg_genkey "$l"
  wg_genkey "$r"
  for side in "$l" "$r"; do
    [[ $side == "$l" ]] && o=$r || o=$l
    wg_in "$side" set "${WG_IFACE[$side]}" listen-port "${port[$side]}" \
      private-key "${WG_KEYFILE[$side]}" peer "${WG_PUB[$o]}" \
      allowed-ips "${tun4[$o]}/32,${tun6[$o]}/128" endpoint "${under[$o]}:${port[$o]}"
    wg_addr "$side" "${tun4[$side]}/24" "${tun6[$side]}/64"
    ip -n "$E2E_PREFIX-$side" link set "${WG_IFACE[$side]}" mtu "$MTU"
    ip -n "$E2E_PREFIX-$side" link show "${WG_IFACE[$side]}" | grep -q "mtu $MTU " ||
      e2e_fail "$side: ${WG_IFACE[$side]} does not have MTU $MTU"
  done
  DST[$s]=${tun4[$r]}
  e2e_wait "a ping through the $s tunnel (handshake)" 15 e2e_in "$l" ping -c 1 -W 1 "${DST[$s]}"
  iperf_server "$s"
  bench_log "$s: ${NAME[$s]} up: ${WG_IMPL[$l]} pid ${WG_PID[$l]} (${tun4[$l]}) ->" \
    "${WG_IMPL[$r]} pid ${WG_PID[$r]} (${DST[$s]}), MTU $MTU, handshake done"
}

bench_log "setting up: bare veth and four tunnels"
setup_veth
for s in "${SETUPS[@]}"; do [[ $s == veth ]] || setup_tunnel "$s"; done

# --- measurements --------------------------------------------------------------------------------
# run_waited OUT SIDE CMD...: runs CMD in namespace SIDE in the background (ip netns exec execs it,
# so the pid is CMD's), output to OUT, and waits for it. Why not in the foreground: bash runs its
# INT trap only when a foreground child dies of SIGINT, and iperf3 catches SIGINT, so Ctrl-C would
# not stop the bench; the wait builtin returns at once on a trapped signal. While it runs, CMD is in
# E2E_PIDS, so the cleanup stops it.
run_waited() {
  local out=$1 ns="$E2E_PREFIX-$2" pid rc=0 i
  shift 2
  ip netns exec "$ns" "$@" >"$out" 2>&1 </dev/null &
  pid=$!
  E2E_PIDS+=("$pid")
  wait "$pid" || rc=$?
  for i in "${!E2E_PIDS[@]}"; do [[ ${E2E_PIDS[$i]} != "$pid" ]] || unset "E2E_PIDS[$i]"; done
  return "$rc"
}

# warm SETUP: one ping first, so that a session that expired while the setup sat idle is
# re-established before the measurement starts.
warm() { run_waited /dev/null "${1}l" ping -c 1 -W 2 "${DST[$1]}" || true; }

# iperf_client SETUP OUT ARGS...: iperf3 -c from the left side, JSON to OUT. Retries when the
# server is still busy finishing the previous test.
iperf_client() {
  local s=$1 out=$2 try
  shift 2
  for try in 1 2 3 4 5; do
    if run_waited "$out" "${s}l" timeout $((SECS + 30)) iperf3 -c "${DST[$s]}" -p 5201 -J "$@"
    then return 0; fi
    grep -q 'busy' "$out" || break
    sleep 1
  done
  return 1
}

# daemon_ticks SETUP: "LEFT RIGHT" CPU ticks of the daemons (0 0 for the bare veth).
daemon_ticks() {
  if [[ $1 == veth ]]; then echo "0 0"; return; fi
  echo "$(cpu_ticks "${WG_PID[${1}l]}") $(cpu_ticks "${WG_PID[${1}r]}")"
}

record_failure() {
  FAILED+=("$1")
  bench_log "    FAILED: $1 (last lines of its output below)"
  tail -n 5 "$2" | sed 's/^/        /'
}

# measure_tcp SETUP TEST STREAMS
measure_tcp() {
  local s=$1 t=$2 streams=$3 out="$E2E_WORK/$1-$2.json" l0 r0 l1 r1
  warm "$s"
  read -r l0 r0 <<<"$(daemon_ticks "$s")"
  if ! iperf_client "$s" "$out" -t "$SECS" -P "$streams"; then
    record_failure "$s $t" "$out"
    return 0
  fi
  read -r l1 r1 <<<"$(daemon_ticks "$s")"
  local bytes secs retr host remote
  bytes=$(json_field "$out" sum_received bytes)
  secs=$(json_field "$out" sum_received seconds)
  retr=$(json_field "$out" sum_sent retransmits)
  host=$(json_field "$out" cpu_utilization_percent host_total)
  remote=$(json_field "$out" cpu_utilization_percent remote_total)
  [[ -n $bytes && -n $secs ]] || { record_failure "$s $t (no sum_received)" "$out"; return 0; }
  local gb
  gb=$(calc %.6f "$bytes / 1e9")
  RES[$s.$t.bytes]=$bytes
  RES[$s.$t.seconds]=$secs
  RES[$s.$t.retransmits]=${retr:-0}
  RES[$s.$t.gbps]=$(calc %.4f "$bytes * 8 / $secs / 1e9")
  RES[$s.$t.iperf3_cpu_s]=$(calc %.3f "($host + $remote) / 100 * $secs")
  if [[ $s != veth ]]; then
    RES[$s.$t.left_cpu_s]=$(calc %.3f "($l1 - $l0) / $CLK_TCK")
    RES[$s.$t.right_cpu_s]=$(calc %.3f "($r1 - $r0) / $CLK_TCK")
    RES[$s.$t.left_s_per_gb]=$(calc %.4f "${RES[$s.$t.left_cpu_s]} / $gb")
    RES[$s.$t.right_s_per_gb]=$(calc %.4f "${RES[$s.$t.right_cpu_s]} / $gb")
    RES[$s.$t.daemons_s_per_gb]=$(calc %.4f \
      "(${RES[$s.$t.left_cpu_s]} + ${RES[$s.$t.right_cpu_s]}) / $gb")
    RES[$s.$t.total_s_per_gb]=$(calc %.4f \
      "(${RES[$s.$t.left_cpu_s]} + ${RES[$s.$t.right_cpu_s]} + ${RES[$s.$t.iperf3_cpu_s]}) / $gb")
    bench_log "    ${SHORT[$s]}: $(calc %.3f "${RES[$s.$t.gbps]}") Gbit/s;" \
      "daemons $(calc %.2f "${RES[$s.$t.daemons_s_per_gb]}") CPU-s/GB" \
      "(sender ${RES[$s.$t.left_cpu_s]} s, receiver ${RES[$s.$t.right_cpu_s]} s" \
      "for $(calc %.2f "$gb") GB), retransmits ${RES[$s.$t.retransmits]}"
  else
    RES[$s.$t.total_s_per_gb]=$(calc %.4f "${RES[$s.$t.iperf3_cpu_s]} / $gb")
    bench_log "    ${SHORT[$s]}: $(calc %.3f "${RES[$s.$t.gbps]}") Gbit/s;" \
      "iperf3 ends $(calc %.2f "${RES[$s.$t.total_s_per_gb]}") CPU-s/GB," \
      "retransmits ${RES[$s.$t.retransmits]}"
  fi
}

# measure_udp SETUP TEST PAYLOAD
measure_udp() {
  local s=$1 t=$2 len=$3 out="$E2E_WORK/$1-$2.json" l0 r0 l1 r1
  warm "$s"
  read -r l0 r0 <<<"$(daemon_ticks "$s")"
  if ! iperf_client "$s" "$out" -t "$SECS" -u -l "$len" -b "$UDP_RATE"; then
    record_failure "$s $t" "$out"
    return 0
  fi
  read -r l1 r1 <<<"$(daemon_ticks "$s")"
  local packets lost secs sent
  packets=$(json_field "$out" sum_received packets)
  lost=$(json_field "$out" sum_received lost_packets)
  secs=$(json_field "$out" sum_received seconds)
  sent=$(json_field "$out" sum_sent packets)
  [[ -n $packets && -n $lost && -n $secs ]] ||
    { record_failure "$s $t (no sum_received)" "$out"; return 0; }
  RES[$s.$t.sent_packets]=${sent:-$packets}
  RES[$s.$t.received_packets]=$((packets - lost))
  RES[$s.$t.seconds]=$secs
  RES[$s.$t.kpps]=$(calc %.2f "($packets - $lost) / $secs / 1000")
  RES[$s.$t.loss_pct]=$(calc %.2f "($packets > 0) ? 100 * $lost / $packets : 0")
  if [[ $s != veth ]]; then
    RES[$s.$t.daemons_cpu_s]=$(calc %.3f "($l1 - $l0 + $r1 - $r0) / $CLK_TCK")
  fi
  bench_log "    ${SHORT[$s]}: $(calc %.1f "${RES[$s.$t.kpps]}") kpps received" \
    "(${RES[$s.$t.received_packets]} of $packets, loss ${RES[$s.$t.loss_pct]} %)"
}

# measure_ping SETUP
measure_ping() {
  local s=$1 out="$E2E_WORK/$1-ping.txt" stats
  warm "$s"
  run_waited "$out" "${s}l" ping -c "$PINGS" -i "$PING_INTERVAL" -W 1 "${DST[$s]}" || true
  stats=$(grep -o 'time=[0-9.]*' "$out" | cut -d= -f2 | sort -n | awk -v sent="$PINGS" '
    { v[NR] = $1; sum += $1 }
    function rank(p,  i) { i = int(p * NR); if (i < p * NR) i++; if (i < 1) i = 1; return v[i] }
    END { if (NR == 0) exit; printf "%s %s %s %s %.3f %d\n", v[1], rank(0.5), rank(0.99), v[NR],
          sum / NR, NR }')
  if [[ -z $stats ]]; then
    record_failure "$s ping" "$out"
    return 0
  fi
  local min p50 p99 max avg n
  read -r min p50 p99 max avg n <<<"$stats"
  RES[$s.ping.min_ms]=$min RES[$s.ping.p50_ms]=$p50 RES[$s.ping.p99_ms]=$p99
  RES[$s.ping.max_ms]=$max RES[$s.ping.avg_ms]=$avg RES[$s.ping.received]=$n
  RES[$s.ping.sent]=$PINGS
  bench_log "    ${SHORT[$s]}: p50 $p50 ms, p99 $p99 ms (min $min, max $max; $n of $PINGS answered)"
}

declare -A TEST_TITLE=([tcp1]="TCP, 1 stream, ${SECS} s" [tcp4]="TCP, 4 streams, ${SECS} s"
  [udp$UDP_SMALL]="UDP, $UDP_SMALL-byte payloads, -b $UDP_RATE, ${SECS} s"
  [udp$UDP_LARGE]="UDP, $UDP_LARGE-byte payloads, -b $UDP_RATE, ${SECS} s"
  [ping]="ping, $PINGS x ${PING_INTERVAL} s")
TESTS=(tcp1 tcp4 "udp$UDP_SMALL" "udp$UDP_LARGE" ping)
n_test=0
for t in "${TESTS[@]}"; do
  n_test=$((n_test + 1))
  bench_log "test $n_test/${#TESTS[@]}: ${TEST_TITLE[$t]}, on ${SETUPS[*]} in turn"
  for s in "${SETUPS[@]}"; do
    case $t in
      tcp1) measure_tcp "$s" tcp1 1 ;;
      tcp4) measure_tcp "$s" tcp4 4 ;;
      udp*) measure_udp "$s" "$t" "${t#udp}" ;;
      ping) measure_ping "$s" ;;
    esac
  done
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# --- offload counters ----------------------------------------------------------------------------
# mini_counters SETUP SIDE: asks the mini-wireguard daemon on SIDE (l or r) for its statistics
# (SIGUSR1; it prints them and keeps running) and reads its "TUN:" and "UDP:" lines into
# CTR[SETUP.SIDE.*]. The counters cover the daemon's life so far: the handshake, the warm-up
# pings and every test above (read before the profiles add more).
RE_TUN='^TUN: ([0-9]+) packets read \(([0-9]+) TSO super-packets cut into ([0-9]+)\), '
RE_TUN+='([0-9]+) written \(([0-9]+) coalesced into ([0-9]+) super-packets\), ([0-9]+) dropped'
RE_UDP='^UDP: ([0-9]+) datagrams sent in ([0-9]+) calls \(([0-9]+) by GSO\), ([0-9]+) received '
RE_UDP+='in ([0-9]+) calls \(([0-9]+) coalesced by GRO\)'
mini_counters() {
  local s=$1 d=$2 side="$1$2" out pid before i line
  [[ ${WG_IMPL[$side]:-} == mini-wireguard ]] || return 0
  out=${WG_OUT[$side]} pid=${WG_PID[$side]}
  before=$(grep -c '^UDP: ' "$out" || true)
  kill -USR1 "$pid" 2>/dev/null || return 0
  # Both lines come with one fflush; wait for the new UDP line (at most 3 s).
  for i in $(seq 30); do
    (($(grep -c '^UDP: ' "$out" || true) > before)) && break
    sleep 0.1
  done
  line=$(grep '^TUN: ' "$out" | tail -n 1)
  if [[ $line =~ $RE_TUN ]]; then
    CTR[$s.$d.tun_packets_read]=${BASH_REMATCH[1]} CTR[$s.$d.tun_tso_packets]=${BASH_REMATCH[2]}
    CTR[$s.$d.tun_tso_segments]=${BASH_REMATCH[3]}
    CTR[$s.$d.tun_packets_written]=${BASH_REMATCH[4]}
    CTR[$s.$d.tun_coalesced_segments]=${BASH_REMATCH[5]}
    CTR[$s.$d.tun_coalesced_writes]=${BASH_REMATCH[6]} CTR[$s.$d.tun_dropped]=${BASH_REMATCH[7]}
  fi
  line=$(grep '^UDP: ' "$out" | tail -n 1)
  if [[ $line =~ $RE_UDP ]]; then
    CTR[$s.$d.udp_sent]=${BASH_REMATCH[1]} CTR[$s.$d.udp_send_calls]=${BASH_REMATCH[2]}
    CTR[$s.$d.udp_gso_sent]=${BASH_REMATCH[3]} CTR[$s.$d.udp_received]=${BASH_REMATCH[4]}
    CTR[$s.$d.udp_receive_calls]=${BASH_REMATCH[5]}
    CTR[$s.$d.udp_gro_received]=${BASH_REMATCH[6]}
  else
    bench_log "    ${SHORT[$s]}: no statistics lines from mini-wireguard pid $pid in $out"
  fi
}
for s in "${SETUPS[@]}"; do
  [[ $s == veth ]] && continue
  mini_counters "$s" l
  mini_counters "$s" r
done

# --- profiles (optional) -------------------------------------------------------------------------
# profile SETUP: perf record (cpu-clock, call graphs) of both daemons during one TCP 1-stream run.
# Writes DIR/SETUP.perf.data, DIR/SETUP.breakdown.txt (perf_breakdown.sh: CPU by system call and
# by user-space code, per daemon; printed) and DIR/SETUP.report.txt (perf report: self time by
# library and symbol).
profile() {
  local s=$1 data="$PERF_DIR/$1.perf.data" report="$PERF_DIR/$1.report.txt" pid
  local lp=${WG_PID[${1}l]} rp=${WG_PID[${1}r]}
  warm "$s"
  bench_log "profiling ${NAME[$s]} (pids $lp, $rp) during TCP 1 stream, ${SECS} s"
  perf record -e cpu-clock -F 999 -g -p "$lp,$rp" -o "$data" -- sleep $((SECS + 1)) \
    >"$E2E_WORK/perf-$s.log" 2>&1 &
  pid=$!
  E2E_PIDS+=("$pid")
  sleep 0.5
  iperf_client "$s" "$E2E_WORK/$s-profile.json" -t "$SECS" ||
    record_failure "$s profile run" "$E2E_WORK/$s-profile.json"
  local rc=0 i
  wait "$pid" || rc=$?
  for i in "${!E2E_PIDS[@]}"; do [[ ${E2E_PIDS[$i]} != "$pid" ]] || unset "E2E_PIDS[$i]"; done
  if ((rc != 0)); then
    record_failure "$s profile (perf record exited with $rc)" "$E2E_WORK/perf-$s.log"
    return 0
  fi
  local opts=(-i "$data" --stdio --no-children --sort dso,sym -g none --percent-limit 0.3)
  perf report "${opts[@]}" 2>/dev/null >"$report" || bench_log "    perf report failed on $data"
  if ! "$here/perf_breakdown.sh" "$data" "$lp" "$rp" >"$PERF_DIR/$s.breakdown.txt" 2>&1; then
    record_failure "$s profile (perf_breakdown.sh)" "$PERF_DIR/$s.breakdown.txt"
    return 0
  fi
  local gbps
  gbps=$(json_field "$E2E_WORK/$s-profile.json" sum_received bits_per_second)
  bench_log "    where ${NAME[$s]} spends its CPU (sender ${WG_IMPL[${s}l]}," \
    "receiver ${WG_IMPL[${s}r]}; $(calc %.3f "${gbps:-0} / 1e9") Gbit/s while profiled):"
  sed 's/^/        /' "$PERF_DIR/$s.breakdown.txt"
  bench_log "    files: $data, $PERF_DIR/$s.breakdown.txt, $report"
}
if [[ -n $PERF_DIR ]]; then
  profile mo
  profile mc
  profile mm
  profile gg
fi

# --- report --------------------------------------------------------------------------------------
# fmt VALUE: a few significant digits.
fmt() {
  awk -v v="$1" 'BEGIN { a = v < 0 ? -v : v
    if (a >= 100) printf "%.0f", v; else if (a >= 10) printf "%.1f", v
    else if (a >= 1) printf "%.2f", v; else printf "%.3f", v }'
}
# ratio VALUE BASE: VALUE / BASE as "1.23x", or "-" when undefined.
ratio() {
  awk -v v="$1" -v b="$2" 'BEGIN { if (v == "" || b == "" || b + 0 == 0) print "-";
    else printf "%.2fx", v / b }'
}

ROWS=(
  "tcp1.gbps|TCP 1 stream, Gbit/s|higher"
  "tcp4.gbps|TCP 4 streams, Gbit/s|higher"
  "udp$UDP_SMALL.kpps|UDP $UDP_SMALL B, received kpps|higher"
  "udp$UDP_SMALL.loss_pct|UDP $UDP_SMALL B, loss %|lower"
  "udp$UDP_LARGE.kpps|UDP $UDP_LARGE B, received kpps|higher"
  "udp$UDP_LARGE.loss_pct|UDP $UDP_LARGE B, loss %|lower"
  "ping.p50_ms|ping p50, ms|lower"
  "ping.p99_ms|ping p99, ms|lower"
  "tcp1.left_s_per_gb|CPU TCP 1: sender daemon, s/GB|lower"
  "tcp1.right_s_per_gb|CPU TCP 1: receiver daemon, s/GB|lower"
  "tcp1.daemons_s_per_gb|CPU TCP 1: both daemons, s/GB|lower"
  "tcp1.total_s_per_gb|CPU TCP 1: + iperf3 ends, s/GB|lower"
  "tcp4.left_s_per_gb|CPU TCP 4: sender daemon, s/GB|lower"
  "tcp4.right_s_per_gb|CPU TCP 4: receiver daemon, s/GB|lower"
  "tcp4.daemons_s_per_gb|CPU TCP 4: both daemons, s/GB|lower"
  "tcp4.total_s_per_gb|CPU TCP 4: + iperf3 ends, s/GB|lower"
)

echo
echo "meshvpn bench/tunnel: $(date '+%Y-%m-%d %H:%M %Z'), $([[ $QUICK == yes ]] && echo quick ||
  echo full) run, ${SECS} s per iperf3 run, tunnel MTU $MTU"
echo "machine: $machine; load average $load_start at start, $load_end at the end"
echo "versions: mini-wireguard built $mini_built (sha256 $mini_sha…, source tree $git_rev)," \
  "wireguard-go ${wggo_version:-?}, iperf3 ${iperf_version:-?}"
echo "each cell: value (ratio against wireguard-go <-> wireguard-go measured in this run)"
echo
# Columns are 18 wide, or as wide as their setup's name.
declare -A WIDTH=()
for s in "${SETUPS[@]}"; do
  WIDTH[$s]=18
  ((${#SHORT[$s]} <= 18)) || WIDTH[$s]=${#SHORT[$s]}
done
printf '%-36s %-7s' "" "better"
for s in "${SETUPS[@]}"; do printf ' %-*s' "${WIDTH[$s]}" "${SHORT[$s]}"; done
echo
for row in "${ROWS[@]}"; do
  IFS='|' read -r key label better <<<"$row"
  printf '%-36s %-7s' "$label" "$better"
  base=${RES[gg.$key]:-}
  for s in "${SETUPS[@]}"; do
    v=${RES[$s.$key]:-}
    if [[ -z $v ]]; then
      cell="n/a"
      [[ $s == veth && $key == *_s_per_gb && $key != *total* ]] && cell="-"
    else
      cell="$(fmt "$v") ($(ratio "$v" "$base"))"
    fi
    printf ' %-*s' "${WIDTH[$s]}" "$cell"
  done
  echo
done
echo
cat <<EOF
Left sends, right receives: in mini<->wg-go, mini-wireguard encrypts, wireguard-go decrypts.
s/GB: CPU seconds (user+system, /proc/PID/stat) per 10^9 bytes delivered. "+ iperf3 ends" adds
the iperf3 client and server; for the bare veth that is all there is: the floor.
mini<->wg-go: mini-wireguard with its defaults. The other mini setups run it on both sides, one
technique added at a time: mini,no-offload: batched UDP with GSO and GRO (--offload=false);
mini+tso: + TUN with IFF_VNET_HDR, TSO super-packets read and cut (--tun-coalesce=false);
mini+offload: + coalesced TUN writes (userspace GRO); mini+offload+thread: + the AEAD on a second
thread (--crypto-thread).
Bare veth: MTU 1500, no encryption: the ceiling. UDP: iperf3 -u -b $UDP_RATE; loss is what the
receiver did not get. Absolute numbers drift with the machine's load; the ratios are the result.
EOF
# per CALLS COUNT: COUNT / CALLS with one decimal, or "-".
per() { awk -v c="$1" -v n="$2" 'BEGIN { if (c + 0 == 0) print "-"; else printf "%.1f", n / c }'; }
if ((${#CTR[@]})); then
  echo
  echo "mini-wireguard offload counters (each daemon's statistics after the tests, SIGUSR1):"
  for s in "${SETUPS[@]}"; do
    for d in l r; do
      [[ -n ${CTR[$s.$d.udp_sent]:-} ]] || continue
      [[ $d == l ]] && role=sender || role=receiver
      printf '  %s, %s:\n' "${SHORT[$s]}" "$role"
      printf '    TUN: read %s packets, %s of them cut from %s TSO super-packets' \
        "${CTR[$s.$d.tun_packets_read]:-?}" "${CTR[$s.$d.tun_tso_segments]:-?}" \
        "${CTR[$s.$d.tun_tso_packets]:-?}"
      printf ' (%s per super-packet); wrote %s, %s of them coalesced into %s super-packets' \
        "$(per "${CTR[$s.$d.tun_tso_packets]:-0}" "${CTR[$s.$d.tun_tso_segments]:-0}")" \
        "${CTR[$s.$d.tun_packets_written]:-?}" "${CTR[$s.$d.tun_coalesced_segments]:-?}" \
        "${CTR[$s.$d.tun_coalesced_writes]:-?}"
      printf ' (%s per write); dropped %s\n' \
        "$(per "${CTR[$s.$d.tun_coalesced_writes]:-0}" "${CTR[$s.$d.tun_coalesced_segments]:-0}")" \
        "${CTR[$s.$d.tun_dropped]:-?}"
      printf '    UDP: sent %s datagrams in %s calls (%s per call), %s of them by GSO;' \
        "${CTR[$s.$d.udp_sent]}" "${CTR[$s.$d.udp_send_calls]}" \
        "$(per "${CTR[$s.$d.udp_send_calls]}" "${CTR[$s.$d.udp_sent]}")" \
        "${CTR[$s.$d.udp_gso_sent]}"
      printf ' received %s in %s calls (%s per call), %s of them coalesced by GRO\n' \
        "${CTR[$s.$d.udp_received]}" "${CTR[$s.$d.udp_receive_calls]}" \
        "$(per "${CTR[$s.$d.udp_receive_calls]}" "${CTR[$s.$d.udp_received]}")" \
        "${CTR[$s.$d.udp_gro_received]}"
    done
  done
  echo "  (over each daemon's life so far: handshake, warm-up pings and all the tests above)"
fi
echo "runtime: $((SECONDS - started)) s"

# --- JSON ----------------------------------------------------------------------------------------
# json_str STRING: a JSON string literal (the strings here have no control characters).
json_str() { local v=${1//\\/\\\\}; printf '"%s"' "${v//\"/\\\"}"; }
# json_counters SETUP: the "daemon_counters" line of a setup, for its mini-wireguard daemons.
json_counters() {
  local s=$1 d role key fields first_f part first_d=1
  local -a parts=()
  for d in l r; do
    [[ -n ${CTR[$s.$d.udp_sent]:-} ]] || continue
    [[ $d == l ]] && role=sender || role=receiver
    fields="" first_f=1
    for key in tun_packets_read tun_tso_packets tun_tso_segments tun_packets_written tun_dropped \
      udp_sent udp_send_calls udp_gso_sent udp_received udp_receive_calls udp_gro_received; do
      [[ -n ${CTR[$s.$d.$key]:-} ]] || continue
      ((first_f)) || fields+=", "
      first_f=0
      fields+="\"$key\": ${CTR[$s.$d.$key]}"
    done
    parts+=("\"$role\": {$fields}")
  done
  ((${#parts[@]})) || return 0
  printf '      "daemon_counters": {'
  for part in "${parts[@]}"; do
    ((first_d)) || printf ', '
    first_d=0
    printf '%s' "$part"
  done
  printf '},\n'
}
write_json() {
  local s t first_s=1 first_t first_f key field v
  {
    echo "{"
    echo "  \"bench\": \"bench/tunnel/run.sh\","
    echo "  \"date\": $(json_str "$(date -u '+%Y-%m-%dT%H:%M:%SZ')"),"
    echo "  \"quick\": $([[ $QUICK == yes ]] && echo true || echo false),"
    echo "  \"machine\": {\"nproc\": $(nproc), \"cpu\": $(json_str "$machine_cpu")," \
      "\"kernel\": $(json_str "$(uname -r)"), \"loadavg_start\": $(json_str "$load_start")," \
      "\"loadavg_end\": $(json_str "$load_end")},"
    echo "  \"versions\": {\"meshvpn_tree\": $(json_str "$git_rev")," \
      "\"mini_wireguard_built\": $(json_str "$mini_built")," \
      "\"mini_wireguard_sha256_prefix\": \"$mini_sha\"," \
      "\"wireguard_go\": $(json_str "${wggo_version:-}")," \
      "\"iperf3\": $(json_str "${iperf_version:-}")},"
    echo "  \"parameters\": {\"seconds_per_iperf3_run\": $SECS, \"tunnel_mtu\": $MTU," \
      "\"udp_bitrate\": $(json_str "$UDP_RATE"), \"udp_payloads\": [$UDP_SMALL, $UDP_LARGE]," \
      "\"pings\": $PINGS, \"ping_interval_s\": $PING_INTERVAL},"
    echo "  \"baseline\": \"gg\","
    echo "  \"failed\": [$(for f in "${FAILED[@]}"; do printf '%s' "$(json_str "$f"), "; done |
      sed 's/, $//')],"
    echo "  \"setups\": {"
    for s in "${SETUPS[@]}"; do
      ((first_s)) || echo ","
      first_s=0
      printf '    "%s": {\n      "name": %s,\n' "$s" "$(json_str "${NAME[$s]}")"
      if [[ $s != veth ]]; then
        printf '      "sender": "%s", "receiver": "%s", "mini_wireguard_args": %s,\n' \
          "${LEFT_IMPL[$s]}" "${RIGHT_IMPL[$s]}" "$(json_str "${MINI_ARGS[$s]:-}")"
        json_counters "$s"
      fi
      first_t=1
      for t in "${TESTS[@]}"; do
        ((first_t)) || printf ',\n'
        first_t=0
        printf '      "%s": {' "$t"
        first_f=1
        for key in "${!RES[@]}"; do
          [[ $key == "$s.$t."* ]] || continue
          echo "${key#"$s.$t."}"
        done | sort | while read -r field; do
          v=${RES[$s.$t.$field]}
          ((first_f)) || printf ', '
          first_f=0
          printf '"%s": %s' "$field" "$v"
          if [[ $s != gg && $field =~ ^(gbps|kpps|loss_pct|.*_s_per_gb|.*_ms)$ &&
            -n ${RES[gg.$t.$field]:-} ]] &&
            awk -v b="${RES[gg.$t.$field]}" 'BEGIN { exit !(b + 0 != 0) }'; then
            printf ', "%s_vs_gg": %s' "$field" "$(calc %.4f "$v / ${RES[gg.$t.$field]}")"
          fi
        done
        printf '}'
      done
      printf '\n    }'
    done
    echo
    echo "  }"
    echo "}"
  } >"$JSON_OUT"
  bench_log "JSON written to $JSON_OUT"
}
[[ -z $JSON_OUT ]] || write_json

if ((${#FAILED[@]})); then
  bench_log "FAILED measurements: ${FAILED[*]}"
  exit 1
fi
bench_log "done in $((SECONDS - started)) s; cleaning up namespaces and processes"

#!/usr/bin/env bash
# coturn's TURN relay under the load of bench/derp/run.sh: relayed packets/s, Gbit/s, server CPU,
# packets/s per core and CPU seconds per GB for 1400- and 64-byte payloads and 1, 8 and 64 client
# pairs, over UDP and over TLS (TCP), on loopback in a private network namespace.
#
#   bench/derp/coturn.sh [--quick] [--json FILE]
#
# For each configuration: a fresh turnserver (coturn) with one relay thread (--relay-threads 1),
# pinned to CPU 0, and one turnutils_uclient pinned to CPU 1 in client-to-client mode (-y -c):
# one "pair" is two TURN allocations on the server, A and B, each with a channel bound to the
# other's relayed address, each sending its stream to the other, so a message goes A -> server
# (A's allocation) -> UDP from A's relay port to B's relay port -> server (B's allocation) -> B,
# and the same from B to A. N pairs = uclient -m 2N. packets/s counts messages received by the
# clients (delivered end to end), both directions summed; loss_pct is 1 - received/sent over the
# measured seconds. Server CPU is utime+stime of the turnserver process from /proc/PID/stat over
# the same seconds, as % of one core; packets/s per core = packets/s / (CPU% / 100).
#
# uclient has no rate knob but -z, the interval per session, and sends from a 1 ms libevent
# timer, at most 50 messages per session per tick; libevent's coarse clock makes that tick 4 ms
# here. Pacings: "c0" = -z 0 (50 per session per 4 ms tick, 12,500/s a session), "p0" = -z 0 with
# EVENT_PRECISE_TIMER=1 (a real 1 ms tick, up to 50,000/s a session, more than uclient itself can
# do with many sessions), "c1", "c2", ... = -z 1, 2, ... (1,000, 500, ... a session). The pacing
# for each configuration is in pacings() below, chosen for the most packets through. Over TLS,
# uclient spins in SSL_write when the server pushes back and stops reading, and the run stalls
# (server idle, uclient at 100%); a stalled run is restarted at the next, slower pacing. A row
# whose server CPU is under 90% is "bound": "client" (uclient could not saturate the relay).
# "1thread" is the busiest turnserver thread's share of the process's CPU: the one relay thread.
#
# --quick: 2 s per configuration (default 8 s). As root (network namespaces, taskset). Needs
# turnserver and turnutils_uclient (Debian package coturn), openssl, python3, ip, taskset.
set -euo pipefail
QUICK=0
JSON=""
while (($#)); do
  case $1 in
    --quick) QUICK=1 ;;
    --json) JSON=${2:?--json needs a file}; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "unknown argument $1 (usage: $0 [--quick] [--json FILE])" >&2; exit 2 ;;
  esac
  shift
done
[[ $(id -u) -eq 0 ]] || { echo "coturn.sh: run as root (network namespaces, taskset)" >&2; exit 1; }
for c in turnserver turnutils_uclient openssl python3 ip taskset; do
  command -v "$c" >/dev/null || { echo "coturn.sh: $c not found (apt-get install coturn openssl python3 iproute2 util-linux)" >&2; exit 1; }
done
((QUICK)) && DURATION=2 || DURATION=8
# uclient starts each session's stream 1 to 6 s (1000 + random() % 5000 ms) after it has
# connected them all; measure only once every session is sending.
WARMUP_US=6500000
# A subset for a look by hand: COTURN_BENCH_TRANSPORTS="tls" COTURN_BENCH_PAIRS="8" ...
read -ra SIZES <<<"${COTURN_BENCH_SIZES:-1400 64}"
read -ra PAIRS <<<"${COTURN_BENCH_PAIRS:-1 8 64}"
read -ra TRANSPORTS <<<"${COTURN_BENCH_TRANSPORTS:-udp tls}"
SERVER_CPU=0
CLIENT_CPU=1
BOUND_PCT=90
PORT=3478
TLS_PORT=5349
NS=mvpn-coturnbench-$$
HZ=$(getconf CLK_TCK)

tmp=$(mktemp -d /tmp/coturnbench.XXXXXX)
PIDS=()
cleanup() {
  set +e
  exec 3<&- 2>/dev/null
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  sleep 0.3
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
  ip netns del "$NS" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ip netns add "$NS"
ip -n "$NS" link set lo up
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=bench \
  -keyout "$tmp/key.pem" -out "$tmp/cert.pem" >/dev/null 2>&1 || { echo "openssl req failed" >&2; exit 1; }
: >"$tmp/turnserver.conf"
mkfifo "$tmp/uclient.fifo"

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# thread_ticks PID: "tid:ticks" for every thread of PID.
thread_ticks() {
  local t
  for t in /proc/"$1"/task/*; do
    [[ -r $t/stat ]] && printf '%s:%s ' "${t##*/}" "$(awk '{ print $14 + $15 }' "$t/stat" 2>/dev/null)"
  done
}

# start_server: a fresh turnserver on CPU 0 in the namespace; sets SPID.
start_server() {
  rm -f "$tmp/turnserver.log" "$tmp/turnserver.pid" "$tmp/turndb"
  # ip netns exec and taskset exec turnserver, so $! is turnserver's pid (checked against its
  # pid file below). -n: no config file; -c: and not /etc/turnserver.conf either.
  ip netns exec "$NS" taskset -c $SERVER_CPU turnserver -n -c "$tmp/turnserver.conf" \
    --relay-threads 1 --listening-ip 127.0.0.1 --relay-ip 127.0.0.1 \
    --listening-port $PORT --tls-listening-port $TLS_PORT --no-dtls --no-tcp \
    --cert "$tmp/cert.pem" --pkey "$tmp/key.pem" \
    --lt-cred-mech --user bench:bench --realm bench --allow-loopback-peers \
    --no-cli --no-rfc5780 --db "$tmp/turndb" --pidfile "$tmp/turnserver.pid" \
    --log-file "$tmp/turnserver.log" --simple-log --no-stdout-log >"$tmp/turnserver.out" 2>&1 &
  SPID=$!
  PIDS+=("$SPID")
  local _
  for _ in $(seq 100); do
    if [[ -s $tmp/turnserver.pid ]] && ip netns exec "$NS" ss -Hlnu "sport = :$PORT" | grep -q . &&
       ip netns exec "$NS" ss -Hlnt "sport = :$TLS_PORT" | grep -q .; then
      [[ $(cat "$tmp/turnserver.pid") == "$SPID" ]] || { echo "turnserver pid $(cat "$tmp/turnserver.pid") is not $SPID" >&2; exit 1; }
      return 0
    fi
    kill -0 "$SPID" 2>/dev/null || break
    sleep 0.05
  done
  cat "$tmp/turnserver.out" "$tmp/turnserver.log" >&2 2>/dev/null
  echo "turnserver did not start" >&2
  exit 1
}
stop() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# now_us: the wall clock in microseconds.
now_us() { local t=${EPOCHREALTIME//[.,]/}; echo $((10#$t)); }

# measure TRANSPORT SIZE PAIRS PACING: one uclient run against the running server (SPID). Sets
# RESULT to "ok t0 t1 sent0 sent1 recv0 recv1 cpu0 cpu1 ccpu0 ccpu1 THREADS0 / THREADS1" (times in
# us, from uclient's once-a-second totals, and turnserver's and uclient's /proc stat read at the
# moments those arrive), or to
# "stalled" or "failed". Not in a $(...) subshell, so that CPID is in PIDS for the trap.
measure() {
  local transport=$1 size=$2 pairs=$3 pacing=$4 envs=()
  local flags=(-y -c -m $((2 * pairs)) -l "$size" -z "${pacing:1}" -u bench -w bench)
  [[ ${pacing:0:1} == p ]] && envs=(EVENT_PRECISE_TIMER=1)
  if [[ $transport == tls ]]; then flags+=(-t -S -p "$TLS_PORT"); else flags+=(-p "$PORT"); fi
  # Enough messages per session to outlast the warm-up and the measurement at 50,000/s.
  flags+=(-n $((50000 * (DURATION + 12))))
  exec 3<>"$tmp/uclient.fifo"
  env "${envs[@]}" ip netns exec "$NS" taskset -c $CLIENT_CPU turnutils_uclient "${flags[@]}" 127.0.0.1 \
    >"$tmp/uclient.fifo" 2>&1 &
  CPID=$!
  PIDS+=("$CPID")
  local line t connected="" start="" t0="" s0="" r0="" c0="" cc0="" th0="" sent recv deadline
  RESULT=failed
  deadline=$(($(now_us) + 90000000))
  : >"$tmp/uclient.log"
  while :; do
    if ! IFS= read -r -t 3 -u 3 line; then
      kill -0 "$CPID" 2>/dev/null || break
      # uclient prints its totals every second once connected: 3 s without a line, it is stuck
      # (spinning in SSL_write against a server that no longer reads).
      if [[ -n $connected ]]; then RESULT=stalled; break; fi
      (($(now_us) < deadline)) || { echo "uclient did not connect in 90 s" >&2; break; }
      continue
    fi
    t=$(now_us)
    printf '%s %s\n' "$t" "$line" >>"$tmp/uclient.log"
    if [[ -z $connected ]]; then
      [[ $line == *"Total connect time"* ]] && connected=$t
      continue
    fi
    [[ $line =~ tot_send_msgs=([0-9]+),\ tot_recv_msgs=([0-9]+) ]] || continue
    sent=${BASH_REMATCH[1]} recv=${BASH_REMATCH[2]}
    if [[ -z $start ]]; then
      ((t - connected >= WARMUP_US)) || continue
      start=$t t0=$t s0=$sent r0=$recv c0=$(cpu_ticks "$SPID") th0=$(thread_ticks "$SPID")
      cc0=$(cpu_ticks "$CPID")
      continue
    fi
    if ((t - start >= DURATION * 1000000 - 50000)); then
      if ((recv == r0)); then RESULT=stalled; break; fi
      RESULT="ok $t0 $t $s0 $sent $r0 $recv $c0 $(cpu_ticks "$SPID") $cc0 $(cpu_ticks "$CPID")"
      RESULT+=" $th0 / $(thread_ticks "$SPID")"
      break
    fi
  done
  stop "$CPID"
  exec 3<&-
  if [[ $RESULT == failed ]]; then
    cut -d' ' -f2- "$tmp/uclient.log" | grep -v -E 'Certificate file|Private key file' | tail -20 >&2
  fi
}

# pacings TRANSPORT PAYLOAD PAIRS: the uclient pacings to try, first that does not stall wins. "p0":
# EVENT_PRECISE_TIMER=1 and -z 0; "c1": libevent's coarse timer and -z 1; and so on.
# Picked by hand on this machine (see bench/derp/README.md): the pacing that got the most packets
# through. Over UDP, p0 for 1 pair (uclient's coarse tick caps 2 sessions at 25,000/s), c0 for 8
# and 64 (p0 there overloads uclient itself, which then feeds the server less). Over TLS, the
# fastest pacing that does not stall, then slower ones; at 64 pairs of 1400 B, c1 and c2 ran but
# delivered almost nothing (98% "loss"), c5 got the most through. uclient reads one message per
# SSL_read and does not reassemble, so over TLS at 1400 B it loses messages split across reads
# ("Wrong integrity in a message received from server" by the thousand): the TLS rows with more
# than one pair of 1400 B vary 2-5x from run to run and understate coturn.
pacings() {
  case $1:$2:$3 in
    udp:*:1) echo "p0" ;;
    udp:*) echo "c0" ;;
    tls:*:1) echo "c0 c1 c2" ;;
    tls:*:8) echo "c0 c1 c2 c5" ;;
    tls:1400:*) echo "c5 c10" ;;
    tls:*) echo "c1 c2 c5 c10" ;;
  esac
}

echo "coturn $(turnserver --version 2>/dev/null | head -1): turnserver --relay-threads 1 on CPU $SERVER_CPU," \
  "turnutils_uclient -y -c on CPU $CLIENT_CPU, ${DURATION}s each after a $((WARMUP_US / 1000)) ms warm-up"
echo "  pair = 2 TURN allocations relaying to each other (uclient -m 2N); packets/s = received by the clients"
printf '  %-4s %5s %6s %4s %12s %9s %9s %14s %10s %7s %7s %7s  %s\n' proto size pairs pace packets/s Gbit/s \
  "srv CPU%" "pkts/s/core" "CPU s/GB" loss% 1thread "cli CPU" bound
: >"$tmp/rows.jsonl"
for transport in "${TRANSPORTS[@]}"; do
  for size in "${SIZES[@]}"; do
    for pairs in "${PAIRS[@]}"; do
      read -ra pacings <<<"${COTURN_BENCH_PACING:-$(pacings "$transport" "$size" "$pairs")}"
      for pacing in "${pacings[@]}"; do
        start_server
        measure "$transport" "$size" "$pairs" "$pacing"
        stop "$SPID"
        [[ $RESULT == stalled ]] || break
        echo "  ($transport $size B $pairs pairs at pacing $pacing: uclient stalled, retrying paced)"
      done
      if [[ $RESULT != ok* ]]; then
        echo "  $transport $size B $pairs pairs: uclient $RESULT, row skipped" >&2
        continue
      fi
      # shellcheck disable=SC2086 # RESULT is a list of words
      python3 - "$tmp/rows.jsonl" "$transport" "$size" "$pairs" "$pacing" "$HZ" "$BOUND_PCT" $RESULT <<'EOF'
import json, sys
rows_file, transport = sys.argv[1], sys.argv[2]
size, pairs, pacing = int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
hz, bound_pct = float(sys.argv[6]), float(sys.argv[7])
rest = sys.argv[9:]  # after "ok"
t0, t1, s0, s1, r0, r1, c0, c1, cc0, cc1 = (int(x) for x in rest[:10])
slash = rest.index("/")
th0 = dict(x.split(":") for x in rest[10:slash])
th1 = dict(x.split(":") for x in rest[slash + 1:])
dt = (t1 - t0) / 1e6
cpu_s = (c1 - c0) / hz
cpu_pct = 100.0 * cpu_s / dt
client_pct = 100.0 * (cc1 - cc0) / hz / dt
pps = (r1 - r0) / dt
gb = (r1 - r0) * size / 1e9
loss = max(0.0, 100.0 * (1 - (r1 - r0) / (s1 - s0))) if s1 > s0 else None
# One thread should do all the relaying: the busiest thread's share of the process's CPU.
deltas = sorted((int(v) - int(th0.get(k, 0)) for k, v in th1.items()), reverse=True)
busiest = 100.0 * deltas[0] / max(sum(deltas), 1) if deltas else 0.0
row = {"relay": "coturn", "transport": transport, "payload": size, "pairs": pairs,
       "packets_per_s": round(pps), "gbit_per_s": round(pps * size * 8 / 1e9, 3),
       "server_cpu_pct": round(cpu_pct, 1),
       "packets_per_s_per_core": round(pps / max(cpu_pct / 100.0, 1e-9)),
       "cpu_s_per_gb": round(cpu_s / gb, 3) if gb > 0 else None,
       "loss_pct": round(loss, 3) if loss is not None else None,
       "bound": "server" if cpu_pct >= bound_pct else "client"}
with open(rows_file, "a") as f:
    f.write(json.dumps(row) + "\n")
print("  %-4s %5d %6d %4s %12s %9.3f %9.1f %14s %10s %7s %6.1f%% %7.1f  %s" % (
    transport, size, pairs, pacing, format(row["packets_per_s"], ",.0f"), row["gbit_per_s"],
    row["server_cpu_pct"], format(row["packets_per_s_per_core"], ","), row["cpu_s_per_gb"],
    "-" if loss is None else "%.2f" % loss, busiest, client_pct, row["bound"]))
EOF
    done
  done
done

python3 - "$tmp/rows.jsonl" "$JSON" <<'EOF'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
if sys.argv[2]:
    json.dump(rows, open(sys.argv[2], "w"), indent=1)
    print(f"  JSON: {sys.argv[2]} ({len(rows)} rows)")
EOF

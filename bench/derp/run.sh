#!/usr/bin/env bash
# The DERP relay against coturn's TURN relay, one command, one run (ratios, not timing asserts):
#   (1) relayed packets/s and Gbit/s through derp_server for 1400- and 64-byte payloads and 1, 8
#       and 64 client pairs: a fresh derp_server per configuration pinned to CPU 0 (--quiet),
#       derp_client --bench pinned to CPU 1 (pairs of clients in one process; each A sends to its
#       B with a window of 32 packets in flight, B acknowledges every 8, so the figure is what
#       the relay carries, not what it drops), TLS 1.3 over loopback in a private network
#       namespace. Server CPU from /proc/PID/stat over the measured seconds: % of one core,
#       packets/s per core, CPU seconds per GB of payload relayed.
#   (2) the same table for coturn (bench/derp/coturn.sh: turnserver with one relay thread on CPU
#       0, turnutils_uclient on CPU 1, UDP and TLS), run right after in the same invocation, and
#       the ratio ours/coturn of packets/s per core of relay CPU.
#   (3) the server's memory per idle DERP client: RSS of a fresh derp_server before and after
#       COUNT clients (10,000 and 100,000) completed TLS, the upgrade and the DERP handshake
#       (bench/derp/idle_derp_clients.py), in a private namespace with a wide ephemeral port
#       range; compared with Tailscale's own figure for derper, 14.5 KB per idle TLS client at
#       100,000 clients (tailscale/tailscale PR #21366).
#
#   bench/derp/run.sh BUILD_DIR [--quick] [--json FILE] [--idle "10000 100000"] [--no-coturn]
#                     [--idle-only]
#
# --quick: 2 s per configuration, 1,000 and 10,000 idle clients. As root (namespaces, taskset,
# ulimit). Needs derp_server and derp_client built, python3, coturn (turnserver,
# turnutils_uclient), openssl. Not a test; run it on a quiet machine.
set -euo pipefail
BUILD=${1:?usage: $0 BUILD_DIR [--quick] [--json FILE] [--idle "N ..."] [--no-coturn]}
shift
QUICK=0
JSON=""
IDLE_COUNTS=""
COTURN=1
IDLE_ONLY=0
while (($#)); do
  case $1 in
    --quick) QUICK=1 ;;
    --json) JSON=${2:?--json needs a file}; shift ;;
    --idle) IDLE_COUNTS=${2:?--idle needs counts}; shift ;;
    --no-coturn) COTURN=0 ;;
    --idle-only) IDLE_ONLY=1 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
here=$(cd "$(dirname "$0")" && pwd)
SERVER=$BUILD/tools/derp_server/derp_server
CLIENT=$BUILD/tools/derp_client/derp_client
for b in "$SERVER" "$CLIENT"; do
  [[ -x $b ]] || { echo "build $b first (ninja -C $BUILD derp_server derp_client)" >&2; exit 1; }
done
[[ $(id -u) -eq 0 ]] || { echo "run as root (network namespaces, taskset)" >&2; exit 1; }

if ((QUICK)); then DURATION=2; else DURATION=8; fi
[[ -n $IDLE_COUNTS ]] || { ((QUICK)) && IDLE_COUNTS="1000 10000" || IDLE_COUNTS="10000 100000"; }
SIZES=(1400 64)
((IDLE_ONLY)) && { SIZES=(); COTURN=0; }  # only part (3)
PAIRS=(1 8 64)
SERVER_CPU=0
CLIENT_CPU=1
PORT=3340
NS=mvpn-derpbench-$$
tmp=$(mktemp -d /tmp/derpbench.XXXXXX)
PIDS=()
cleanup() {
  set +e
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  sleep 0.3
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null; done
  ip netns del "$NS" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
ip netns add "$NS"
ip -n "$NS" link set lo up
# Room for 100,000 connections: ephemeral ports (per destination address) and descriptors.
ip netns exec "$NS" sysctl -qw net.ipv4.ip_local_port_range="1024 65000"
ip netns exec "$NS" sysctl -qw net.core.somaxconn=8192
ip netns exec "$NS" sysctl -qw net.ipv4.tcp_max_syn_backlog=8192
ulimit -Hn 1048576 2>/dev/null || true
ulimit -n 1048576 2>/dev/null || ulimit -n "$(ulimit -Hn)"

in_ns() { ip netns exec "$NS" "$@"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
now() { date +%s.%N; }
HZ=$(getconf CLK_TCK)

# start_server [FLAGS...]: a fresh derp_server on CPU 0 in the namespace; sets SPID.
start_server() {
  rm -f "$tmp/server.log"
  # ip netns exec itself, not in_ns: a function in the background is a subshell whose pid is not
  # the server's.
  ip netns exec "$NS" taskset -c $SERVER_CPU "$SERVER" --addr ":$PORT" --config "$tmp/server.key" \
    --stun-port 0 --quiet --max-clients 200000 "$@" >"$tmp/server.log" 2>&1 &
  SPID=$!
  PIDS+=("$SPID")
  for _ in $(seq 100); do grep -q "^Server key:" "$tmp/server.log" 2>/dev/null && return 0; sleep 0.05; done
  cat "$tmp/server.log" >&2
  echo "derp_server did not start" >&2
  exit 1
}
stop_server() {
  kill -INT "$SPID" 2>/dev/null || true
  wait "$SPID" 2>/dev/null || true
}

declare -a ROWS=()
echo "== relayed throughput: derp_server on CPU $SERVER_CPU, derp_client --bench on CPU $CLIENT_CPU, ${DURATION}s each"
printf '  %-5s %5s %6s %12s %9s %9s %14s %10s %7s %9s\n' relay size pairs packets/s Gbit/s \
  "srv CPU%" "pkts/s/core" "CPU s/GB" loss% "RTT p50"
for size in "${SIZES[@]}"; do
  for pairs in "${PAIRS[@]}"; do
    start_server
    ip netns exec "$NS" taskset -c $CLIENT_CPU "$CLIENT" --server "https://127.0.0.1:$PORT" --insecure --bench \
      --pairs "$pairs" --size "$size" --duration "$DURATION" -o json >"$tmp/bench.json" \
      2>"$tmp/bench.err" &
    CPID=$!
    PIDS+=("$CPID")
    for _ in $(seq 600); do grep -q "measuring" "$tmp/bench.err" 2>/dev/null && break; sleep 0.02; done
    c0=$(cpu_ticks "$SPID")
    t0=$(now)
    sleep "$DURATION"
    c1=$(cpu_ticks "$SPID")
    t1=$(now)
    wait "$CPID" || { cat "$tmp/bench.err" >&2; echo "derp_client --bench failed" >&2; exit 1; }
    stop_server
    row=$(python3 - "$tmp/bench.json" "$c0" "$c1" "$t0" "$t1" "$HZ" "$size" <<'EOF'
import json, sys
b = json.load(open(sys.argv[1]))
c0, c1, t0, t1, hz, size = (float(x) for x in sys.argv[2:8])
cpu_s = (c1 - c0) / hz
cpu_pct = 100.0 * cpu_s / (t1 - t0)
gb = b["packets_per_s"] * b["duration_s"] * size / 1e9
row = {"relay": "derp", "transport": "tls", "payload": int(size), "pairs": b["pairs"],
       "packets_per_s": b["packets_per_s"], "gbit_per_s": b["gbit_per_s"],
       "server_cpu_pct": round(cpu_pct, 1),
       "packets_per_s_per_core": round(b["packets_per_s"] / max(cpu_pct / 100.0, 1e-9)),
       "cpu_s_per_gb": round(cpu_s * (b["duration_s"] / (t1 - t0)) / gb, 3) if gb > 0 else None,
       "loss_pct": b["loss_pct"], "rtt_p50_ms": b["rtt_p50_ms"], "rtt_p99_ms": b["rtt_p99_ms"],
       "client_cpu_pct": b["client_cpu_pct"]}
print(json.dumps(row))
EOF
)
    ROWS+=("$row")
    python3 -c '
import json, sys
r = json.loads(sys.argv[1])
print("  %-5s %5d %6d %12s %9.3f %9.1f %14s %10s %7.3f %8.3f" % (
    r["relay"], r["payload"], r["pairs"], format(r["packets_per_s"], ",.0f"), r["gbit_per_s"],
    r["server_cpu_pct"], format(r["packets_per_s_per_core"], ","), r["cpu_s_per_gb"],
    r["loss_pct"], r["rtt_p50_ms"]))' "$row"
  done
done

if ((COTURN)); then
  echo "== coturn (bench/derp/coturn.sh), the same sizes and pairs"
  quick_flag=()
  ((QUICK)) && quick_flag=(--quick)
  "$here/coturn.sh" "${quick_flag[@]}" --json "$tmp/coturn.json" | sed 's/^/  /'
fi

echo "== memory per idle DERP client (fresh server; TLS + upgrade + DERP handshake done)"
declare -a IDLE=()
# One process can hold no more descriptors than its hard limit (a container without
# CAP_SYS_RESOURCE cannot raise it): the server and the client process each need one per client.
FD_LIMIT=$(ulimit -Hn)
[[ $FD_LIMIT == unlimited ]] && FD_LIMIT=1048576
for count in $IDLE_COUNTS; do
  if ((count > FD_LIMIT - 500)); then
    echo "  $count clients do not fit: the hard limit on open files here is $FD_LIMIT per process" \
      "(raising it needs CAP_SYS_RESOURCE); measuring $((FD_LIMIT - 500)) instead"
    count=$((FD_LIMIT - 500))
  fi
  start_server
  sleep 0.5
  before=$(rss_kb "$SPID")
  ip netns exec "$NS" taskset -c $CLIENT_CPU python3 "$here/idle_derp_clients.py" "$PORT" "$count" \
    --hosts 127.0.0.1,127.0.0.2,127.0.0.3,127.0.0.4 --parallel 512 >"$tmp/idle.out" \
    2>"$tmp/idle.err" &
  IPID=$!
  PIDS+=("$IPID")
  start=$(date +%s)
  until grep -q '^ready' "$tmp/idle.out" 2>/dev/null; do
    kill -0 "$IPID" 2>/dev/null || { cat "$tmp/idle.err" >&2; echo "idle clients died" >&2; exit 1; }
    sleep 1
  done
  sleep 3  # let the last handshakes' buffers be released
  after=$(rss_kb "$SPID")
  read -r _ established failed <"$tmp/idle.out"
  took=$(($(date +%s) - start))
  per=$(( (after - before) * 1024 / (established > 0 ? established : 1) ))
  printf '  %7d clients (%d failed) in %ds: VmRSS %d -> %d KiB, %d bytes per client (derper: 14,500 at 100,000)\n' \
    "$established" "$failed" "$took" "$before" "$after" "$per"
  IDLE+=("{\"clients\": $established, \"failed\": $failed, \"rss_before_kb\": $before, \"rss_after_kb\": $after, \"bytes_per_client\": $per}")
  kill "$IPID" 2>/dev/null || true
  wait "$IPID" 2>/dev/null || true
  stop_server
done

python3 - "$tmp/coturn.json" "$JSON" "${ROWS[@]}" "${IDLE[@]/#/IDLE:}" <<'EOF'
import json, os, sys
coturn_file, out_file = sys.argv[1], sys.argv[2]
ours, idle = [], []
for arg in sys.argv[3:]:
    if arg.startswith("IDLE:"):
        idle.append(json.loads(arg[5:]))
    else:
        ours.append(json.loads(arg))
coturn = []
if os.path.exists(coturn_file):
    text = open(coturn_file).read().strip()
    try:
        data = json.loads(text)
        coturn = data if isinstance(data, list) else data.get("results", [data])
    except json.JSONDecodeError:
        coturn = [json.loads(line) for line in text.splitlines() if line.strip()]
print("== ratio: packets/s per core of relay CPU, ours / coturn")
for r in ours:
    for transport in ("udp", "tls"):
        c = [x for x in coturn if x.get("transport") == transport and x.get("payload") == r["payload"]
             and x.get("pairs") == r["pairs"]]
        if not c or not c[0].get("server_cpu_pct"):
            continue
        c = c[0]
        per_core = c["packets_per_s"] / (c["server_cpu_pct"] / 100.0)
        print("  %5d B %3d pairs vs coturn %-3s: %10s vs %10s = %5.2fx%s" % (
            r["payload"], r["pairs"], transport, f"{r['packets_per_s_per_core']:,}",
            f"{per_core:,.0f}", r["packets_per_s_per_core"] / per_core,
            "" if c.get("bound") in (None, "server") else f"  (coturn bound: {c.get('bound')})"))
if out_file:
    json.dump({"derp": ours, "coturn": coturn, "idle": idle}, open(out_file, "w"), indent=1)
    print(f"  JSON: {out_file}")
EOF

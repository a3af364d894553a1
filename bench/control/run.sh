#!/usr/bin/env bash
# The coordination server under real control clients over TCP loopback, one command:
#   bench/control/run.sh [BUILD_DIR] [--nodes "1000 10000"] [--policies "allow-all groups100"]
#                        [--changes 5] [--naive-changes 3] [--json FILE]
#
# For every node count N and policy (allow-all: a full mesh; groups100: nodes see only the
# 100 consecutive node ids of their group), in a fresh pair of processes:
#   bench_control_server  ControlServer over SQLite (synchronous=FULL) in a temporary directory
#   bench_control_clients N UvControlClients on one loop (own machine and node keys, Noise over
#                         TCP loopback, registration with a reusable pre-auth key, map streams;
#                         they parse, count and drop what they receive)
# it measures
#   - the time from the first connection until every node holds a full map (this includes
#     registering every node: one SQLite transaction, one fsync, each);
#   - server memory per node: (VmRSS once every node streams - VmRSS at READY) / N, and the
#     same after malloc_trim(0) (what the allocator kept from the full maps it sent);
#   - one node's endpoint change on the delta path, --changes times: the time until every peer
#     that can see the node (N-1, or the 99 others of its group) has received a map message
#     after it (client side), and the server's bytes sent and CPU seconds for the change (the
#     server process's CLOCK_PROCESS_CPUTIME_ID, stats before and after; the median is shown,
#     and also net of the server's idle CPU over the window, measured for 3 s after connecting);
#   - the same change --naive-changes times through the naive full-map path (every affected
#     node's whole map rebuilt from scratch and sent), switched on in the same server;
# and prints a table with the ratios naive/delta of bytes and CPU per change.
#
# Server and clients compete for the machine's cores: the propagation times are what the
# clients saw, on the same machine. Each process raises its open-files soft limit to the hard
# limit (10,000 nodes need 10,000 descriptors on each side).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
BUILD=build
if (($#)) && [[ $1 != --* ]]; then BUILD=$1; shift; fi
NODES="1000 10000"
POLICIES="allow-all groups100"
CHANGES=5
NAIVE_CHANGES=3
JSON=""
while (($#)); do
  case $1 in
    --nodes) NODES=${2:?--nodes needs counts}; shift ;;
    --policies) POLICIES=${2:?--policies needs names}; shift ;;
    --changes) CHANGES=${2:?}; shift ;;
    --naive-changes) NAIVE_CHANGES=${2:?}; shift ;;
    --json) JSON=${2:?--json needs a file}; shift ;;
    -h|--help) sed -n '2,28p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
SERVER=$BUILD/bench/control/bench_control_server
CLIENTS=$BUILD/bench/control/bench_control_clients
for b in "$SERVER" "$CLIENTS"; do
  [[ -x $b ]] || { echo "build $b first (cmake --build $BUILD --target bench_control_server bench_control_clients)" >&2; exit 1; }
done
command -v python3 >/dev/null || { echo "needs python3" >&2; exit 1; }

work=$(mktemp -d /tmp/bench-control-run-XXXXXX)
spid=""
cpid=""
stop_all() {
  for p in $cpid $spid; do
    kill "$p" 2>/dev/null || true
  done
  for p in $cpid $spid; do
    wait "$p" 2>/dev/null || true
  done
  cpid=""
  spid=""
}
cleanup() { stop_all; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

RESULTS=$work/results.jsonl
: >"$RESULTS"

# wait_line FILE REGEX COUNT TIMEOUT_S PID: until FILE has COUNT lines matching REGEX; prints
# the last of them. Fails if PID dies or the time runs out.
wait_line() {
  local file=$1 re=$2 count=$3 timeout=$4 pid=$5 t=0
  while (($(grep -cE "$re" "$file" || true) < count)); do
    kill -0 "$pid" 2>/dev/null || { echo "process $pid exited; see $file" >&2; cat "$file" >&2; return 1; }
    sleep 0.1
    t=$((t + 1))
    ((t < timeout * 10)) || { echo "timed out waiting for $re in $file" >&2; return 1; }
  done
  grep -E "$re" "$file" | sed -n "${count}p"
}

# These run in $(...): the caller counts the answers (a subshell cannot).
nstats=0
server_stats() {  # server_stats NTH: asks, prints the NTH JSON line of the server's stats
  echo stats >&"$sfd"
  wait_line "$work/server.out" '^\{' "$1" 60 "$spid"
}
nchanges=0
client_change() {  # client_change NTH: one change; prints the clients' NTH CHANGED JSON
  echo change >&"$cfd"
  wait_line "$work/clients.out" '^CHANGED ' "$1" 3600 "$cpid" | sed 's/^CHANGED //'
}

run_one() {
  local n=$1 policy=$2 group=0
  [[ $policy == groups100 ]] && group=100
  echo "== $n nodes, $policy" >&2
  rm -f "$work/server.in" "$work/clients.in"
  mkfifo "$work/server.in" "$work/clients.in"
  "$SERVER" --policy "$policy" <"$work/server.in" >"$work/server.out" 2> >(sed -u 's/^/  /' >&2) &
  spid=$!
  exec {sfd}>"$work/server.in"
  nstats=0
  nchanges=0
  local ready port key server_key
  ready=$(wait_line "$work/server.out" '^READY ' 1 30 "$spid")
  port=$(sed -E 's/.*port=([0-9]+).*/\1/' <<<"$ready")
  key=$(sed -E 's/.* key=([^ ]+).*/\1/' <<<"$ready")
  server_key=$(sed -E 's/.*server_key=([0-9a-f]+).*/\1/' <<<"$ready")
  local s_ready s_connected s_trimmed s_idle connected
  nstats=$((nstats + 1))
  s_ready=$(server_stats "$nstats")
  "$CLIENTS" --port "$port" --key "$key" --server-key "$server_key" --nodes "$n" \
    --group "$group" <"$work/clients.in" >"$work/clients.out" 2> >(sed -u 's/^/  /' >&2) &
  cpid=$!
  exec {cfd}>"$work/clients.in"
  connected=$(wait_line "$work/clients.out" '^CONNECTED ' 1 7200 "$cpid" | sed 's/^CONNECTED //')
  nstats=$((nstats + 1))
  s_connected=$(server_stats "$nstats")
  echo trim >&"$sfd"
  wait_line "$work/server.out" '^OK trim' 1 60 "$spid" >/dev/null
  nstats=$((nstats + 1))
  s_trimmed=$(server_stats "$nstats")
  # The server's CPU while nothing happens, over as long as a change takes: subtracted per second
  # of each change's window in the "net" column.
  local idle_wall
  idle_wall=$(date +%s.%N)
  sleep 3
  nstats=$((nstats + 1))
  s_idle=$(server_stats "$nstats")
  idle_wall=$(python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$idle_wall" "$(date +%s.%N)")
  echo "{\"kind\":\"connect\",\"nodes\":$n,\"policy\":\"$policy\",\"clients\":$connected,\"server_ready\":$s_ready,\"server_connected\":$s_connected,\"server_trimmed\":$s_trimmed,\"server_idle\":$s_idle,\"idle_wall_s\":$idle_wall}" >>"$RESULTS"
  local mode count i before after change t0 t1
  for mode in delta naive; do
    count=$CHANGES
    if [[ $mode == naive ]]; then
      count=$NAIVE_CHANGES
      echo "naive on" >&"$sfd"
      wait_line "$work/server.out" '^OK naive=on' 1 30 "$spid" >/dev/null
    fi
    for ((i = 1; i <= count; i++)); do
      echo "  $mode change $i of $count" >&2
      nstats=$((nstats + 1))
      before=$(server_stats "$nstats")
      t0=$(date +%s.%N)
      nchanges=$((nchanges + 1))
      change=$(client_change "$nchanges")
      nstats=$((nstats + 1))
      after=$(server_stats "$nstats")
      t1=$(date +%s.%N)
      echo "{\"kind\":\"change\",\"mode\":\"$mode\",\"nodes\":$n,\"policy\":\"$policy\",\"clients\":$change,\"before\":$before,\"after\":$after,\"t0\":$t0,\"t1\":$t1}" >>"$RESULTS"
    done
  done
  echo quit >&"$cfd"
  echo quit >&"$sfd"
  local rc=0
  wait "$cpid" || { rc=$?; echo "warning: bench_control_clients exited with status $rc" >&2; }
  rc=0
  wait "$spid" || { rc=$?; echo "warning: bench_control_server exited with status $rc" >&2; }
  cpid=""
  spid=""
  exec {cfd}>&- {sfd}>&-
}

for n in $NODES; do
  for policy in $POLICIES; do
    run_one "$n" "$policy"
  done
done

python3 "$here/report.py" "$RESULTS" ${JSON:+--json "$JSON"}

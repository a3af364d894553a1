#!/usr/bin/env bash
# magic-dns against nsd, unbound and dnsmasq, measured the same way in one run (no asserts):
#   bench/dns/run.sh BUILD_DIR [--nodes N] [--seconds S] [--clients C] [--outstanding Q]
#                    [--servers magic-dns,nsd,unbound,dnsmasq] [--nxdomain] [--edns] [--json FILE]
#
# Every server gets the same N tailnet nodes (default 1000: nodeNNNN.bench.ts.net, an A record
# 100.64.x.y and an AAAA fd7a:115c:a1e0::x:y) and one core: each is pinned to CPU 1 with taskset
# and configured single-threaded (nsd server-count 1, unbound num-threads 1; magic-dns and dnsmasq
# are single-threaded), in a temporary directory, on 127.0.0.1. dnsperf runs on CPU 0 (-T 1,
# -c C sockets, default 10; -q Q queries outstanding, default 100) from one query file: random
# tailnet names, 80% A / 20% AAAA, the same file for every server. For each server, in turn:
#   - start it and check with dig that it answers three sample names (A and AAAA) correctly,
#     and a missing name with NXDOMAIN (a wrong answer stops the run, naming the server);
#   - 1 s of dnsperf as a warm-up, then S seconds (default 10) of dnsperf -v: queries/s, lost
#     queries and response codes from its statistics, latency average and p50/p90/p99/p99.9 from
#     the per-query latencies that -v prints; the server's CPU (utime+stime of its processes over
#     the run, from /proc) as % of a core and µs per query;
#   - with --nxdomain, a second pass the same way on names under bench.ts.net that do not exist;
#   - stop it (SIGTERM, by pid).
# It prints a table with the ratio magic-dns queries/s / server queries/s, the versions and the
# load average, and with --json writes it all to FILE. No root needed (nsd and unbound run with
# username "" and chroot ""); run on a quiet machine: the figures move with the load.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
usage() { sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
(($#)) || usage
BUILD=$1
shift
NODES=1000
SECONDS_PER=10
CLIENTS=10
OUTSTANDING=100
SERVERS=magic-dns,nsd,unbound,dnsmasq
NXDOMAIN=0
EDNS=0
JSON=""
while (($#)); do
  case $1 in
    --nodes) NODES=${2:?--nodes needs a count}; shift ;;
    --seconds) SECONDS_PER=${2:?--seconds needs a number}; shift ;;
    --clients) CLIENTS=${2:?--clients needs a number}; shift ;;
    --outstanding) OUTSTANDING=${2:?--outstanding needs a number}; shift ;;
    --servers) SERVERS=${2:?--servers needs a list}; shift ;;
    --nxdomain) NXDOMAIN=1 ;;
    --edns) EDNS=1 ;;
    --json) JSON=${2:?--json needs a file}; shift ;;
    -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument $1" >&2; usage ;;
  esac
  shift
done
((NODES >= 1 && NODES < 65536)) || { echo "--nodes must be 1..65535" >&2; exit 2; }
[[ -z $JSON || $JSON == /* ]] || JSON=$PWD/$JSON

SERVER_CPU=${SERVER_CPU:-1}
CLIENT_CPU=${CLIENT_CPU:-0}
BASE_PORT=${BASE_PORT:-15350}
MAGIC_DNS=$BUILD/tools/magic-dns/magic-dns
NSD=${NSD:-/usr/sbin/nsd}
UNBOUND=${UNBOUND:-/usr/sbin/unbound}
DNSMASQ=${DNSMASQ:-/usr/sbin/dnsmasq}

IFS=, read -r -a server_list <<<"$SERVERS"
for tool in dnsperf dig taskset python3 ss; do
  command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 1; }
done
for s in "${server_list[@]}"; do
  case $s in
    magic-dns) [[ -x $MAGIC_DNS ]] || { echo "magic-dns: build $MAGIC_DNS first (cmake --build $BUILD --target magic-dns)" >&2; exit 1; } ;;
    nsd) [[ -x $NSD ]] || { echo "nsd: $NSD missing (apt-get install nsd)" >&2; exit 1; } ;;
    unbound) [[ -x $UNBOUND ]] || { echo "unbound: $UNBOUND missing (apt-get install unbound)" >&2; exit 1; } ;;
    dnsmasq) [[ -x $DNSMASQ ]] || { echo "dnsmasq: $DNSMASQ missing (apt-get install dnsmasq-base)" >&2; exit 1; } ;;
    *) echo "unknown server $s (magic-dns, nsd, unbound, dnsmasq)" >&2; exit 2 ;;
  esac
done
(($(nproc) > SERVER_CPU && $(nproc) > CLIENT_CPU)) || { echo "needs CPUs $CLIENT_CPU and $SERVER_CPU" >&2; exit 1; }

work=$(mktemp -d /tmp/bench-dns-run-XXXXXX)
spid=""      # the server being measured
dpid=""      # a dnsperf run
stop_server() {  # SIGTERM to the server and, should they outlive it, to its descendants
  [[ -n $spid ]] || return 0
  local kids p t
  kids=$(python3 "$here/report.py" tree "$spid" 2>/dev/null | tail -n +2 || true)
  kill "$spid" 2>/dev/null || true
  wait "$spid" 2>/dev/null || true
  for ((t = 0; t < 50; t++)); do  # nsd's children exit a moment after their parent
    local alive=""
    for p in $kids; do kill -0 "$p" 2>/dev/null && alive+=" $p"; done
    [[ -n $alive ]] || break
    sleep 0.1
  done
  for p in $kids; do kill -9 "$p" 2>/dev/null || true; done
  spid=""
}
cleanup() {
  [[ -z $dpid ]] || { kill "$dpid" 2>/dev/null || true; wait "$dpid" 2>/dev/null || true; }
  stop_server
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

python3 "$here/report.py" gen "$work" "$NODES" 1
read -r sample_name sample_v4 sample_v6 <"$work/samples.txt"
RESULTS=$work/results.jsonl
: >"$RESULTS"

# ---- the servers: start_NAME PORT starts it in the background and sets spid --------------------
start_magic-dns() {
  taskset -c "$SERVER_CPU" "$MAGIC_DNS" -tailnet bench.ts.net --records "$work/records.txt" \
    --listen "127.0.0.1:$1" --rate-limit 0 --quiet >"$work/magic-dns.log" 2>&1 &
  spid=$!
  local t
  for ((t = 0; t < 300; t++)); do
    grep -q "MagicDNS server starting on 127.0.0.1:$1" "$work/magic-dns.log" && return 0
    kill -0 "$spid" 2>/dev/null || break
    sleep 0.1
  done
  echo "magic-dns did not start; its output:" >&2
  cat "$work/magic-dns.log" >&2
  return 1
}
start_nsd() {
  mkdir -p "$work/nsd"
  cat >"$work/nsd/nsd.conf" <<EOF
server:
  server-count: 1
  ip-address: 127.0.0.1
  port: $1
  username: ""
  chroot: ""
  zonesdir: "$work"
  database: ""
  pidfile: "$work/nsd/nsd.pid"
  xfrdfile: "$work/nsd/xfrd.state"
  zonelistfile: "$work/nsd/zone.list"
  xfrdir: "$work/nsd"
  logfile: "$work/nsd.log"
  verbosity: 1
  hide-version: yes
  minimal-responses: yes
  rrl-ratelimit: 0
  rrl-whitelist-ratelimit: 0
remote-control:
  control-enable: no
zone:
  name: "bench.ts.net"
  zonefile: "bench.ts.net.zone"
EOF
  taskset -c "$SERVER_CPU" "$NSD" -d -c "$work/nsd/nsd.conf" >>"$work/nsd.log" 2>&1 &
  spid=$!
}
start_unbound() {
  mkdir -p "$work/unbound"
  cat >"$work/unbound/unbound.conf" <<EOF
server:
  num-threads: 1
  interface: 127.0.0.1
  port: $1
  do-ip6: no
  so-reuseport: no
  username: ""
  chroot: ""
  directory: "$work/unbound"
  pidfile: "$work/unbound/unbound.pid"
  do-daemonize: no
  use-syslog: no
  logfile: ""
  verbosity: 1
  module-config: "iterator"
  access-control: 127.0.0.0/8 allow
  minimal-responses: yes
include: "$work/unbound-local.conf"
remote-control:
  control-enable: no
EOF
  taskset -c "$SERVER_CPU" "$UNBOUND" -d -c "$work/unbound/unbound.conf" >"$work/unbound.log" 2>&1 &
  spid=$!
}
start_dnsmasq() {
  # --local: answers for bench.ts.net come only from the host records (NXDOMAIN otherwise).
  # --cache-size sizes its hash table, which also holds the host records: at the default (150)
  # 10,000 nodes cost it twice the CPU per query.
  taskset -c "$SERVER_CPU" "$DNSMASQ" -k --conf-file="$work/dnsmasq-hosts.conf" --no-resolv \
    --no-hosts --local=/bench.ts.net/ --listen-address=127.0.0.1 --bind-interfaces --port="$1" \
    --local-ttl=600 --cache-size=$((4 * NODES > 150 ? 4 * NODES : 150)) --user="$(id -un)" --group="$(id -gn)" --pid-file="$work/dnsmasq.pid" \
    --log-facility=- >"$work/dnsmasq.log" 2>&1 &
  spid=$!
}

dig_one() {  # dig_one PORT NAME TYPE: the answer's data, one a line (dig's errors start with ;)
  { dig @127.0.0.1 -p "$1" "$2" "$3" +short +time=1 +tries=1 2>/dev/null || true; } | grep -v '^;' || true
}
wait_answer() {  # wait_answer SERVER PORT: until it answers the first sample (30 s)
  local t
  for ((t = 0; t < 60; t++)); do
    [[ -n $(dig_one "$2" "$sample_name" A) ]] && return 0
    kill -0 "$spid" 2>/dev/null || break
    sleep 0.5
  done
  echo "$1 does not answer on 127.0.0.1:$2; its log:" >&2
  cat "$work/$1.log" >&2 2>/dev/null || true
  return 1
}
verify() {  # verify SERVER PORT: every sample's A and AAAA, and NXDOMAIN for a missing name
  local name v4 v6 got status
  while read -r name v4 v6; do
    got=$(dig_one "$2" "$name" A)
    [[ $got == "$v4" ]] || { echo "$1 answers $name A with '${got//$'\n'/ }', expected $v4" >&2; return 1; }
    got=$(dig_one "$2" "$name" AAAA)
    [[ $got == "$v6" ]] || { echo "$1 answers $name AAAA with '${got//$'\n'/ }', expected $v6" >&2; return 1; }
  done <"$work/samples.txt"
  status=$(dig @127.0.0.1 -p "$2" missing-check.bench.ts.net A +time=1 +tries=1 2>/dev/null |
    sed -n 's/.*status: \([A-Z]*\).*/\1/p')
  [[ $status == NXDOMAIN ]] || echo "  warning: $1 answers a missing name with ${status:-nothing}, not NXDOMAIN" >&2
  echo "  $1 answers the samples correctly ($sample_name A $sample_v4, AAAA $sample_v6, ...)" >&2
}

dnsperf_exec() {  # dnsperf_exec PORT QUERYFILE SECONDS [ARG...]: only in the background (exec)
  local a=(-s 127.0.0.1 -p "$1" -d "$2" -l "$3" -c "$CLIENTS" -q "$OUTSTANDING" -T 1)
  shift 3
  ((EDNS)) && a+=(-e)
  exec taskset -c "$CLIENT_CPU" dnsperf "${a[@]}" "$@"
}
measure() {  # measure SERVER PORT PASS QUERYFILE
  local out=$work/dnsperf.out t0 t1 k0 k1 parsed
  dnsperf_exec "$2" "$4" 1 >/dev/null 2>&1 &  # warm-up
  dpid=$!
  wait "$dpid" || true
  dpid=""
  k0=$(python3 "$here/report.py" ticks "$spid")
  t0=$(date +%s.%N)
  dnsperf_exec "$2" "$4" "$SECONDS_PER" -v >"$out" 2>"$work/dnsperf.err" &
  dpid=$!
  wait "$dpid" || { cat "$work/dnsperf.err" >&2; echo "dnsperf failed against $1" >&2; return 1; }
  dpid=""
  t1=$(date +%s.%N)
  k1=$(python3 "$here/report.py" ticks "$spid")
  kill -0 "$spid" 2>/dev/null || { echo "$1 exited during the run; its log:" >&2; cat "$work/$1.log" >&2; return 1; }
  grep -E '^ *(Queries (sent|completed|lost|per second)|Response codes):' "$out" | sed 's/^ */    /' >&2 || true
  parsed=$(python3 "$here/report.py" parse "$out")
  rm -f "$out"
  printf '{"kind":"pass","server":"%s","pass":"%s","port":%s,"ticks_before":%s,"ticks_after":%s,"hz":%s,"wall_s":%s,"dnsperf":%s}\n' \
    "$1" "$3" "$2" "$k0" "$k1" "$(getconf CLK_TCK)" "$(python3 -c 'import sys; print(float(sys.argv[2]) - float(sys.argv[1]))' "$t0" "$t1")" \
    "$parsed" >>"$RESULTS"
}

version_of() {
  case $1 in
    magic-dns)
      local src rev type
      src=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$BUILD/CMakeCache.txt" 2>/dev/null || true)
      type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD/CMakeCache.txt" 2>/dev/null || true)
      rev=$(git -C "${src:-.}" log -1 --format='%h %cd' --date=short 2>/dev/null || true)
      echo "meshvpn ${rev:-unknown revision}, ${type:-unknown} build" ;;
    nsd) "$NSD" -v 2>&1 | sed -n 1p ;;
    unbound) echo "unbound $("$UNBOUND" -V 2>&1 | sed -n 1p)" ;;
    dnsmasq) "$DNSMASQ" -v 2>&1 | sed -n '1s/  Copyright.*//p' ;;
  esac
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "load average: $load_before; $NODES nodes, ${SECONDS_PER} s per server, dnsperf -c $CLIENTS -q $OUTSTANDING" >&2
meta=(kind=meta nodes="$NODES" seconds="$SECONDS_PER" clients="$CLIENTS" outstanding="$OUTSTANDING"
  edns="$EDNS" server_cpu="$SERVER_CPU" client_cpu="$CLIENT_CPU" date="$(date -u '+%Y-%m-%d %H:%M UTC')"
  machine="$(nproc) CPUs, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | sed -n 1p), $(uname -sr)"
  load_before="$load_before" version.dnsperf="dnsperf $(dnsperf -h 2>&1 | sed -n 's/^Version //p')")
port=$BASE_PORT
for s in "${server_list[@]}"; do
  port=$((port + 1))
  if [[ -n $(ss -Hlnu "sport = :$port") || -n $(ss -Hlnt "sport = :$port") ]]; then
    echo "port $port is in use (set BASE_PORT)" >&2
    exit 1
  fi
  meta+=("version.$s=$(version_of "$s")")
  echo "== $s on 127.0.0.1:$port ($(version_of "$s"))" >&2
  "start_$s" "$port"
  wait_answer "$s" "$port"
  verify "$s" "$port"
  echo "  tailnet names, ${SECONDS_PER} s" >&2
  measure "$s" "$port" tailnet "$work/queries.txt"
  if ((NXDOMAIN)); then
    echo "  missing names (NXDOMAIN), ${SECONDS_PER} s" >&2
    measure "$s" "$port" nxdomain "$work/queries-nx.txt"
  fi
  stop_server
  if [[ $s == magic-dns ]]; then  # its own counters, printed on SIGTERM
    sed -n '/^Statistics:/,$p' "$work/magic-dns.log" | sed 's/^/    /' >&2
  fi
done
meta+=(load_after="$(cut -d' ' -f1-3 /proc/loadavg)")
python3 "$here/report.py" kv2json "${meta[@]}" >>"$RESULTS"
python3 "$here/report.py" table "$RESULTS" ${JSON:+--json "$JSON"}

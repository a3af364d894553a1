#!/usr/bin/env bash
# magic-dns under a flood, on loopback. magic_dns_flood.py sends for 10 s from 200 source
# addresses (127.0.1.x, 127.0.2.x) a mix of garbage, well-formed tailnet / random / forwarded
# queries, 255- and 256-byte names, compression loops and out-of-range pointers, counts and
# opcodes a server must refuse, broken EDNS, cut headers and responses (QR=1); one hot source
# (127.0.3.1) sends 1000 queries/s; 100 TCP connections send half a length prefix and idle
# (slowloris) while others send garbage. magic-dns runs with its defaults (--rate-limit 200 per
# source), forwarding to dnsmasq (flood.test) and to a silent socket (dead.test). Checked:
#   during   a legitimate client (dig from 127.0.0.1, UDP and TCP in turn) gets the right answer
#            every time (up to 3 attempts of 1 s); magic-dns stays up; VmRSS sampled
#   flood    the mixed sources' tailnet queries (about 15/s each) are answered (>= 99%): the
#            flood does not starve them; the hot source is held to about the rate limit; the
#            "silent" sources (cut headers and responses only) get no reply at all
#   after    every legit query answers on the first try (A, AAAA, NXDOMAIN, forwarded, +tcp);
#            peak VmRSS under 200 MB; SIGTERM exits 0 and prints Statistics (rate limited > 0)
#
#   magic_dns_flood_test.sh BUILD_DIR    (no root needed; exits 77 without dig/dnsmasq)
source "$(dirname "$0")/lib/netns.sh"
source "$(dirname "$0")/lib/ports.sh"
BUILD=${1:?usage: $0 BUILD_DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
MAGIC=$BUILD/tools/magic-dns/magic-dns
PATH=$PATH:/usr/sbin:/sbin
DURATION=${MAGIC_DNS_FLOOD_SECONDS:-10}
RSS_LIMIT_KB=$((200 * 1024))
RATE_LIMIT=200  # magic-dns's default --rate-limit (burst: twice that)
for tool in dig dnsmasq python3; do
  command -v "$tool" >/dev/null || { echo "magic_dns_flood: $tool is not installed"; exit 77; }
done
[[ -x $MAGIC ]] || e2e_fail "$MAGIC is not built (ninja -C $BUILD magic-dns)"

E2E_WORK=$(mktemp -d /tmp/mvpn-magic-dns-flood-$$.XXXXXX)
trap e2e_cleanup EXIT
trap 'exit 130' INT TERM
W=$E2E_WORK


# legit ARGS...: dig from 127.0.0.1, one attempt of 1 s; prints the +short answer.
legit() { dig @127.0.0.1 -p "$P" -b 127.0.0.1 +time=1 +tries=1 +short "$@" 2>&1; }
# expect WANT ARGS...: one legit dig answers WANT.
expect() {
  local want=$1 got
  shift
  got=$(legit "$@") || true
  [[ $got == "$want" ]] || e2e_fail "dig $*: got '$got', want '$want'"
}
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$PID_MAGIC/status"; }
alive() { kill -0 "$PID_MAGIC" 2>/dev/null || e2e_fail "magic-dns is gone ($*)"; }

# ---- upstreams: dnsmasq for flood.test (one name, NXDOMAIN for the rest), a silent socket ----
DM=$(free_port)
dnsmasq --no-daemon --conf-file=/dev/null --port "$DM" --listen-address 127.0.0.1 --bind-interfaces \
  --no-resolv --no-hosts --pid-file="$W/dnsmasq.pid" --user=root --local=/flood.test/ \
  --local-ttl=60 --host-record=www.flood.test,192.0.2.20 >"$W/dnsmasq.log" 2>&1 &
E2E_PIDS+=("$!")
python3 -c 'import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True); time.sleep(600)' >"$W/dead.port" &
E2E_PIDS+=("$!")
e2e_wait "the dead socket's port" 5 test -s "$W/dead.port"
DEAD=$(cat "$W/dead.port")
dm_ok() { [[ $(dig @127.0.0.1 -p "$DM" +time=1 +tries=1 +short www.flood.test) == 192.0.2.20 ]]; }
e2e_wait "dnsmasq answering" 10 dm_ok
e2e_pass "dnsmasq on 127.0.0.1:$DM answers www.flood.test; dead socket on 127.0.0.1:$DEAD"

# ---- magic-dns, defaults but --quiet (no per-query lines) and 300 ms upstream attempts ------
cat >"$W/records" <<'EOF'
laptop   100.100.1.1  fd7a:115c:a1e0::1
server   100.100.1.2
nas      100.100.1.3  fd7a:115c:a1e0::3
EOF
"$MAGIC" -tailnet example.com -upstream "127.0.0.1:$DM" --split "dead.test=127.0.0.1:$DEAD" \
  --records "$W/records" --listen 127.0.0.1:0 --quiet --upstream-timeout-ms 300 \
  >"$W/magic.log" 2>&1 &
PID_MAGIC=$!
E2E_PIDS+=("$PID_MAGIC")
e2e_wait "magic-dns banner" 10 grep -q '^MagicDNS server starting on ' "$W/magic.log"
P=$(sed -n 's/^MagicDNS server starting on 127.0.0.1:\([0-9][0-9]*\)$/\1/p' "$W/magic.log")
[[ -n $P ]] || e2e_fail "no port in the banner: $(head -3 "$W/magic.log")"
expect 100.100.1.1 laptop.example.com
expect 192.0.2.20 www.flood.test
rss_start=$(rss_kb)
e2e_pass "magic-dns on 127.0.0.1:$P answers laptop and www.flood.test; VmRSS ${rss_start} kB"

# ---- the flood, with a legitimate client all along -------------------------------------------
python3 "$HERE/magic_dns_flood.py" 127.0.0.1 "$P" --duration "$DURATION" --sources 200 \
  --rate 3000 --hot-rate 1000 --slowloris 100 >"$W/flood.log" 2>&1 &
PID_FLOOD=$!
E2E_PIDS+=("$PID_FLOOD")
sleep 1  # the slowloris connections are up, the flood under way
rss_peak=$rss_start
digs=0 retried=0 i=0
while kill -0 "$PID_FLOOD" 2>/dev/null; do
  i=$((i + 1))
  mode=+notcp
  ((i % 2 == 0)) && mode=+tcp
  ok=0
  for _ in 1 2 3; do
    out=$(legit "$mode" laptop.example.com) || true
    if [[ $out == 100.100.1.1 ]]; then ok=1; break; fi
    retried=$((retried + 1))
  done
  ((ok)) || e2e_fail "during the flood: dig $mode laptop.example.com failed 3 times (last: '$out')"
  digs=$((digs + 1))
  alive "during the flood"
  rss=$(rss_kb)
  ((rss > rss_peak)) && rss_peak=$rss
  sleep 0.2
done
rc=0
wait "$PID_FLOOD" || rc=$?
sed 's/^/    flood | /' "$W/flood.log"
[[ $rc == 0 ]] || e2e_fail "magic_dns_flood.py exited $rc"
((digs >= 5)) || e2e_fail "only $digs legit digs ran during the flood"
e2e_pass "during the flood: $digs legit digs (UDP and TCP in turn) all answered, $retried retries"

val() { sed -n "s/.*\b$1=\([0-9.]*\).*/\1/p" "$W/flood.log" | head -1; }
alive "after the flood"
sent=$(val udp_sent)
tailnet_sent=$(val tailnet_sent) tailnet_answered=$(val tailnet_answered)
((tailnet_sent > 1000)) || e2e_fail "the flood sent only $tailnet_sent tailnet queries"
((tailnet_answered * 100 >= tailnet_sent * 99)) ||
  e2e_fail "the flood's sources were starved: $tailnet_answered of $tailnet_sent tailnet queries answered"
e2e_pass "$sent datagrams from 200 sources; $tailnet_answered of $tailnet_sent tailnet queries among them answered"

silent_sent=$(val silent_sent) silent_replies=$(val silent_replies)
((silent_sent > 0 && silent_replies == 0)) ||
  e2e_fail "$silent_replies replies to $silent_sent cut headers and responses (QR=1): must be dropped"
e2e_pass "no reply to $silent_sent cut headers and responses (QR=1)"

hot_sent=$(val hot_sent) hot_ok=$(val hot_noerror) secs=$(val duration)
hot_max=$(python3 -c "print(int($RATE_LIMIT * $secs * 1.2 + 2 * $RATE_LIMIT))")
((hot_sent > 2 * hot_max)) || e2e_fail "the hot source sent only $hot_sent (its rate is too low to test)"
((hot_ok <= hot_max)) ||
  e2e_fail "the hot source got $hot_ok answers of $hot_sent in ${secs}s: not rate limited (max $hot_max)"
e2e_pass "the hot source (1000/s) got $hot_ok NOERROR answers of $hot_sent (rate limit $RATE_LIMIT/s)"

# ---- after: every query on the first try, memory, statistics ---------------------------------
expect 100.100.1.1 laptop.example.com A
expect fd7a:115c:a1e0::3 nas.example.com AAAA
expect 100.100.1.2 +tcp server.example.com
expect 192.0.2.20 www.flood.test
dig @127.0.0.1 -p "$P" +time=1 +tries=1 nosuch.example.com >"$W/dig.out" 2>&1 || true
grep -q 'status: NXDOMAIN' "$W/dig.out" || { cat "$W/dig.out"; e2e_fail "NXDOMAIN after the flood"; }
rss_end=$(rss_kb)
((rss_end > rss_peak)) && rss_peak=$rss_end
((rss_peak < RSS_LIMIT_KB)) || e2e_fail "VmRSS peaked at ${rss_peak} kB (limit $RSS_LIMIT_KB kB)"
e2e_pass "after the flood: A, AAAA, +tcp, forwarded, NXDOMAIN on the first try; VmRSS ${rss_start} -> peak ${rss_peak} -> ${rss_end} kB"

kill -TERM "$PID_MAGIC"
rc=0
wait "$PID_MAGIC" || rc=$?
[[ $rc == 0 ]] || e2e_fail "SIGTERM: exit $rc, want 0"
grep -q '^Statistics:' "$W/magic.log" || e2e_fail "no Statistics: at exit"
sed -n '/^Statistics:/,$p' "$W/magic.log" | sed 's/^/    magic-dns | /'
limited=$(sed -n 's/^  Rate limited: \([0-9]*\).*/\1/p' "$W/magic.log")
((${limited:-0} > 0)) || e2e_fail "Statistics: 'Rate limited: ${limited:-?}', want > 0 (the hot source)"
e2e_pass "SIGTERM: exit 0; Statistics printed, $limited queries rate limited"

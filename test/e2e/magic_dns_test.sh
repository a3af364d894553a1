#!/usr/bin/env bash
# magic-dns end to end, on loopback, against real DNS servers the test starts in a temp dir:
# unbound (the default upstream: a recursive resolver for upstream.test, an auth-zone it only
# uses for its own lookups, UDP answers capped at 512 bytes), dnsmasq (the split-DNS server for
# corp.test) and a UDP socket that never answers (a dead upstream for dead.test). Each upstream is
# first checked directly with dig. Then, through magic-dns, with dig:
#   tailnet  A, AAAA, an extra (absolute) record, PTR v4 and v6 (unknown address: NXDOMAIN),
#            NXDOMAIN and NODATA (AAAA of a v4-only node, MX) with the zone's SOA, AA set,
#            0x20 mixed case echoed, +tcp, several queries on one TCP connection (dig
#            +keepopen, and pipelined by magic_dns_tcp.py), EDNS (OPT back, none without)
#   forward  answer from unbound with RA and without AA; split name from dnsmasq; an upstream
#            answer with TC retried over TCP (full over UDP with +bufsize=4096, TC with +noedns
#            +ignore, full through dig's own TCP retry); dead upstream: SERVFAIL
#   clients  --allow 127.0.0.2/32: 127.0.0.1 REFUSED, 127.0.0.2 answered; no -upstream: outside
#            names REFUSED; listening on [::1]
#   records  SIGHUP adds a node; digs never fail during a burst of SIGHUPs; a bad file on
#            reload is refused and the old names stay; SIGTERM exits 0 with Statistics
#   errors   a bad records file at start: exit 2 naming the line; bad flags: exit 2
#
#   magic_dns_test.sh BUILD_DIR          (no root needed; exits 77 without dig/unbound/dnsmasq)
source "$(dirname "$0")/lib/netns.sh"
source "$(dirname "$0")/lib/ports.sh"
BUILD=${1:?usage: $0 BUILD_DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
MAGIC=$BUILD/tools/magic-dns/magic-dns
PATH=$PATH:/usr/sbin:/sbin
for tool in dig unbound dnsmasq python3; do
  command -v "$tool" >/dev/null || { echo "magic_dns: $tool is not installed"; exit 77; }
done
[[ -x $MAGIC ]] || e2e_fail "$MAGIC is not built (ninja -C $BUILD magic-dns)"

E2E_WORK=$(mktemp -d /tmp/mvpn-magic-dns-$$.XXXXXX)
trap e2e_cleanup EXIT
trap 'exit 130' INT TERM
W=$E2E_WORK


# bg NAME CMD...: runs CMD in the background, output to $W/NAME.log; pid in PID_NAME (killed at exit).
bg() {
  local name=$1
  shift
  "$@" >"$W/$name.log" 2>&1 &
  E2E_PIDS+=("$!")
  eval "PID_$name=$!"
}

# D PORT ARGS...: dig at 127.0.0.1:PORT (or $AT), the whole output in $W/dig.out.
D() {
  local port=$1
  shift
  dig @"${AT:-127.0.0.1}" -p "$port" +time=2 +tries=1 "$@" >"$W/dig.out" 2>&1 || true
}
status() { sed -n 's/.*status: \([A-Z]*\),.*/\1/p' "$W/dig.out"; }
flags() { sed -n 's/^;; flags: \([^;]*\);.*/\1/p' "$W/dig.out"; }
has_flag() { [[ " $(flags) " == *" $1 "* ]]; }
# section NAME: the records of the ANSWER / AUTHORITY / QUESTION section, one a line.
section() { awk -v s=";; $1 SECTION:" '$0 == s { f = 1; next } /^$/ { f = 0 } f' "$W/dig.out"; }
rdata() { section ANSWER | awk '{ print $NF }' | sort; }
show() { sed 's/^/    | /' "$W/dig.out"; }
bad() { show; e2e_fail "$*"; }

# expect PORT WANT_STATUS WANT_RDATA ARGS...: one dig; status and sorted answer rdata as given
# ("-" for an empty answer).
expect() {
  local port=$1 want_status=$2 want=$3
  shift 3
  D "$port" "$@"
  [[ $(status) == "$want_status" ]] || bad "dig $*: status $(status), want $want_status"
  local got
  got=$(rdata | paste -sd, -)
  [[ ${got:--} == "$want" ]] || bad "dig $*: answer '$got', want '$want'"
}

# soa_in_authority: the authority section holds example.com's SOA.
# (grep reads a here-string, not a pipe: grep -q in a pipe can fail the pipe under pipefail.)
soa_in_authority() { grep -qE '^example\.com\.\s+[0-9]+\s+IN\s+SOA\s' <<<"$(section AUTHORITY)"; }
reloads_at_least() { (($(grep -c '^Records: reloaded' "$log") >= $1)); }

# start_magic NAME ARGS...: magic-dns in the background, ready once its banner is out; sets
# PORT_NAME to the port it printed.
start_magic() {
  local name=$1
  shift
  bg "$name" "$MAGIC" "$@"
  local pid_var="PID_$name" deadline=$((SECONDS + 10))
  until grep -q '^MagicDNS server starting on ' "$W/$name.log"; do
    kill -0 "${!pid_var}" 2>/dev/null || { cat "$W/$name.log"; e2e_fail "magic-dns ($name) exited"; }
    ((SECONDS < deadline)) || e2e_fail "magic-dns ($name) printed no banner in 10 s"
    sleep 0.05
  done
  local port
  port=$(sed -n 's/^MagicDNS server starting on .*:\([0-9][0-9]*\)$/\1/p' "$W/$name.log")
  [[ -n $port && $port != 0 ]] || e2e_fail "no port in: $(head -3 "$W/$name.log")"
  eval "PORT_$name=$port"
}

# ---- the upstreams ---------------------------------------------------------------------------
UNB=$(free_port)
{
  echo '$ORIGIN upstream.test.'
  echo '$TTL 300'
  echo '@ IN SOA ns.upstream.test. admin.upstream.test. 1 3600 600 86400 300'
  echo '@ IN NS ns.upstream.test.'
  echo 'ns IN A 192.0.2.1'
  echo 'www IN A 192.0.2.10'
  for i in $(seq 101 150); do echo "big IN A 192.0.2.$i"; done  # 50 records: 846 bytes
} >"$W/upstream.test.zone"
# A resolver answering from an auth-zone it keeps for its own lookups (for-downstream: no), so
# its answers are recursive ones (RA, no AA), as from a real upstream. "." refused: it never
# asks the root servers (no traffic off this machine). UDP answers capped at 512 bytes.
cat >"$W/unbound.conf" <<EOF
server:
    interface: 127.0.0.1@$UNB
    port: $UNB
    do-ip6: no
    do-daemonize: no
    username: ""
    chroot: ""
    directory: "$W"
    pidfile: ""
    use-syslog: no
    logfile: ""
    module-config: "iterator"
    access-control: 127.0.0.0/8 allow
    max-udp-size: 512
    edns-buffer-size: 512
    local-zone: "." refuse
    local-zone: "upstream.test." transparent
auth-zone:
    name: "upstream.test."
    zonefile: "$W/upstream.test.zone"
    for-downstream: no
    for-upstream: yes
    fallback-enabled: no
remote-control:
    control-enable: no
EOF
bg unbound unbound -d -c "$W/unbound.conf"

DM=$(free_port)
bg dnsmasq dnsmasq --no-daemon --conf-file=/dev/null --port "$DM" --listen-address 127.0.0.1 \
  --bind-interfaces --no-resolv --no-hosts --pid-file="$W/dnsmasq.pid" --user=root --local=/corp.test/ \
  --local-ttl=60 --host-record=db.corp.test,198.51.100.7

# A dead upstream: a UDP socket that reads nothing and answers nothing.
python3 -c 'import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True); time.sleep(600)' >"$W/dead.port" &
E2E_PIDS+=("$!")
e2e_wait "the dead socket's port" 5 test -s "$W/dead.port"
DEAD=$(cat "$W/dead.port")

dig_ok() { dig @127.0.0.1 -p "$1" +time=1 +tries=1 "$2" | grep -q 'status: NOERROR'; }
e2e_wait "unbound answering" 10 dig_ok "$UNB" www.upstream.test
e2e_wait "dnsmasq answering" 10 dig_ok "$DM" db.corp.test
expect "$UNB" NOERROR 192.0.2.10 www.upstream.test
has_flag ra && ! has_flag aa || bad "unbound: want RA and no AA, got '$(flags)'"
D "$UNB" big.upstream.test +bufsize=4096 +ignore
has_flag tc || bad "unbound should truncate big.upstream.test over UDP (max-udp-size 512)"
[[ $(rdata | wc -l) == 50 ]] && bad "unbound sent the 50 records over UDP"
D "$UNB" big.upstream.test +tcp
[[ $(rdata | wc -l) == 50 ]] || bad "unbound over TCP: want 50 records"
e2e_pass "unbound on 127.0.0.1:$UNB: www.upstream.test 192.0.2.10 (RA, no AA); big.upstream.test TC over UDP, 50 A over TCP"
expect "$DM" NOERROR 198.51.100.7 db.corp.test
expect "$DM" NXDOMAIN - nope.corp.test
e2e_pass "dnsmasq on 127.0.0.1:$DM: db.corp.test 198.51.100.7, nope.corp.test NXDOMAIN"
D "$DEAD" www.upstream.test
grep -q 'timed out' "$W/dig.out" || bad "the dead socket answered"
e2e_pass "the dead upstream 127.0.0.1:$DEAD never answers"

# ---- magic-dns -------------------------------------------------------------------------------
cat >"$W/records" <<'EOF'
# the test's tailnet
laptop   100.100.1.1  fd7a:115c:a1e0::1
server   100.100.1.2                      # IPv4 only
nas      100.100.1.3  fd7a:115c:a1e0::3
gw.home.arpa.  100.100.1.7                # absolute: an extra record
EOF
start_magic main -tailnet example.com -upstream "127.0.0.1:$UNB" --records "$W/records" \
  --listen 127.0.0.1:0 --split "corp.test=127.0.0.1:$DM" --split "dead.test=127.0.0.1:$DEAD" \
  --upstream-timeout-ms 300
P=$PORT_main
log=$W/main.log
grep -qx 'Tailnet domain: \*\.example\.com' "$log" || e2e_fail "banner: no 'Tailnet domain: *.example.com'"
grep -q "^Upstream DNS: 127.0.0.1:$UNB" "$log" || e2e_fail "banner: no 'Upstream DNS: 127.0.0.1:$UNB'"
grep -qx "Records: 4 nodes from $W/records" "$log" || e2e_fail "banner: want 'Records: 4 nodes from $W/records'"
e2e_pass "magic-dns up on 127.0.0.1:$P (port 0 picked), banner with domain, upstream, 4 records"

expect "$P" NOERROR 100.100.1.1 laptop.example.com A
has_flag aa || bad "tailnet answer without AA"
ttl=$(section ANSWER | awk '{ print $2 }')
((ttl > 0)) || bad "TTL $ttl"
grep -qF '[Query] laptop.example.com A' "$log" || e2e_fail "no '[Query] laptop.example.com A' line"
grep -qF '→ 100.100.1.1 (from tailnet)' "$log" || e2e_fail "no '→ 100.100.1.1 (from tailnet)' line"
expect "$P" NOERROR fd7a:115c:a1e0::1 laptop.example.com AAAA
has_flag aa || bad "tailnet AAAA without AA"
expect "$P" NOERROR 100.100.1.7 gw.home.arpa A
e2e_pass "A, AAAA (AA set, TTL $ttl), the extra record gw.home.arpa., per-query log lines"

expect "$P" NOERROR server.example.com. -x 100.100.1.2
expect "$P" NOERROR nas.example.com. -x fd7a:115c:a1e0::3
expect "$P" NXDOMAIN - -x 100.100.9.9
e2e_pass "PTR 100.100.1.2 -> server, fd7a:115c:a1e0::3 -> nas; unknown 100.100.9.9 NXDOMAIN"

expect "$P" NXDOMAIN - nosuch.example.com A
soa_in_authority || bad "NXDOMAIN without the zone's SOA in the authority section"
has_flag aa || bad "NXDOMAIN without AA"
expect "$P" NOERROR - server.example.com AAAA
soa_in_authority || bad "NODATA (AAAA of a v4-only node) without the SOA"
expect "$P" NOERROR - laptop.example.com MX
soa_in_authority || bad "NODATA (MX) without the SOA"
e2e_pass "NXDOMAIN + SOA; NODATA + SOA for AAAA of a v4-only node and for MX"

expect "$P" NOERROR 100.100.1.1 LaPtOp.ExAmPlE.cOm A
grep -q '^;LaPtOp\.ExAmPlE\.cOm\.' <<<"$(section QUESTION)" || bad "question case not echoed"
grep -q '^LaPtOp\.ExAmPlE\.cOm\.' <<<"$(section ANSWER)" || bad "answer owner case not echoed"
e2e_pass "0x20: LaPtOp.ExAmPlE.cOm echoed as sent in question and answer"

expect "$P" NOERROR 100.100.1.1 +tcp laptop.example.com
grep -q '(TCP)' "$W/dig.out" || bad "+tcp: the answer did not come over TCP"
dig @127.0.0.1 -p "$P" +time=2 +tries=1 +tcp +keepopen +short laptop.example.com A \
  server.example.com A nas.example.com AAAA >"$W/keepopen.out" 2>&1
[[ $(paste -sd, "$W/keepopen.out") == "100.100.1.1,100.100.1.2,fd7a:115c:a1e0::3" ]] ||
  { cat "$W/keepopen.out"; e2e_fail "dig +keepopen: three answers on one connection"; }
python3 "$HERE/magic_dns_tcp.py" 127.0.0.1 "$P" laptop.example.com server.example.com \
  nas.example.com/AAAA nosuch.example.com www.upstream.test >"$W/pipe.out" 2>&1 ||
  { cat "$W/pipe.out"; e2e_fail "pipelined TCP queries"; }
cat >"$W/pipe.want" <<'EOF'
laptop.example.com A NOERROR 100.100.1.1
server.example.com A NOERROR 100.100.1.2
nas.example.com AAAA NOERROR fd7a:115c:a1e0::3
nosuch.example.com A NXDOMAIN -
www.upstream.test A NOERROR 192.0.2.10
EOF
diff "$W/pipe.want" "$W/pipe.out" || e2e_fail "pipelined TCP answers differ (above)"
e2e_pass "+tcp; 3 queries with dig +keepopen, 5 pipelined on one connection (one split in segments)"

D "$P" laptop.example.com +bufsize=1400
grep -q '^; EDNS: version: 0' "$W/dig.out" || bad "+bufsize=1400: no OPT in the answer"
D "$P" laptop.example.com +noedns
grep -q '^; EDNS:' "$W/dig.out" && bad "+noedns: an OPT in the answer"
e2e_pass "EDNS: an OPT back for +bufsize=1400, none for +noedns"

expect "$P" NOERROR 192.0.2.10 www.upstream.test A
has_flag ra || bad "forwarded answer without RA"
has_flag aa && bad "forwarded answer with AA (magic-dns is not authoritative for upstream.test)"
grep -qF "→ Forwarding to 127.0.0.1:$UNB" "$log" || e2e_fail "no '→ Forwarding to 127.0.0.1:$UNB' line"
expect "$P" NOERROR 198.51.100.7 db.corp.test A
grep -qF "→ Forwarding to 127.0.0.1:$DM" "$log" || e2e_fail "no '→ Forwarding to 127.0.0.1:$DM' line"
expect "$P" NXDOMAIN - nope.corp.test A
e2e_pass "forwarded to unbound (RA, no AA); corp.test split to dnsmasq (answer and NXDOMAIN)"

D "$P" big.upstream.test +bufsize=4096
[[ $(rdata | wc -l) == 50 ]] || bad "+bufsize=4096: want all 50 records over UDP"
has_flag tc && bad "+bufsize=4096: TC set"
grep -q '(UDP)' "$W/dig.out" || bad "+bufsize=4096: not over UDP"
D "$P" big.upstream.test +noedns +ignore
has_flag tc || bad "+noedns +ignore: want TC (846 bytes do not fit in 512)"
D "$P" big.upstream.test +noedns
grep -q 'Truncated, retrying in TCP mode' "$W/dig.out" || bad "+noedns: dig did not retry over TCP"
[[ $(rdata | wc -l) == 50 ]] || bad "+noedns: want 50 records after dig's TCP retry"
e2e_pass "upstream TC retried over TCP: 50 A over UDP to +bufsize=4096, TC to +noedns, 50 over dig's TCP"

D "$P" x.dead.test A +time=5
[[ $(status) == SERVFAIL ]] || bad "dead upstream: status '$(status)', want SERVFAIL"
e2e_pass "dead upstream (dead.test split to a silent socket): SERVFAIL"

# Who may ask: a second instance answering only 127.0.0.2, with no upstream.
start_magic allow -tailnet example.com --records "$W/records" --listen 127.0.0.1:0 \
  --allow 127.0.0.2/32
expect "$PORT_allow" REFUSED - -b 127.0.0.1 laptop.example.com
expect "$PORT_allow" NOERROR 100.100.1.1 -b 127.0.0.2 laptop.example.com
expect "$PORT_allow" REFUSED - -b 127.0.0.2 www.upstream.test
e2e_pass "--allow 127.0.0.2/32: 127.0.0.1 REFUSED, 127.0.0.2 answered; no -upstream: outside names REFUSED"

if python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
  start_magic v6 -tailnet example.com --records "$W/records" --listen '[::1]:0'
  grep -q "^MagicDNS server starting on \[::1\]:$PORT_v6\$" "$W/v6.log" || e2e_fail "[::1] banner"
  AT=::1 expect "$PORT_v6" NOERROR fd7a:115c:a1e0::1 laptop.example.com AAAA
  AT=::1 expect "$PORT_v6" NOERROR 100.100.1.2 +tcp server.example.com
  e2e_pass "listening on [::1]: UDP and TCP"
fi

# SIGHUP: a node added to the file resolves after the reload.
echo "tablet 100.100.1.4" >>"$W/records"
kill -HUP "$PID_main"
e2e_wait "Records: reloaded" 5 grep -q '^Records: reloaded' "$log"
expect "$P" NOERROR 100.100.1.4 tablet.example.com
e2e_pass "SIGHUP: tablet added, '$(grep -m1 '^Records: reloaded' "$log")'"

# Queries keep being answered while reloads happen: 10 HUPs 0.1 s apart, digs all along.
(for _ in $(seq 10); do kill -HUP "$PID_main"; sleep 0.1; done) &
hups=$!
n=0
while kill -0 "$hups" 2>/dev/null || ((n < 20)); do
  n=$((n + 1))
  out=$(dig @127.0.0.1 -p "$P" +time=1 +tries=1 +short laptop.example.com 2>&1) ||
    e2e_fail "dig $n during the reloads failed: $out"
  [[ $out == 100.100.1.1 ]] || e2e_fail "dig $n during the reloads got '$out'"
done
wait "$hups"
e2e_wait "11 reloads" 5 reloads_at_least 11
e2e_pass "$n digs during 10 SIGHUPs all answered; $(grep -c '^Records: reloaded' "$log") reloads"

# A bad file on reload is refused and the old names stay.
echo "broken line with too many fields" >>"$W/records"
kill -HUP "$PID_main"
e2e_wait "reload refused" 5 grep -q '^Records: reload refused' "$log"
grep -q 'line 7' <<<"$(grep '^Records: reload refused' "$log")" ||
  e2e_fail "the refusal does not name line 7: $(grep '^Records: reload refused' "$log")"
expect "$P" NOERROR 100.100.1.4 tablet.example.com
e2e_pass "a bad file on SIGHUP refused, naming line 7; tablet still answered"

kill -TERM "$PID_main"
rc=0
wait "$PID_main" || rc=$?
[[ $rc == 0 ]] || e2e_fail "SIGTERM: exit $rc, want 0"
grep -q '^Statistics:' "$log" || e2e_fail "no Statistics: at exit"
sed -n '/^Statistics:/,$p' "$log"
e2e_pass "SIGTERM: exit 0 with Statistics"

# Refusals at start: exit 2, and a records file's bad line named. Every case runs; the failures
# are listed together.
printf 'laptop 100.100.1.1\n# a comment\nbad 999.1.1.1\n' >"$W/bad.records"
refusals=()
refuse() {  # refuse WHAT PATTERN ARGS...: magic-dns ARGS exits $want (2) and prints PATTERN
  local what=$1 pattern=$2
  shift 2
  local rc=0
  timeout 5 "$MAGIC" "$@" >"$W/refuse.out" 2>&1 || rc=$?
  if [[ $rc != "${want:-2}" ]]; then
    refusals+=("$what: exit $rc, want ${want:-2} ($(head -1 "$W/refuse.out"))")
  elif ! grep -qE "$pattern" "$W/refuse.out"; then
    refusals+=("$what: no /$pattern/ in: $(head -1 "$W/refuse.out")")
  fi
}
refuse "bad records file" 'line 3' -tailnet example.com --records "$W/bad.records" --listen 127.0.0.1:0
refuse "missing records file" 'nonexistent' -tailnet example.com --records "$W/nonexistent" --listen 127.0.0.1:0
refuse "no -tailnet" 'tailnet' --listen 127.0.0.1:0
refuse "--split without =" 'split' -tailnet example.com --split corp.test --listen 127.0.0.1:0
refuse "bad --allow" 'allow' -tailnet example.com --allow 300.0.0.0/8 --listen 127.0.0.1:0
# What abseil's flag parser refuses (a flag it does not know, a number that is not one) exits 1
# from inside the parser, as in every meshvpn tool; magic-dns --help says so.
want=1 refuse "unknown flag" 'no.such.flag' -tailnet example.com --no-such-flag --listen 127.0.0.1:0
want=1 refuse "bad flag value" 'upstream_timeout_ms' -tailnet example.com --upstream-timeout-ms abc --listen 127.0.0.1:0
((${#refusals[@]} == 0)) || e2e_fail "refusals at start:$(printf '\n  %s' "${refusals[@]}")"
e2e_pass "exit 2: bad records file (line 3 named), missing file, no -tailnet, bad --split, bad --allow; exit 1: unknown flag, bad value"

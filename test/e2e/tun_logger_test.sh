#!/usr/bin/env bash
# tun_logger end to end (C project 1): in a network namespace, tun_logger creates a TUN device;
# pings to an address in its IPv4 subnet and its IPv6 subnet are routed into it, and it must print
# the seed's line for each echo request, then its statistics on SIGINT. A second run checks that
# --count N exits by itself after N packets.
#   usage: tun_logger_test.sh <build dir>
source "$(dirname "${BASH_SOURCE[0]}")/lib/netns.sh"
build=${1:?usage: tun_logger_test.sh <build dir>}
logger="$build/tools/tun_logger/tun_logger"
e2e_init tun
[[ -x "$logger" ]] || e2e_fail "no $logger (build the tun_logger target)"

dev="mvpn$$"
dev=${dev:0:15}
label=${dev^^}
log="$E2E_WORK/logger.log"

has_device() {
  e2e_in "$1" ip -o addr show dev "$2" | grep -q "inet $3" &&
    e2e_in "$1" ip -o addr show dev "$2" | grep -q "inet6 $4"
}

# --- 1: log pings over IPv4 and IPv6, statistics on SIGINT ---------------------------------
e2e_ns a
e2e_bg a logger "$logger" --name="$dev" --address=10.213.0.1/24,fd00:213::1/64 --mtu=1400
pid=$E2E_LAST_PID
e2e_wait "tun_logger to create $dev with both addresses" 10 has_device a "$dev" 10.213.0.1/24 fd00:213::1/64
e2e_wait "tun_logger to start listening" 10 grep -q "listening on $dev" "$log"

# Nobody answers (the packets end in tun_logger), so ping exits non-zero: that is expected.
e2e_in a ping -c 2 -i 0.2 -W 1 10.213.0.2 >/dev/null || true
e2e_in a ping -6 -c 2 -i 0.2 -W 1 fd00:213::2 >/dev/null || true

v4_line="[$label] 10.213.0.1 -> 10.213.0.2 | ICMP Echo Request | 64 bytes"
v6_line="[$label] fd00:213::1 -> fd00:213::2 | ICMPv6 Echo Request | 64 bytes"
count_lines() { grep -cxF "$1" "$log" || true; }
e2e_wait "both IPv4 echo requests in the log" 5 test "$(count_lines "$v4_line")" -eq 2
e2e_wait "both IPv6 echo requests in the log" 5 test "$(count_lines "$v6_line")" -eq 2
e2e_pass "tun_logger printed: $v4_line"
e2e_pass "tun_logger printed: $v6_line"

kill -INT "$pid"
rc=0
wait "$pid" || rc=$?
[[ $rc -eq 0 ]] || e2e_fail "tun_logger exited with $rc after SIGINT"
grep -q "^--- $dev statistics: [0-9]* packets" "$log" || e2e_fail "no statistics after SIGINT"
grep -q "^  ICMP 2   ICMPv6 [0-9]" "$log" || e2e_fail "statistics do not count 2 ICMP packets"
grep -q "malformed 0   dropped 0" "$log" || e2e_fail "statistics report malformed or dropped packets"
e2e_in a ip link show "$dev" >/dev/null 2>&1 && e2e_fail "$dev still exists after tun_logger exited"
e2e_pass "statistics printed on SIGINT, exit code 0, device removed"

# --- 2: --count N exits by itself ------------------------------------------------------------
e2e_ns b
count_log="$E2E_WORK/count.log"
e2e_bg b count "$logger" --name="$dev" --address=10.214.0.1/24 --count=3
pid=$E2E_LAST_PID
e2e_wait "tun_logger --count to start listening" 10 grep -q "listening on $dev" "$count_log"
# Whatever the first three packets are (an IPv6 router solicitation may be one), it must stop.
e2e_in b ping -c 6 -i 0.2 -W 1 10.214.0.2 >/dev/null 2>&1 || true
e2e_wait "tun_logger --count=3 to exit" 10 bash -c "! kill -0 $pid 2>/dev/null"
rc=0
wait "$pid" || rc=$?
[[ $rc -eq 0 ]] || e2e_fail "tun_logger --count=3 exited with $rc"
grep -q "^--- $dev statistics: 3 packets" "$count_log" || e2e_fail "--count=3 did not log exactly 3"
[[ $(grep -c "^\[$label\] " "$count_log") -eq 3 ]] || e2e_fail "--count=3 printed other than 3 lines"
e2e_pass "--count=3 logged 3 packets and exited"

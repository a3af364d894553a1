#!/usr/bin/env bash
# STUN interop with coturn, in two network namespaces joined by a veth pair:
#
#     ns client  10.213.0.1  ---veth---  10.213.0.2 + 10.213.0.3  ns server
#     stun_client, turnutils_stunclient      turnserver --stun-only (RFC 5780: both addresses,
#                                            ports 3478/3479) and our stun_server (4478/4479)
#
# 1. our stun_client against coturn's turnserver: the mapped address it prints must be the client
#    namespace's address and the port its socket used; coturn's OTHER-ADDRESS is seen, and with no
#    NAT in between the analysis says "Open Internet (no NAT)"; --json says the same.
# 2. coturn's turnutils_stunclient against our stun_server: it must print our RFC 5780 attributes
#    (RESPONSE-ORIGIN, OTHER-ADDRESS) and the right reflexive address.
# 3. our stun_client against our stun_server, and against an address where nothing listens
#    (short retransmission settings): "UDP Blocked: Yes", exit 1.
#
# turnserver runs with an explicit command line (no config file: -c /dev/null) on the namespace's
# addresses only, so a system turnserver (Debian's coturn service, off by default) is untouched.
# Usage: stun_interop_test.sh <build dir>   (root; exits 77 when it cannot run here)
source "$(dirname "$0")/lib/netns.sh"

BUILD=${1:?usage: stun_interop_test.sh <build dir>}
CLIENT=$BUILD/tools/stun_client/stun_client
SERVER=$BUILD/tools/stun_server/stun_server
e2e_init stun
for tool in turnserver turnutils_stunclient; do
  command -v $tool >/dev/null || { echo "SKIP: $tool (Debian package coturn) is not installed"; exit 77; }
done
[[ -x $CLIENT && -x $SERVER ]] || e2e_fail "stun_client / stun_server are not built in $BUILD"

e2e_pair client server 213
SRV=$E2E_server_IP        # 10.213.0.2
SRV2=10.213.0.3
CLI=$E2E_client_IP        # 10.213.0.1
ip -n "$E2E_server" addr add "$SRV2/24" dev "$E2E_server_DEV"

e2e_bg server turnserver turnserver -c /dev/null --stun-only -n --no-cli --no-tls --no-dtls \
  --listening-ip "$SRV" --listening-ip "$SRV2" --listening-port 3478 --alt-listening-port 3479 \
  --log-file stdout --simple-log --pidfile "$E2E_WORK/turnserver.pid"
e2e_wait "turnserver on $SRV:3478" 10 e2e_in server sh -c "ss -lun | grep -q '$SRV:3478'"

# 1. stun_client -> coturn.
e2e_in client "$CLIENT" --server "$SRV:3478" --local "$CLI:45001" --rto-ms 100 >"$E2E_WORK/c1.log" 2>&1 ||
  { cat "$E2E_WORK/c1.log"; e2e_fail "stun_client against coturn failed"; }
cat "$E2E_WORK/c1.log"
grep -qx "Mapped address: $CLI:45001" "$E2E_WORK/c1.log" || e2e_fail "wrong mapped address from coturn"
grep -qx "Local address: $CLI:45001" "$E2E_WORK/c1.log" || e2e_fail "wrong local address"
grep -qx "Other address: $SRV2:3479 (RFC 5780)" "$E2E_WORK/c1.log" || e2e_fail "coturn's OTHER-ADDRESS not seen"
grep -qx "NAT Type: Open Internet (no NAT)" "$E2E_WORK/c1.log" || e2e_fail "wrong NAT type"
grep -qE "^Response time: [0-9]+ms$" "$E2E_WORK/c1.log" || e2e_fail "no response time"
e2e_pass "stun_client read coturn's answer: $CLI:45001, RFC 5780 tests ran"

e2e_in client "$CLIENT" --server "$SRV:3478" --local "$CLI:45002" --rto-ms 100 --json >"$E2E_WORK/c1j.log" 2>&1 ||
  e2e_fail "stun_client --json failed"
python3 - "$E2E_WORK/c1j.log" "$CLI:45002" <<'PY' || e2e_fail "--json output wrong"
import json, sys
d = json.load(open(sys.argv[1]))
s = d["servers"][0]
assert s["ok"] and s["mapped"] == sys.argv[2], s
assert d["nat"]["type"] == "Open Internet (no NAT)" and d["nat"]["udp_blocked"] is False, d
PY
e2e_pass "stun_client --json is valid JSON with the same answer"

# 2. turnutils_stunclient -> our stun_server (RFC 5780 mode on both addresses).
e2e_bg server stun_server "$SERVER" --listen "$SRV:4478" --alt-address "$SRV2" --alt-port 4479
STUN_PID=$E2E_LAST_PID
e2e_wait "stun_server on $SRV:4478" 10 grep -q "Listening: $SRV2:4479" "$E2E_WORK/stun_server.log"
# It sends a second request we answer with 420 (it asks for RESPONSE-PORT, which we do not
# implement) and then waits; its first answer is what we check.
e2e_in client timeout 5 turnutils_stunclient -p 4478 -L "$CLI" "$SRV" >"$E2E_WORK/t.log" 2>&1 || true
cat "$E2E_WORK/t.log"
grep -q "UDP reflexive addr: $CLI:" "$E2E_WORK/t.log" || e2e_fail "coturn client did not read our XOR-MAPPED-ADDRESS"
grep -q "Other addr: : $SRV2:4479" "$E2E_WORK/t.log" || e2e_fail "coturn client did not read our OTHER-ADDRESS"
grep -q "Response origin: : $SRV:4478" "$E2E_WORK/t.log" || e2e_fail "coturn client did not read our RESPONSE-ORIGIN"
e2e_pass "turnutils_stunclient read our stun_server's answer"

# 3. stun_client -> our stun_server; then a silent address.
e2e_in client "$CLIENT" --server "$SRV:4478" --local "$CLI:45003" --rto-ms 100 >"$E2E_WORK/c3.log" 2>&1 ||
  { cat "$E2E_WORK/c3.log"; e2e_fail "stun_client against stun_server failed"; }
cat "$E2E_WORK/c3.log"
grep -qx "Mapped address: $CLI:45003" "$E2E_WORK/c3.log" || e2e_fail "wrong mapped address from stun_server"
grep -qx "Filtering: endpoint-independent" "$E2E_WORK/c3.log" || e2e_fail "CHANGE-REQUEST answers not received"
e2e_stop "$STUN_PID"
grep -q "Answered from a changed address: [1-9]" "$E2E_WORK/stun_server.log" || e2e_fail "stun_server never changed address"
e2e_pass "stun_client and stun_server agree; CHANGE-REQUEST honoured"

rc=0
e2e_in client "$CLIENT" --server "$SRV:5999" --rto-ms 20 --sends 3 >"$E2E_WORK/c4.log" 2>&1 || rc=$?
cat "$E2E_WORK/c4.log"
[[ $rc -eq 1 ]] || e2e_fail "expected exit 1 when no server answers, got $rc"
grep -qx "UDP Blocked: Yes" "$E2E_WORK/c4.log" || e2e_fail "silence not reported as UDP blocked"
e2e_pass "a silent server is reported as UDP blocked"

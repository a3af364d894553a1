#!/usr/bin/env bash
# mini-headscale end to end, on SQLite or on a real PostgreSQL: the server in one namespace,
# control clients (test/e2e/control_probe, the library's UvControlClient) in another.
#   * alice-laptop registers with a reusable pre-auth key, bob-desktop interactively: it prints an
#     auth URL and waits until `mini-headscale nodes register --user bob --key ID` approves it;
#     each then sees the other (address, online, the endpoint alice reported);
#   * a rename, an expiry and a deletion reach the peer as deltas (not full maps);
#   * a used single-use key is refused and stores nothing;
#   * the API: the seed's GET /api/machines from the server's own host, 401 without or with a
#     wrong key from elsewhere (and nothing created), the REST list with a key; the CLI's -o json;
#   * a restarted server keeps every node and address, and the clients come back on their own.
# Usage: mini_headscale_test.sh BUILD sqlite|postgres
set -euo pipefail
BUILD=${1:?usage: mini_headscale_test.sh BUILD sqlite|postgres}
BACKEND=${2:?usage: mini_headscale_test.sh BUILD sqlite|postgres}
source "$(dirname "$0")/lib/netns.sh"
source "$(dirname "$0")/lib/postgres.sh"

MH=$BUILD/tools/mini-headscale/mini-headscale
PROBE=$BUILD/test/e2e/control_probe
for bin in "$MH" "$PROBE"; do [[ -x $bin ]] || { echo "$bin is not built"; exit 1; }; done
command -v python3 >/dev/null || { echo "SKIP: python3"; exit 77; }
command -v curl >/dev/null || { echo "SKIP: curl"; exit 77; }

e2e_init "mhs-$BACKEND"
e2e_pair hs c 214
STATE=$E2E_WORK/state
mkdir -m 700 "$STATE"
DB_ARGS=()
if [[ $BACKEND == postgres ]]; then
  pg_start
  DB_ARGS=(--db "$PG_URL")
fi
SERVER=http://$E2E_hs_IP:8080

start_server() {
  e2e_bg hs "server$1" "$MH" serve --state-dir "$STATE" --listen :8080 --server-url "$SERVER" \
    --metrics-listen 127.0.0.1:9590 "${DB_ARGS[@]}"
  SERVER_PID=$E2E_LAST_PID
  e2e_wait "the server to start" 15 grep -q "^Nodes: " "$E2E_WORK/server$1.log"
}
mh() { e2e_in hs "$MH" --state-dir "$STATE" "$@"; }
# wait_line LOG WHAT SECONDS REGEX
wait_line() { e2e_wait "$2" "$3" grep -Eq "$4" "$E2E_WORK/$1.log"; }

start_server 1
grep -q "Database: connected ($([[ $BACKEND == postgres ]] && echo postgres || echo sqlite)" \
  "$E2E_WORK/server1.log" || e2e_fail "the server did not say which database it uses"
mh users create alice >/dev/null
mh users create bob >/dev/null
KEY=$(mh preauthkeys create --user alice --reusable --expiration 1h)
ONCE=$(mh preauthkeys create --user alice --expiration 1h)
[[ $KEY == mpak_* && $ONCE == mpak_* ]] || e2e_fail "preauthkeys create printed '$KEY'"
e2e_pass "users and pre-auth keys created through the admin socket"

# 1. Registration both ways.
e2e_bg c alice "$PROBE" "$E2E_hs_IP" 8080 alice-laptop "$KEY" --endpoint 192.168.1.50:41641
wait_line alice "alice registered" 10 '^REGISTERED alice-laptop 100\.64\.0\.1$'
e2e_bg c bob "$PROBE" "$E2E_hs_IP" 8080 bob-desktop -
wait_line bob "bob's auth URL" 10 "^AUTH_URL $SERVER/auth/[a-z0-9]{24}\$"
ID=$(sed -n 's|^AUTH_URL .*/auth/||p' "$E2E_WORK/bob.log" | head -n 1)
e2e_in c curl -sf "$SERVER/auth/$ID" | grep -q "nodes register --user USERNAME --key $ID" ||
  e2e_fail "the auth page does not say how to approve"
[[ $(mh nodes list -o json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))') == 1 ]] ||
  e2e_fail "a node was stored before approval"
mh nodes pending | grep -q "$ID" || e2e_fail "nodes pending does not list $ID"
mh nodes register --user bob --key "$ID" | grep -q "Node registered: bob-desktop" ||
  e2e_fail "nodes register"
wait_line bob "bob registered" 10 '^REGISTERED bob-desktop 100\.64\.0\.2$'
wait_line alice "alice sees bob" 10 '^MAP .* PEERS 1 bob-desktop=100\.64\.0\.2,online'
wait_line bob "bob sees alice and her endpoint" 10 \
  '^MAP .* PEERS 1 alice-laptop=100\.64\.0\.1,online,ep:192\.168\.1\.50:41641'
e2e_pass "pre-auth and interactive registration; each sees the other"
METRICS=$(e2e_in hs curl -sf http://127.0.0.1:9590/metrics)
grep -q '^meshvpn_control_nodes 2$' <<<"$METRICS" || e2e_fail "metrics: $METRICS"
grep -q '^meshvpn_control_nodes_online 2$' <<<"$METRICS" || e2e_fail "metrics: nodes online"
grep -q '^meshvpn_control_registrations_total{outcome="auth_url"} 1$' <<<"$METRICS" ||
  e2e_fail "metrics: auth URLs"
if command -v promtool >/dev/null; then
  promtool check metrics <<<"$METRICS" >"$E2E_WORK/promtool.log" 2>&1 ||
    e2e_fail "promtool: $(cat "$E2E_WORK/promtool.log")"
fi
e2e_pass "metrics: nodes, online, registrations by outcome (promtool-clean)"

# 2. The API.
MACHINES=$(e2e_in hs curl -sf http://127.0.0.1:8080/api/machines)
python3 - "$MACHINES" <<'PY' || e2e_fail "GET /api/machines: $MACHINES"
import json, sys
m = sorted(json.loads(sys.argv[1]), key=lambda x: x["ip"])
assert m == [{"name": "alice-laptop", "ip": "100.64.0.1", "online": True},
             {"name": "bob-desktop", "ip": "100.64.0.2", "online": True}], m
PY
API_KEY=$(mh apikeys create --expiration 1h)
code() { e2e_in c curl -s -o /dev/null -w '%{http_code}' "$@"; }
[[ $(code "$SERVER/api/machines") == 401 ]] || e2e_fail "/api/machines from afar without a key"
[[ $(code -H "Authorization: Bearer mapi_000000000000_0000000000000000000000000000000000000000" \
  "$SERVER/api/v1/node") == 401 ]] || e2e_fail "a wrong API key was not 401"
[[ $(code -X POST -d '{"name":"mallory"}' "$SERVER/api/v1/user") == 401 ]] ||
  e2e_fail "POST /api/v1/user without a key was not 401"
mh users list | grep -q mallory && e2e_fail "a user was created without a key"
e2e_in c curl -sf -H "Authorization: Bearer $API_KEY" "$SERVER/api/v1/node" | python3 -c '
import json, sys
nodes = json.load(sys.stdin)["nodes"]
assert [n["name"] for n in nodes] == ["alice-laptop", "bob-desktop"], nodes
assert nodes[0]["ipAddresses"] == ["100.64.0.1", "fd7a:115c:a1e0::1"], nodes[0]
assert nodes[1]["user"] == "bob" and nodes[1]["online"] is True, nodes[1]
assert nodes[0]["machineKey"].startswith("mkey:") and nodes[0]["expiry"], nodes[0]
' || e2e_fail "GET /api/v1/node with a key"
e2e_in c "$MH" --server "$SERVER" --api-key "$API_KEY" users list | grep -q '^2 *bob' ||
  e2e_fail "the CLI against a remote server with --api-key"
e2e_pass "API: /api/machines, 401 for missing and wrong keys, REST and CLI with a key"

# 3. Rename, expiry, deletion: deltas.
mh nodes rename --identifier 2 bobs-box | grep -q "Node renamed: bobs-box" || e2e_fail "rename"
wait_line alice "the rename as a delta" 10 '^MAP delta .* PEERS 1 bobs-box=100\.64\.0\.2'
mh nodes expire --identifier 2 >/dev/null
wait_line alice "the expiry as a delta" 10 '^MAP delta SELF alice-laptop PEERS 0$'
wait_line bob "bob sees himself expired" 10 '^MAP .*SELF bobs-box,expired PEERS 0'
e2e_bg c carol "$PROBE" "$E2E_hs_IP" 8080 carol-pi "$ONCE"
wait_line alice "carol appears" 10 '^MAP delta .* PEERS 1 carol-pi=100\.64\.0\.3'
mh nodes delete --identifier 3 >/dev/null
wait_line alice "the deletion as a delta" 10 "^MAP delta SELF alice-laptop PEERS 0\$"
[[ $(grep -c '^MAP delta .*carol-pi' "$E2E_WORK/alice.log") -ge 1 ]] || e2e_fail "carol via delta"
[[ $(grep -c '^MAP full' "$E2E_WORK/alice.log") == 1 ]] ||
  e2e_fail "alice got more than one full map: $(grep '^MAP full' "$E2E_WORK/alice.log")"
e2e_pass "rename, expiry and deletion reached alice as deltas (one full map in all)"

# 4. A used single-use key: refused, nothing stored.
e2e_bg c dave "$PROBE" "$E2E_hs_IP" 8080 dave "$ONCE"
wait_line dave "dave refused" 10 '^ERROR registration refused: pre-auth key mpak_[0-9a-f]{12} has already been used'
grep -q "${ONCE:18}" "$E2E_WORK/dave.log" "$E2E_WORK/server1.log" &&
  e2e_fail "a pre-auth key's secret reached a log"
COUNT=$(mh nodes list -o json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
[[ $COUNT == 2 ]] || e2e_fail "expected 2 nodes after the refusal, have $COUNT"
e2e_pass "a used single-use key is refused and stores nothing"

# 5. A recorded registration played again: the Noise channel's keys are fresh per handshake, so
# the replayed records do not decrypt and nothing is stored (the node was deleted in between).
ONCE2=$(mh preauthkeys create --user alice --expiration 1h)
e2e_bg c recorder python3 "$(dirname "$0")/tcp_record_replay.py" record 9000 "$E2E_hs_IP" 8080 \
  "$E2E_WORK/frank.bytes"
e2e_wait "the recording proxy" 5 bash -c "ip netns exec $E2E_c ss -ltn | grep -q 127.0.0.1:9000"
e2e_bg c frank "$PROBE" 127.0.0.1 9000 frank "$ONCE2"
wait_line frank "frank registered through the recorder" 10 '^REGISTERED frank 100\.64\.0\.'
e2e_stop "$E2E_LAST_PID"
FRANK=$(mh nodes list -o json | python3 -c '
import json, sys
print([n["id"] for n in json.load(sys.stdin) if n["name"] == "frank"][0])')
mh nodes delete --identifier "$FRANK" >/dev/null
e2e_in c python3 "$(dirname "$0")/tcp_record_replay.py" replay "$E2E_hs_IP" 8080 \
  "$E2E_WORK/frank.bytes" >"$E2E_WORK/replay.log" 2>&1 || e2e_fail "replay: $(cat "$E2E_WORK/replay.log")"
grep -Eq '^replayed [1-9][0-9]* bytes, got [1-9][0-9]* back' "$E2E_WORK/replay.log" ||
  e2e_fail "the replay did not reach the channel: $(cat "$E2E_WORK/replay.log")"
sleep 0.5
mh nodes list | grep -q frank && e2e_fail "a replayed registration stored a node"
[[ $(mh nodes list -o json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))') == 2 ]] ||
  e2e_fail "the node count changed after the replay"
e2e_pass "a replayed registration ($(cat "$E2E_WORK/replay.log")) stores nothing"

# 6. Restart: everything kept; alice comes back by herself.
e2e_stop "$SERVER_PID"
start_server 2
grep -q "^Nodes: 2 known" "$E2E_WORK/server2.log" || e2e_fail "nodes lost across a restart"
e2e_wait "alice back online" 15 bash -c \
  "'$MH' --state-dir '$STATE' nodes list | grep -Eq '^1 +alice-laptop .*100\.64\.0\.1.* online'"
[[ $(grep -c '^MAP full' "$E2E_WORK/alice.log") == 2 ]] || e2e_fail "no fresh full map after restart"
e2e_pass "restart: nodes and addresses kept, alice reconnected with a full map"
e2e_pass "mini-headscale on $BACKEND"

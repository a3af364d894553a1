#!/usr/bin/env bash
# A tailnet policy in mini-headscale, end to end: the server in one namespace, three control
# clients (test/e2e/control_probe) of three users in another.
#   * policy 1 lets alice reach bob: alice and bob see each other, carol sees nobody, and bob's
#     packet filter admits alice's addresses;
#   * policy 2 (the file rewritten, then SIGHUP) lets alice reach carol's port 22 instead: bob
#     loses alice, carol gains her, filters move with them, all as deltas (no new full map);
#   * a broken policy file on SIGHUP is refused with its line, and nothing changes;
#   * `policy check` validates and runs tests; serve refuses to start on a failing policy;
#   * `policy get` / `policy set FILE` (GET/PUT /api/v1/policy): a bad text is refused and the file
#     left alone, a good one is written and reaches the nodes; 401 without an API key.
set -euo pipefail
BUILD=${1:?usage: control_policy_test.sh BUILD}
source "$(dirname "$0")/lib/netns.sh"

MH=$BUILD/tools/mini-headscale/mini-headscale
PROBE=$BUILD/test/e2e/control_probe
for bin in "$MH" "$PROBE"; do [[ -x $bin ]] || { echo "$bin is not built"; exit 1; }; done

e2e_init "mhs-policy"
e2e_pair hs c 215
STATE=$E2E_WORK/state
mkdir -m 700 "$STATE"
POLICY=$E2E_WORK/policy.hujson
SERVER=http://$E2E_hs_IP:8080
mh() { e2e_in hs "$MH" --state-dir "$STATE" "$@"; }
wait_line() { e2e_wait "$2" "$3" grep -Eq "$4" "$E2E_WORK/$1.log"; }
full_maps() { grep -c '^MAP full' "$E2E_WORK/$1.log" || true; }

cat >"$POLICY" <<'POL'
{
  // Users are written Headscale's way: "alice@" names the user alice.
  "acls": [
    {"action": "accept", "src": ["alice@"], "dst": ["bob@:*"]},
  ],
  "tests": [
    {"src": "alice@", "accept": ["bob@:22"], "deny": ["carol@:22"]},
  ],
}
POL
"$MH" policy check "$POLICY" | grep -q "policy OK: 1 rules" || e2e_fail "policy check on a good file"

# A policy whose own test fails keeps the server from starting (exit 2, the assertion named).
sed 's/"deny": \["carol@:22"\]/"deny": ["bob@:22"]/' "$POLICY" >"$E2E_WORK/failing.hujson"
set +e
"$MH" policy check "$E2E_WORK/failing.hujson" >/dev/null 2>"$E2E_WORK/check.err"
check_rc=$?
e2e_in hs "$MH" serve --state-dir "$E2E_WORK/unused" --listen :8081 \
  --policy "$E2E_WORK/failing.hujson" >/dev/null 2>"$E2E_WORK/failing.err"
serve_rc=$?
set -e
[[ $check_rc == 1 ]] || e2e_fail "policy check on a failing test: exit $check_rc"
[[ $serve_rc == 2 ]] || e2e_fail "serve with a failing policy: exit $serve_rc"
grep -q 'tests\[0\] (line 7): alice@ -> bob@:22: expected denied' "$E2E_WORK/failing.err" ||
  e2e_fail "the failing assertion is not named: $(cat "$E2E_WORK/failing.err")"
e2e_pass "a policy whose tests fail is refused by policy check (1) and by serve (2)"

e2e_bg hs server "$MH" serve --state-dir "$STATE" --listen :8080 --server-url "$SERVER" \
  --policy "$POLICY"
SERVER_PID=$E2E_LAST_PID
e2e_wait "the server to start" 15 grep -q "^Nodes: " "$E2E_WORK/server.log"
grep -q "^\[Policy\] $POLICY: 1 rules, 1 tests passed" "$E2E_WORK/server.log" ||
  e2e_fail "the server did not report its policy"
for u in alice bob carol; do mh users create "$u" >/dev/null; done
start_probe() {
  local key
  key=$(mh preauthkeys create --user "$1" --expiration 1h)
  e2e_bg c "$1" "$PROBE" "$E2E_hs_IP" 8080 "$2" "$key"
  wait_line "$1" "$1 registered" 10 "^REGISTERED $2 "
}
start_probe alice alice-laptop
start_probe bob bob-desktop
start_probe carol carol-pi
wait_line alice "alice sees bob only" 10 '^MAP .* PEERS 1 bob-desktop='
wait_line bob "bob sees alice only" 10 '^MAP .* PEERS 1 alice-laptop='
wait_line bob "bob's filter admits alice" 10 \
  '^FILTER 1 100\.64\.0\.1/32\|fd7a:115c:a1e0::1/128>100\.64\.0\.2/32:0-65535\|fd7a:115c:a1e0::2/128:0-65535$'
sleep 1
tail -n 1 "$E2E_WORK/carol.log" | grep -Eq '^(MAP .* PEERS 0|FILTER 0)$' ||
  e2e_fail "carol sees someone: $(tail -n 2 "$E2E_WORK/carol.log")"
grep -q 'PEERS 1' "$E2E_WORK/carol.log" && e2e_fail "carol was shown a peer"
e2e_pass "policy 1: alice and bob see each other, carol sees nobody; bob's filter admits alice"

FULL_ALICE=$(full_maps alice) FULL_BOB=$(full_maps bob) FULL_CAROL=$(full_maps carol)
cat >"$POLICY" <<'POL'
{
  "acls": [
    {"action": "accept", "src": ["alice@"], "dst": ["carol@:22"]},
  ],
}
POL
kill -HUP "$SERVER_PID"
wait_line server "the reload" 10 '^\[Policy\] reloaded .*: 1 rules'
wait_line alice "alice now sees carol, not bob" 10 '^MAP delta .* PEERS 1 carol-pi='
wait_line bob "bob loses alice" 10 '^MAP delta SELF bob-desktop PEERS 0$'
wait_line bob "bob's filter is emptied" 10 '^FILTER 0$'
wait_line carol "carol gains alice" 10 '^MAP delta .* PEERS 1 alice-laptop='
wait_line carol "carol's filter admits alice on port 22" 10 \
  '^FILTER 1 100\.64\.0\.1/32\|fd7a:115c:a1e0::1/128>100\.64\.0\.3/32:22-22\|fd7a:115c:a1e0::3/128:22-22$'
[[ $(full_maps alice) == "$FULL_ALICE" && $(full_maps bob) == "$FULL_BOB" &&
   $(full_maps carol) == "$FULL_CAROL" ]] || e2e_fail "the policy change sent full maps"
e2e_pass "policy 2 by SIGHUP: a peer disappears from bob's map and appears in carol's, as deltas"

LINES_ALICE=$(wc -l <"$E2E_WORK/alice.log")
echo '{"acls": [{"action": "accept", "src": ["group:ghosts"], "dst": ["*:*"]}]}' >"$POLICY"
kill -HUP "$SERVER_PID"
wait_line server "the refusal" 10 '^\[Policy\] .* refused; the policy in force stays'
grep -q 'acls\[0\].src\[0\] (line 1, column 40): undefined group "group:ghosts"' \
  "$E2E_WORK/server.log" || e2e_fail "the refusal does not name the line"
sleep 1
[[ $(wc -l <"$E2E_WORK/alice.log") == "$LINES_ALICE" ]] || e2e_fail "a refused policy changed a map"
kill -0 "$SERVER_PID" || e2e_fail "the server died on a bad policy"
e2e_pass "a broken policy on SIGHUP is refused with its line; maps unchanged"

# The admin API: policy get shows the text in force (policy 2, not the broken file); policy set
# with a bad text is refused and leaves the file alone; a good one is written and applied.
mh policy get | grep -q '"dst": \["carol@:22"\]' || e2e_fail "policy get does not show policy 2"
echo '{"acls": [{"action": "accept", "src": ["tag:nobody"], "dst": ["*:*"]}]}' >"$E2E_WORK/bad2.hujson"
set +e
mh policy set "$E2E_WORK/bad2.hujson" >"$E2E_WORK/set.out" 2>&1
set_rc=$?
set -e
[[ $set_rc == 1 ]] || e2e_fail "policy set with a bad text: exit $set_rc"
grep -q 'tag \\\?"tag:nobody\\\?" has no owners' "$E2E_WORK/set.out" ||
  e2e_fail "policy set does not say why: $(cat "$E2E_WORK/set.out")"
grep -q 'group:ghosts' "$POLICY" || e2e_fail "a refused policy set changed the file"
cat >"$E2E_WORK/policy3.hujson" <<'POL'
{"acls": [{"action": "accept", "src": ["bob@"], "dst": ["carol@:*"]}]}
POL
mh policy set "$E2E_WORK/policy3.hujson" | grep -q "^Policy set" || e2e_fail "policy set"
cmp -s "$POLICY" "$E2E_WORK/policy3.hujson" || e2e_fail "policy set did not write the file"
wait_line alice "alice loses carol" 10 '^MAP delta SELF alice-laptop PEERS 0$'
wait_line bob "bob gains carol" 10 '^MAP delta .* PEERS 1 carol-pi='
API_KEY=$(mh apikeys create --expiration 1h)
code() { e2e_in c curl -s -o /dev/null -w '%{http_code}' "$@"; }
[[ $(code -X PUT -d '{"policy": "{}"}' "$SERVER/api/v1/policy") == 401 ]] ||
  e2e_fail "PUT /api/v1/policy without a key was not 401"
e2e_in c curl -sf -H "Authorization: Bearer $API_KEY" "$SERVER/api/v1/policy" |
  python3 -c 'import json,sys; d=json.load(sys.stdin); assert "bob@" in d["policy"] and d["updatedAt"], d' ||
  e2e_fail "GET /api/v1/policy with a key"
e2e_pass "policy get/set through the admin API: refused texts change nothing, a good one is written and applied"
echo "control_policy: ok"

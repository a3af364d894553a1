#!/usr/bin/env bash
# acl-engine from outside: the seed's three evaluations on docs/labs/acl-engine (the output shape
# and the exit status), --explain, --test, -o json, and refused policies (exit 2, with the path
# and line of each problem).
set -uo pipefail
build=$1
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
engine="$build/tools/acl-engine/acl-engine"
lab="$root/docs/labs/acl-engine"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$engine" --policy "$lab/policy.hujson" --nodes "$lab/nodes.json" \
  --query "alice@example.com -> dev-server-1:22" \
  --query "alice@example.com -> prod-db:5432" \
  --query "charlie@example.com -> prod-db:5432" >"$work/out" 2>"$work/err"
rc=$?
cat "$work/out"
[[ $rc == 1 ]] || fail "one query is denied: want exit 1, got $rc"
expected='Evaluating: alice@example.com → dev-server-1:22
✓ Matches rule 1: group:devs → tag:dev-servers:*
Decision: ALLOW

Evaluating: alice@example.com → prod-db:5432
✗ No matching rule
Decision: DENY

Evaluating: charlie@example.com → prod-db:5432
✓ Matches rule 2: group:ops → *:*
Decision: ALLOW'
[[ "$(cat "$work/out")" == "$expected" ]] || fail "output differs from the seed's shape"

"$engine" --policy "$lab/policy.hujson" --nodes "$lab/nodes.json" \
  --query "alice@example.com -> dev-server-1:22" --query "bob-desktop -> 100.64.0.10:443" >/dev/null ||
  fail "every query allowed: want exit 0"

"$engine" --policy "$lab/policy.hujson" --nodes "$lab/nodes.json" --explain \
  --query "alice@example.com -> prod-db:5432" >"$work/explain"
grep -q "lacks: destination prod-db is not tag:dev-servers" "$work/explain" || fail "--explain: rule 1"
grep -q "lacks: port 5432 is not" "$work/explain" || fail "--explain: rule 3's ports"

"$engine" --policy "$lab/policy.hujson" --test >"$work/test" || fail "--test on a passing policy"
grep -q "Tests: 3 passed, 0 failed" "$work/test" || fail "--test summary"

"$engine" --policy "$lab/policy.hujson" --nodes "$lab/nodes.json" -o json \
  --query "bob-desktop -> prod-db:53/udp" --explain >"$work/json"
python3 - "$work/json" <<'PY' || fail "-o json"
import json, sys
d = json.load(open(sys.argv[1]))
q = d["queries"][0]
assert q["decision"] == "deny", q
assert q["closest"][0]["rule"] == "rule 1", q
PY

# A refused policy: exit 2, every problem with its path and line; nothing is evaluated.
cat >"$work/bad.hujson" <<'POL'
{
  // two mistakes
  "acls": [
    {"action": "accept", "src": ["group:nobody"], "dst": ["tag:web:99999"]},
  ],
}
POL
"$engine" --policy "$work/bad.hujson" --query "a@b -> 100.64.0.1:1" >"$work/bad.out" 2>"$work/bad.err"
rc=$?
cat "$work/bad.err"
[[ $rc == 2 ]] || fail "bad policy: want exit 2, got $rc"
grep -q 'acls\[0\].src\[0\] (line 4, column 34): undefined group "group:nobody"' "$work/bad.err" ||
  fail "the undefined group's path and line"
grep -q 'acls\[0\].dst\[0\] (line 4, column 59): bad port "99999"' "$work/bad.err" || fail "the bad port"
[[ ! -s "$work/bad.out" ]] || fail "a refused policy evaluates nothing"

# A policy whose own test fails is refused too (exit 2), and says which assertion.
sed 's/"deny": \["tag:prod:5432"\]/"deny": ["tag:dev-servers:22"]/' "$lab/policy.hujson" >"$work/failing.hujson"
"$engine" --policy "$work/failing.hujson" --test >"$work/failing.out"
rc=$?
[[ $rc == 2 ]] || fail "failing test: want exit 2, got $rc"
grep -q "✗ tests\[0\] (line 18): alice@example.com → tag:dev-servers:22 denied: expected denied" \
  "$work/failing.out" || fail "the failing assertion"

# Bad node lists and queries are errors (exit 2), not crashes.
echo '[{"name": "x"}]' >"$work/nodes.json"
"$engine" --policy "$lab/policy.hujson" --nodes "$work/nodes.json" 2>/dev/null; [[ $? == 2 ]] || fail "bad nodes"
"$engine" --policy "$lab/policy.hujson" --query "nonsense" 2>/dev/null; [[ $? == 2 ]] || fail "bad query"
echo "acl_engine: ok"

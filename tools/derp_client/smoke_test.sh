#!/usr/bin/env bash
# A by-hand end-to-end check of derp_client against derp_server (not a ctest): a server on a free
# loopback port, client A receiving, client B sending A three lines, a ping, and short benches.
#   tools/derp_client/smoke_test.sh [BUILD_DIR]        (default: build)
# Prints what it runs and what the clients said; exits non-zero at the first failed check.
set -euo pipefail
build=${1:-build}
server_bin=$build/tools/derp_server/derp_server
client_bin=$build/tools/derp_client/derp_client
work=$(mktemp -d /tmp/derp_smoke.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
# Waits up to 5 s for a line matching $2 in file $1.
wait_for() {
  for _ in $(seq 50); do grep -q "$2" "$1" && return 0; sleep 0.1; done
  fail "no '$2' in $1: $(cat "$1")"
}

"$server_bin" --config "$work/server.key" --stun-port 0 --addr 127.0.0.1:0 >"$work/server.out" 2>&1 &
pids+=($!)
wait_for "$work/server.out" '^Address: '
addr=$(sed -n 's/^Address: //p' "$work/server.out")
pin=$(grep -o 'sha256//[^)]*' "$work/server.out")
server_key=$(sed -n 's/^Server key: //p' "$work/server.out")
echo "== server $addr, pin $pin, $server_key"
common=(--server "https://$addr" --pin "$pin")

"$client_bin" "${common[@]}" >"$work/a.out" 2>&1 &
a_pid=$!
pids+=($a_pid)
wait_for "$work/a.out" '^\[Connected\] server '
a_key=$(sed -n 's/^Public key: //p' "$work/a.out")
echo "== A is $a_key"

printf 'hello A\nsecond line\nthird: ünïcode\n' |
  "$client_bin" "${common[@]}" --send-to "$a_key" >"$work/b.out" 2>&1 || fail "B: $(cat "$work/b.out")"
b_key=$(sed -n 's/^Public key: //p' "$work/b.out")
echo "== B ($b_key) said:"; cat "$work/b.out"
wait_for "$work/a.out" "^\[Recv\] from $b_key: third: ünïcode"
grep -q "^\[Recv\] from $b_key: hello A$" "$work/a.out" || fail "A did not print hello A"
grep -q "^\[Recv\] from $b_key: second line$" "$work/a.out" || fail "A did not print line 2"
kill -INT "$a_pid"
wait "$a_pid" || fail "A exited $?"
echo "== A said:"; cat "$work/a.out"
grep -q '^Packets received: 3 ' "$work/a.out" || fail "A's statistics"

echo "== ping"
"$client_bin" "${common[@]}" --ping --count 3 --interval 100 | tee "$work/ping.out"
grep -q '^3 pings, 3 pongs, min/avg/max = ' "$work/ping.out" || fail "ping summary"
"$client_bin" "${common[@]}" --ping --count 2 --interval 100 -o json 2>/dev/null |
  grep -q '"pongs":2' || fail "ping json"

echo "== bad flags exit 2, no server exits 1"
set +e
"$client_bin" --send-to nodekey:zz 2>/dev/null; [[ $? == 2 ]] || fail "bad --send-to"
"$client_bin" --server https://127.0.0.1:1 --insecure --timeout 0.5 >/dev/null 2>&1
[[ $? == 1 ]] || fail "unreachable server"
set -e

for pairs in 1 8; do
  for size in 1400 64; do
    echo "== bench --pairs $pairs --size $size"
    "$client_bin" "${common[@]}" --bench --pairs "$pairs" --size "$size" --duration 2 -o json \
      2>"$work/bench.err" | tee "$work/bench.json"
    grep -q '"packets_per_s":' "$work/bench.json" || fail "bench json: $(cat "$work/bench.err")"
  done
done
echo "PASS"

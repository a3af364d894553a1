#!/usr/bin/env bash
# The handshake-flood benchmark (issue 18): the same flood, the same legitimate initiator and the
# same procedure against mini-wireguard and against wireguard-go as the responder, in one run.
# Each side gets TRIALS new handshakes (the initiator removes and re-adds its peer mid-flood)
# while wg_flooder sends forged valid-mac1 initiations as fast as it can.
#
#   bench/wg/flood.sh BUILD [TRIALS] [INITIATOR]      (as root; default 20 trials, wireguard-go)
#
# Prints one row per responder and the ratios mini-wireguard / wireguard-go:
#   success          handshakes completed within 15 s (3 x REKEY_TIMEOUT) / trials
#   median, max      time from re-adding the peer to the completed handshake
#   taken off        datagrams the responder read per second (flood sent - kernel drops)
#   cookie replies   per second, as the flooder counted them
#   kernel drops     datagrams the responder's kernel dropped (receive buffer full)
#   pings            of 20 pings across the established tunnel during the flood
#   CPU              responder CPU during the trials, % of one core
# Runs test/e2e/wg_flood_test.sh with WG_FLOOD_ALLOW_FAIL=1 (failures are counted, not fatal).
# Not a test: no pass/fail, run it on a quiet machine.
set -euo pipefail
BUILD=${1:?usage: $0 BUILD [TRIALS] [INITIATOR]}
TRIALS=${2:-20}
INITIATOR=${3:-wireguard-go}
here=$(cd "$(dirname "$0")" && pwd)
script=$here/../../test/e2e/wg_flood_test.sh
[[ $(id -u) -eq 0 ]] || { echo "flood bench: needs root (network namespaces)" >&2; exit 1; }
[[ -x $BUILD/test/e2e/wg_flooder ]] || { echo "build wg_flooder first (ninja -C $BUILD)" >&2; exit 1; }

declare -A RESULT
for responder in mini-wireguard wireguard-go; do
  echo "==> responder $responder, initiator $INITIATOR, $TRIALS trials"
  log=$(mktemp)
  WG_FLOOD_ALLOW_FAIL=1 bash "$script" "$BUILD" "$responder" "$INITIATOR" "$TRIALS" >"$log" 2>&1 ||
    true
  grep -E '^\[e2e.*(trial|PASS|FAIL)' "$log" | sed 's/^/    /' || true
  RESULT[$responder]=$(grep '^flood-result:' "$log" || echo "flood-result: missing")
  rm -f "$log"
done

# key RESPONDER FIELD: one field of a result line.
key() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"${RESULT[$1]}"; }
# stats RESPONDER: "median max" of the successful times (ms), "- -" when none.
stats() {
  key "$1" times_ms | tr ',' '\n' | grep -v fail | sort -n |
    awk '{ a[NR] = $1 } END { if (NR == 0) print "- -"; else print a[int((NR + 1) / 2)], a[NR] }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0 || a == "-" || b == "-") print "-"; else printf "%.2f", a / b }'; }

printf '\n%-15s %8s %8s %8s %12s %14s %12s %6s %5s\n' responder success median max \
  "taken off/s" "cookies/s" "kernel drops" pings CPU
declare -A ROW
for r in mini-wireguard wireguard-go; do
  read -r median max <<<"$(stats "$r")"
  taken=$(key "$r" taken_per_s) drops=$(key "$r" kernel_drops)
  ROW[$r.ok]=$(key "$r" ok) ROW[$r.median]=$median ROW[$r.max]=$max ROW[$r.taken]=$taken
  ROW[$r.cookies]=$(key "$r" cookie_replies_per_s) ROW[$r.drops]=$drops
  ROW[$r.cpu]=$(key "$r" responder_cpu_pct)
  printf '%-15s %8s %8s %8s %12s %14s %12s %6s %4s%%\n' "$r" "${ROW[$r.ok]}/$TRIALS" \
    "${median}" "${max}" "$taken" "${ROW[$r.cookies]}" "$drops" "$(key "$r" pings_under_flood)" \
    "${ROW[$r.cpu]}"
done
m=mini-wireguard g=wireguard-go
printf '%-15s %8s %8s %8s %12s %14s %12s %6s %5s\n' "ratio mini/go" \
  "$(ratio "${ROW[$m.ok]}" "${ROW[$g.ok]}")" "$(ratio "${ROW[$m.median]}" "${ROW[$g.median]}")" \
  "$(ratio "${ROW[$m.max]}" "${ROW[$g.max]}")" "$(ratio "${ROW[$m.taken]}" "${ROW[$g.taken]}")" \
  "$(ratio "${ROW[$m.cookies]}" "${ROW[$g.cookies]}")" "" "" \
  "$(ratio "${ROW[$m.cpu]}" "${ROW[$g.cpu]}")"
echo
for r in mini-wireguard wireguard-go; do echo "${RESULT[$r]}"; done

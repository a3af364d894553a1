#!/usr/bin/env bash
# The measured NAT compatibility matrix of hole punching: one natlab lab with two hosts of every
# NAT behaviour, our rendezvous and stun_server on its public hosts, and hole_punch run for every
# pair of behaviours at once; a pair counts as direct when both sides report a direct path.
#
#   bench/holepunch_matrix.sh [BUILD_DIR] [--birthday] [--check] [--markdown] [--keep-logs DIR]
#
#   --birthday   a second round with --birthday: which extra pairs turn direct, and how long
#                birthday probing took after the 5 s fallback
#   --check      compare with the expected matrix (the seed's, for the standard techniques; see
#                docs/holepunch.md for the one pair where we measure better) and exit 1 on a
#                difference
#   --markdown   print the matrices as Markdown tables (for docs/holepunch.md)
# Needs root (natlab), and hole_punch, rendezvous and stun_server in BUILD_DIR (default: build).
# Exit status: 0 ok, 1 a check failed or a run broke, 77 not root.
set -euo pipefail
export LC_ALL=C.UTF-8 # ${#cell} counts characters (the cells hold ✓ and ✗)

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$SRC/build
BIRTHDAY=0
CHECK=0
MARKDOWN=0
KEEP=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --birthday) BIRTHDAY=1 ;;
    --check) CHECK=1 ;;
    --markdown) MARKDOWN=1 ;;
    --keep-logs) KEEP=${2:?--keep-logs needs a directory}; shift ;;
    -h | --help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "holepunch_matrix: unknown option $1" >&2; exit 2 ;;
    *) BUILD=$1 ;;
  esac
  shift
done
[[ $(id -u) -eq 0 ]] || { echo "holepunch_matrix: needs root (natlab)"; exit 77; }

NATLAB=$SRC/tools/natlab/natlab
HP=$BUILD/tools/hole_punch/hole_punch
RV=$BUILD/tools/rendezvous/rendezvous
STUN=$BUILD/tools/stun_server/stun_server
for b in "$HP" "$RV" "$STUN"; do
  [[ -x $b ]] || { echo "holepunch_matrix: $b is not built (ninja hole_punch rendezvous stun_server)"; exit 1; }
done

LAB="hpm$$"
WORK=$(mktemp -d "/tmp/holepunch-matrix.XXXXXX")
PIDS=()
cleanup() {
  local rc=$?
  set +e
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  "$NATLAB" --name "$LAB" down >/dev/null 2>&1
  if [[ -n $KEEP ]]; then
    mkdir -p "$KEEP" && cp -r "$WORK"/. "$KEEP"/
  fi
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
nl() { "$NATLAB" --name "$LAB" "$@"; }

BEHS=(none full-cone restricted-cone port-restricted-cone symmetric udp-blocked)
SHORT=(none full-cone restricted port-restr symmetric udp-blocked)
LETTERS=(a b c d e f g h i j k l)
# Two hosts per behaviour: behaviour k is on hosts LETTERS[2k] and LETTERS[2k+1].
topo="hosts:"
for b in "${BEHS[@]}"; do topo+="$b,$b,"; done
topo=${topo%,}

RENDEZVOUS=203.0.113.20:9000
STUN_SERVERS=203.0.113.10:3478,203.0.113.11:3479
echo "Building the lab ($topo)..."
nl up "$topo" >"$WORK/up.log" 2>&1 || { cat "$WORK/up.log"; exit 1; }
nl exec rendezvous -- "$RV" --listen "$RENDEZVOUS" --quiet >"$WORK/rendezvous.log" 2>&1 &
PIDS+=("$!")
nl exec stun -- "$STUN" --listen 203.0.113.10:3478 --alt_address 203.0.113.11 --alt_port 3479 \
  >"$WORK/stun.log" 2>&1 &
PIDS+=("$!")
for _ in $(seq 50); do
  grep -q "listening on" "$WORK/rendezvous.log" 2>/dev/null && grep -q ":3479" "$WORK/stun.log" 2>/dev/null && break
  sleep 0.1
done

declare -A RESULT TIME
# round NAME [FLAGS...]: every pair (i <= j) at once; RESULT[NAME,i,j] = direct|relay. A round
# named other than "std" copies the udp-blocked pairs from "std" (nothing can change them).
round() {
  local name=$1
  shift
  local i j pids=()
  for ((i = 0; i < ${#BEHS[@]}; i++)); do
    for ((j = i; j < ${#BEHS[@]}; j++)); do
      if [[ $name != std && ${BEHS[j]} == udp-blocked ]]; then
        RESULT[$name,$i,$j]=${RESULT[std,$i,$j]}
        TIME[$name,$i,$j]=${TIME[std,$i,$j]}
        continue
      fi
      local ha=${LETTERS[2 * i]} hb=${LETTERS[2 * j + 1]} tag="$name$i$j"
      nl exec "$ha" -- "$HP" --rendezvous "$RENDEZVOUS" --stun "$STUN_SERVERS" \
        --name "$tag-a-$$" --peer "$tag-b-$$" --wait 8s --message "" "$@" \
        >"$WORK/$tag-a.log" 2>&1 &
      pids+=("$!")
      nl exec "$hb" -- "$HP" --rendezvous "$RENDEZVOUS" --stun "$STUN_SERVERS" \
        --name "$tag-b-$$" --peer "$tag-a-$$" --wait 8s --message "" "$@" \
        >"$WORK/$tag-b.log" 2>&1 &
      pids+=("$!")
    done
  done
  PIDS+=("${pids[@]}")
  local p
  for p in "${pids[@]}"; do wait "$p" || true; done
  for ((i = 0; i < ${#BEHS[@]}; i++)); do
    for ((j = i; j < ${#BEHS[@]}; j++)); do
      [[ $name != std && ${BEHS[j]} == udp-blocked ]] && continue
      local tag="$name$i$j" ra rb ta tb
      ra=$(sed -n 's/^Result: \([a-z-]*\).*/\1/p' "$WORK/$tag-a.log")
      rb=$(sed -n 's/^Result: \([a-z-]*\).*/\1/p' "$WORK/$tag-b.log")
      [[ -n $ra && -n $rb ]] || { echo "pair $tag: no Result line"; tail -5 "$WORK/$tag-a.log" "$WORK/$tag-b.log"; exit 1; }
      if [[ $ra == direct && $rb == direct ]]; then
        RESULT[$name,$i,$j]=direct
        ta=$(sed -n 's/^Result: .* time_s=\([0-9.]*\).*/\1/p' "$WORK/$tag-a.log")
        tb=$(sed -n 's/^Result: .* time_s=\([0-9.]*\).*/\1/p' "$WORK/$tag-b.log")
        TIME[$name,$i,$j]=$(awk -v a="$ta" -v b="$tb" 'BEGIN { printf "%.2f", (a > b ? a : b) }')
      else
        RESULT[$name,$i,$j]=relay
        TIME[$name,$i,$j]=""
      fi
    done
  done
}

cell() { # NAME I J: the text of a cell (symmetric matrix)
  local name=$1 i=$2 j=$3
  ((i > j)) && { local t=$i; i=$j; j=$t; }
  if [[ ${RESULT[$name,$i,$j]} == direct ]]; then
    echo "✓ ${TIME[$name,$i,$j]}s"
  else
    echo "✗ relay"
  fi
}

print_matrix() { # NAME TITLE
  local name=$1 title=$2 i j
  echo
  echo "$title"
  if [[ $MARKDOWN -eq 1 ]]; then
    local head="| A \\ B |" sep="|---|"
    for ((j = 0; j < ${#BEHS[@]}; j++)); do head+=" ${SHORT[j]} |"; sep+="---|"; done
    echo "$head"
    echo "$sep"
    for ((i = 0; i < ${#BEHS[@]}; i++)); do
      local row="| **${SHORT[i]}** |"
      for ((j = 0; j < ${#BEHS[@]}; j++)); do row+=" $(cell "$name" "$i" "$j") |"; done
      echo "$row"
    done
  else
    printf '%-12s' "A \\ B"
    for ((j = 0; j < ${#BEHS[@]}; j++)); do printf ' %-12s' "${SHORT[j]}"; done
    echo
    for ((i = 0; i < ${#BEHS[@]}; i++)); do
      printf '%-12s' "${SHORT[i]}"
      for ((j = 0; j < ${#BEHS[@]}; j++)); do
        local c
        c=$(cell "$name" "$i" "$j")
        printf ' %s%*s' "$c" $((12 - ${#c})) ""
      done
      echo
    done
  fi
}

# What standard punching (STUN + rendezvous candidates, peer-reflexive learning) must give:
# direct unless UDP is blocked, both NATs are symmetric, or a symmetric NAT meets one that admits
# only the exact address:port it sent to (port-restricted). The seed's matrix agrees everywhere
# except symmetric <-> restricted cone, which it marks as failing and which we measure direct.
expected_standard() { # I J -> direct|relay
  local a=${BEHS[$1]} b=${BEHS[$2]}
  [[ $a == udp-blocked || $b == udp-blocked ]] && { echo relay; return; }
  [[ $a == symmetric && $b == symmetric ]] && { echo relay; return; }
  [[ $a == symmetric && $b == port-restricted-cone ]] && { echo relay; return; }
  [[ $b == symmetric && $a == port-restricted-cone ]] && { echo relay; return; }
  echo direct
}
expected_birthday() { # I J: birthday probing also opens symmetric <-> port-restricted
  local a=${BEHS[$1]} b=${BEHS[$2]}
  if [[ ($a == symmetric && $b == port-restricted-cone) || ($b == symmetric && $a == port-restricted-cone) ]]; then
    echo direct
  else
    expected_standard "$1" "$2"
  fi
}

start=$SECONDS
echo "Round 1: standard punching (all 21 pairs at once, 5 s bound)..."
round std
t1=$((SECONDS - start))
print_matrix std "Direct connection matrix, standard punching (natlab; time = until both sides were direct, from the peer info; ✗ = fall back to relay):"
if [[ $BIRTHDAY -eq 1 ]]; then
  start=$SECONDS
  echo
  echo "Round 2: the same with --birthday (after the 5 s fallback: 256 sockets on the symmetric"
  echo "side, 200 probes/s from the other, for up to 30 s; udp-blocked pairs as in round 1)..."
  round bday --birthday --birthday-timeout 30s
  t2=$((SECONDS - start))
  print_matrix bday "Direct connection matrix with birthday probing (time includes the 5 s standard attempt):"
  echo
  echo "Turned direct by birthday probing:"
  any=0
  for ((i = 0; i < ${#BEHS[@]}; i++)); do
    for ((j = i; j < ${#BEHS[@]}; j++)); do
      if [[ ${RESULT[std,$i,$j]} == relay && ${RESULT[bday,$i,$j]} == direct ]]; then
        echo "  ${BEHS[i]} <-> ${BEHS[j]}: direct after ${TIME[bday,$i,$j]}s (probing: $(awk -v t="${TIME[bday,$i,$j]}" 'BEGIN { printf "%.2f", t - 5 }')s after the fallback)"
        any=1
      fi
    done
  done
  [[ $any -eq 1 ]] || echo "  none"
fi
echo
echo "(round 1 took ${t1}s${t2:+, round 2 ${t2}s}; seed's matrix: symmetric <-> restricted cone fails, we measure it direct: see docs/holepunch.md)"

if [[ $CHECK -eq 1 ]]; then
  bad=0
  for ((i = 0; i < ${#BEHS[@]}; i++)); do
    for ((j = i; j < ${#BEHS[@]}; j++)); do
      want=$(expected_standard "$i" "$j")
      if [[ ${RESULT[std,$i,$j]} != "$want" ]]; then
        echo "CHECK FAILED: ${BEHS[i]} <-> ${BEHS[j]}: measured ${RESULT[std,$i,$j]}, expected $want"
        bad=1
      fi
      if [[ $BIRTHDAY -eq 1 ]]; then
        want=$(expected_birthday "$i" "$j")
        if [[ ${RESULT[bday,$i,$j]} != "$want" ]]; then
          echo "CHECK FAILED (birthday): ${BEHS[i]} <-> ${BEHS[j]}: measured ${RESULT[bday,$i,$j]}, expected $want"
          bad=1
        fi
      fi
    done
  done
  if [[ $bad -ne 0 ]]; then
    KEEP=${KEEP:-/tmp/holepunch-matrix-failed.$$}
    echo "logs kept in $KEEP"
    exit 1
  fi
  echo "CHECK OK: the measured matrix agrees with the expected one (cone pairs direct; symmetric <-> port-restricted and symmetric <-> symmetric fall back to relay; UDP blocked never direct${BIRTHDAY:+; birthday probing opens symmetric <-> port-restricted})"
fi

#!/usr/bin/env bash
# noise_handshake (deep dive project 6, C project 4): an initiator and a responder in two network
# namespaces run the IKpsk2 handshake (and XX) over real UDP; both must print the same handshake
# hash and decrypt every transport message. A wrong -peer-public-key must fail cleanly on both
# sides (exit 1, "Handshake failed", no transport).
#   noise_handshake_test.sh BUILD_DIR
source "$(dirname "$0")/lib/netns.sh"
BUILD=${1:?build dir}
TOOL="$BUILD/tools/noise_handshake/noise_handshake"
[[ -x "$TOOL" ]] || e2e_fail "no $TOOL (build the noise_handshake target)"

e2e_init noise
e2e_pair left right 213
W=$E2E_WORK
"$TOOL" -genkey >"$W/a.key"
"$TOOL" -genkey >"$W/b.key"
"$TOOL" -genkey >"$W/c.key"
"$TOOL" -genkey >"$W/psk"
A=$("$TOOL" -pubkey -private-key-file "$W/a.key")
B=$("$TOOL" -pubkey -private-key-file "$W/b.key")
C=$("$TOOL" -pubkey -private-key-file "$W/c.key")

# run_pair NAME RESPONDER_ARGS -- INITIATOR_ARGS: starts the responder on 10.213.0.2:51820, waits
# until it listens, runs the initiator; sets RC_I and RC_R.
run_pair() {
  local name=$1; shift
  local rargs=() iargs=()
  while [[ $1 != -- ]]; do rargs+=("$1"); shift; done
  shift
  iargs=("$@")
  e2e_bg right "${name}_r" "$TOOL" -role responder -listen :51820 -timeout 8s "${rargs[@]}"
  local rpid=$E2E_LAST_PID
  e2e_wait "responder $name listening" 5 grep -q "Waiting for a handshake" "$W/${name}_r.log"
  set +e
  e2e_in left "$TOOL" -role initiator -peer "$E2E_right_IP:51820" -timeout 4s "${iargs[@]}" \
    >"$W/${name}_i.log" 2>&1
  RC_I=$?
  wait "$rpid"
  RC_R=$?
  set -e
}

hash_of() { sed -n 's/^Handshake hash: \([0-9a-f]\{64\}\)$/\1/p' "$1"; }

check_success() {
  local name=$1 messages=$2
  [[ $RC_I -eq 0 ]] || e2e_fail "$name: initiator exit $RC_I"
  [[ $RC_R -eq 0 ]] || e2e_fail "$name: responder exit $RC_R"
  local hi hr
  hi=$(hash_of "$W/${name}_i.log")
  hr=$(hash_of "$W/${name}_r.log")
  [[ -n $hi && $hi == "$hr" ]] || e2e_fail "$name: handshake hashes differ ('$hi' vs '$hr')"
  for i in $(seq "$messages"); do
    grep -q "^Received: \"Hello, secure world! #$i\"$" "$W/${name}_r.log" ||
      e2e_fail "$name: responder did not decrypt message $i"
    grep -q "^Received: \"Hello back, securely! #$i\"$" "$W/${name}_i.log" ||
      e2e_fail "$name: initiator did not decrypt reply $i"
  done
  e2e_pass "$name: same handshake hash ${hi:0:12}..., $messages messages each way"
}

# 1. IKpsk2 with a psk, keys checked on both sides.
run_pair ikpsk2 -private-key-file "$W/b.key" -peer-public-key "$A" -psk-file "$W/psk" -messages 3 \
  -- -private-key-file "$W/a.key" -peer-public-key "$B" -psk-file "$W/psk" -messages 3
check_success ikpsk2 3
grep -q "^Sending message 1: -> e, es, s, ss$" "$W/ikpsk2_i.log" || e2e_fail "tokens of message 1"
grep -q "^Received message 2: <- e, ee, se, psk$" "$W/ikpsk2_i.log" || e2e_fail "tokens of message 2"

# 2. XX with the reference backend on one side.
run_pair xx --pattern XX -private-key-file "$W/b.key" -peer-public-key "$A" \
  -- --pattern XX -private-key-file "$W/a.key" -peer-public-key "$B" -backend ref
check_success xx 2

# 3. Wrong responder key at the initiator: the responder cannot decrypt message 1.
run_pair wrongkey -private-key-file "$W/b.key" \
  -- -private-key-file "$W/a.key" -peer-public-key "$C"
[[ $RC_R -eq 1 ]] || e2e_fail "wrong key: responder exit $RC_R, want 1"
[[ $RC_I -eq 1 ]] || e2e_fail "wrong key: initiator exit $RC_I, want 1"
grep -q "^Handshake failed: noise: decryption failed" "$W/wrongkey_r.log" ||
  e2e_fail "wrong key: responder did not report the failed decryption"
grep -q "timed out" "$W/wrongkey_i.log" || e2e_fail "wrong key: initiator did not time out"
if grep -q "Handshake complete\|^Received: " "$W/wrongkey_i.log" "$W/wrongkey_r.log"; then
  e2e_fail "wrong key: something completed or was decrypted"
fi
e2e_pass "wrong peer key: responder rejects message 1, nothing decrypted"

# 4. Different psks: the initiator rejects the response.
"$TOOL" -genkey >"$W/psk2"
run_pair wrongpsk -private-key-file "$W/b.key" -psk-file "$W/psk2" \
  -- -private-key-file "$W/a.key" -peer-public-key "$B" -psk-file "$W/psk"
[[ $RC_I -eq 1 ]] || e2e_fail "wrong psk: initiator exit $RC_I, want 1"
grep -q "^Handshake failed: noise: decryption failed" "$W/wrongpsk_i.log" ||
  e2e_fail "wrong psk: initiator did not report the failed decryption"
e2e_pass "different psks: initiator rejects message 2"

# Shared helpers for end-to-end scenarios: network namespaces joined by veth, background processes,
# waiting and checking. Source it from a test script; everything it creates is removed on exit,
# also when the test fails or is interrupted.
#
#   source "$(dirname "$0")/lib/netns.sh"
#   e2e_init tunnel                   # unique names: mvpn-tunnel-<pid>-*
#   e2e_pair left right               # namespaces $E2E_left / $E2E_right, veth 10.<n>.0.1/.2
#   e2e_bg left log_a cmd args...     # run in the background inside a namespace, output to a log
#   e2e_wait "what" 10 cmd args...    # retry a command for up to 10 s
#   e2e_pass "message" / e2e_fail "message"

set -euo pipefail

E2E_NAMESPACES=()
E2E_PIDS=()
E2E_LINKS=()
# Commands run first at cleanup (servers a script started by other means, e.g. pg_ctl).
E2E_CLEANUP_HOOKS=()

e2e_log() { printf '[e2e %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
e2e_fail() {
  e2e_log "FAIL: $*"
  exit 1
}
e2e_pass() { e2e_log "PASS: $*"; }

e2e_cleanup() {
  local rc=$?
  set +e
  for hook in "${E2E_CLEANUP_HOOKS[@]}"; do eval "$hook"; done
  for pid in "${E2E_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${E2E_PIDS[@]}"; do
    for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
  done
  for link in "${E2E_LINKS[@]}"; do ip link del "$link" 2>/dev/null; done
  for ns in "${E2E_NAMESPACES[@]}"; do ip netns del "$ns" 2>/dev/null; done
  if [[ $rc -ne 0 && -n "${E2E_WORK:-}" ]]; then
    for f in "$E2E_WORK"/*.log; do
      [[ -f "$f" ]] || continue
      echo "----- $(basename "$f") (last 40 lines) -----"
      tail -n 40 "$f"
    done
  fi
  [[ -n "${E2E_WORK:-}" ]] && rm -rf "$E2E_WORK"
  exit $rc
}

# e2e_init NAME: checks for root, sets the unique prefix and the work directory, installs cleanup.
e2e_init() {
  [[ $(id -u) -eq 0 ]] || { echo "e2e: needs root (network namespaces)"; exit 77; }
  E2E_PREFIX="mvpn-$1-$$"
  E2E_WORK=$(mktemp -d "/tmp/$E2E_PREFIX.XXXXXX")
  trap e2e_cleanup EXIT
  trap 'exit 130' INT TERM
}

# e2e_ns NAME: creates namespace $E2E_PREFIX-NAME with loopback up; sets E2E_<NAME>.
e2e_ns() {
  local ns="$E2E_PREFIX-$1"
  ip netns add "$ns"
  E2E_NAMESPACES+=("$ns")
  ip -n "$ns" link set lo up
  printf -v "E2E_$1" '%s' "$ns"
}

# e2e_pair A B [SUBNET_INDEX]: namespaces A and B joined by a veth pair with
# 10.<idx>.0.1/24 + fd00:<idx>::1/64 on A and .2 / ::2 on B. Sets E2E_<A>_IP, E2E_<B>_IP,
# E2E_<A>_IP6, E2E_<B>_IP6 and E2E_<A>_DEV / E2E_<B>_DEV (the veth names inside each namespace).
e2e_pair() {
  local a=$1 b=$2 idx=${3:-201}
  e2e_ns "$a"
  e2e_ns "$b"
  local nsa="$E2E_PREFIX-$a" nsb="$E2E_PREFIX-$b"
  local va="v$$a${idx}" vb="v$$b${idx}"
  va=${va:0:15}; vb=${vb:0:15}
  ip link add "$va" netns "$nsa" type veth peer name "$vb" netns "$nsb"
  ip -n "$nsa" addr add "10.$idx.0.1/24" dev "$va"
  ip -n "$nsb" addr add "10.$idx.0.2/24" dev "$vb"
  ip -n "$nsa" addr add "fd00:$idx::1/64" dev "$va" nodad
  ip -n "$nsb" addr add "fd00:$idx::2/64" dev "$vb" nodad
  ip -n "$nsa" link set "$va" up
  ip -n "$nsb" link set "$vb" up
  printf -v "E2E_${a}_IP" '%s' "10.$idx.0.1"
  printf -v "E2E_${b}_IP" '%s' "10.$idx.0.2"
  printf -v "E2E_${a}_IP6" '%s' "fd00:$idx::1"
  printf -v "E2E_${b}_IP6" '%s' "fd00:$idx::2"
  printf -v "E2E_${a}_DEV" '%s' "$va"
  printf -v "E2E_${b}_DEV" '%s' "$vb"
}

# e2e_in NAME CMD...: runs a command inside namespace NAME.
e2e_in() {
  local ns="$E2E_PREFIX-$1"; shift
  ip netns exec "$ns" "$@"
}

# e2e_bg NAME LOG CMD...: starts CMD in namespace NAME in the background, output to
# $E2E_WORK/LOG.log; its pid goes to E2E_LAST_PID and is killed at cleanup.
e2e_bg() {
  local ns="$E2E_PREFIX-$1" log="$E2E_WORK/$2.log"; shift 2
  ip netns exec "$ns" "$@" >"$log" 2>&1 &
  E2E_LAST_PID=$!
  E2E_PIDS+=("$E2E_LAST_PID")
}

# e2e_wait WHAT SECONDS CMD...: retries CMD every 0.1 s until it succeeds or time runs out.
e2e_wait() {
  local what=$1 secs=$2; shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || e2e_fail "timed out after ${secs}s waiting for: $what"
    sleep 0.1
  done
}

# e2e_stop PID: sends SIGINT (tools print their statistics on it) and waits for the exit.
e2e_stop() {
  local pid=$1
  kill -INT "$pid" 2>/dev/null || return 0
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}

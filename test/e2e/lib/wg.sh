# Shared helpers for WireGuard interop scenarios: start a userspace WireGuard implementation
# (wireguard-go, or our mini-wireguard which behaves the same way) inside a network namespace,
# configure it with the standard `wg` tool, wait for handshakes, read `wg show`, stop it by pid.
# Builds on lib/netns.sh; source this file instead of it.
#
#   source "$(dirname "$0")/lib/wg.sh"
#   wg_init interop "$BUILD"            # e2e_init + the wg cleanup/diagnostics hook
#   wg_require wireguard-go             # exit 77 (skip) when a Debian tool is missing, fail when
#                                       # one of our binaries is not built
#   e2e_pair left right 209
#   wg_start left wireguard-go          # daemon in $E2E_left; sets WG_IFACE[left], WG_PID[left]
#   wg_genkey left                      # WG_KEYFILE[left], WG_PUB[left]
#   wg_in left setconf "${WG_IFACE[left]}" FILE   (= ip netns exec … wg setconf …)
#   wg_wait_handshake left "${WG_PUB[right]}" 10
#   wg_stop left                        # SIGTERM by pid; checks socket and TUN link are gone
#
# Both implementations are started as `IMPL -f IFACE`: foreground, TUN device IFACE in the
# namespace, UAPI socket /var/run/wireguard/IFACE.sock. That directory is NOT per namespace (the
# mount namespace is shared), so interface names must be unique on the host: wg_start makes
# them from the side name and the test's pid. `wg` finds a userspace interface by that socket.

source "$(dirname "${BASH_SOURCE[0]}")/netns.sh"

WG_SOCK_DIR=/var/run/wireguard
declare -A WG_IFACE=() WG_IMPL=() WG_PID=() WG_OUT=() WG_KEYFILE=() WG_PUB=()
WG_SIDES=()
WG_GROUPS=()

# wg_init NAME BUILD: e2e_init, then chains wg_on_exit in front of e2e_cleanup.
wg_init() {
  WG_BUILD=$2
  e2e_init "$1"
  trap 'WG_RC=$?; set +e; wg_on_exit "$WG_RC"; (exit "$WG_RC"); e2e_cleanup' EXIT
}

# wg_impl_path IMPL: the executable of an implementation.
wg_impl_path() {
  case $1 in
    wireguard-go) command -v wireguard-go || echo /usr/bin/wireguard-go ;;
    mini-wireguard) echo "$WG_BUILD/tools/mini-wireguard/mini-wireguard" ;;
    *) e2e_fail "unknown implementation '$1' (wireguard-go or mini-wireguard)" ;;
  esac
}

# wg_require IMPL...: wg, nc and wireguard-go are Debian packages (missing: skip, 77);
# mini-wireguard is ours (missing: a clear failure).
wg_require() {
  local tool impl
  for tool in wg nc sha256sum; do
    command -v $tool >/dev/null ||
      { echo "SKIP: $tool is not installed (cmake/debian-packages.txt)"; exit 77; }
  done
  for impl in "$@"; do
    case $impl in
      wireguard-go)
        command -v wireguard-go >/dev/null ||
          { echo "SKIP: wireguard-go is not installed (Debian package wireguard-go)"; exit 77; } ;;
      mini-wireguard)
        [[ -x $(wg_impl_path mini-wireguard) ]] ||
          e2e_fail "mini-wireguard is not built: $(wg_impl_path mini-wireguard) does not exist" ;;
      *) wg_impl_path "$impl" >/dev/null ;;
    esac
  done
}

# wg_in SIDE WG-ARGS...: runs `wg WG-ARGS...` inside the side's namespace (bounded: a hung daemon
# must not hang the test).
wg_in() {
  local side=$1; shift
  e2e_in "$side" timeout 10 wg "$@"
}

# wg_start SIDE IMPL [IFACE]: starts IMPL -f IFACE in namespace SIDE and waits until the UAPI
# socket answers `wg show` and the TUN link exists. Output goes to $E2E_WORK/wg-SIDE.out.
wg_start() {
  local side=$1 impl=$2 iface=${3:-wg${1:0:1}$$}
  local bin out="$E2E_WORK/wg-$side.out" ns="$E2E_PREFIX-$side"
  bin=$(wg_impl_path "$impl")
  ((${#iface} <= 15)) || e2e_fail "interface name $iface is longer than 15 characters"
  if [[ -S $WG_SOCK_DIR/$iface.sock ]] && timeout 2 wg show "$iface" >/dev/null 2>&1; then
    e2e_fail "$WG_SOCK_DIR/$iface.sock is already in use by another process"
  fi
  e2e_log "starting $impl -f $iface in namespace $side"
  # LOG_LEVEL=verbose: wireguard-go logs handshakes, keepalives and endpoint changes (default
  # is errors only). WG_PROCESS_FOREGROUND=1 only silences its "kernel has WireGuard" banner;
  # -f already keeps it in the foreground.
  # WG_MINI_ARGS: extra flags for mini-wireguard only (e.g. --offload for the offload variants).
  local extra=()
  [[ $impl == mini-wireguard && -n ${WG_MINI_ARGS:-} ]] && read -r -a extra <<<"$WG_MINI_ARGS"
  ip netns exec "$ns" env LOG_LEVEL=verbose WG_PROCESS_FOREGROUND=1 "$bin" "${extra[@]}" \
    -f "$iface" >"$out" 2>&1 </dev/null &
  local pid=$!
  E2E_PIDS+=("$pid")
  WG_IFACE[$side]=$iface WG_IMPL[$side]=$impl WG_PID[$side]=$pid WG_OUT[$side]=$out
  WG_SIDES+=("$side")
  local deadline=$((SECONDS + 10)) start=$EPOCHREALTIME
  until [[ -S $WG_SOCK_DIR/$iface.sock ]] && wg_in "$side" show "$iface" >/dev/null 2>&1 &&
    ip -n "$ns" link show "$iface" >/dev/null 2>&1; do
    if ! kill -0 "$pid" 2>/dev/null; then
      local rc=0
      wait "$pid" || rc=$?
      e2e_fail "$impl -f $iface exited with $rc at start"
    fi
    ((SECONDS < deadline)) || e2e_fail "$impl -f $iface: no UAPI socket / TUN link after 10 s"
    sleep 0.05
  done
  e2e_log "$impl is up (pid $pid, interface $iface; socket, link and wg show ready after" \
    "$(wg_ms_since "$start") ms)"
}

# wg_ms_since EPOCHREALTIME: milliseconds since then.
wg_ms_since() {
  local now=$EPOCHREALTIME
  now=${now//[.,]/}
  echo $(((10#$now - 10#${1//[.,]/}) / 1000))
}

# wg_stop SIDE: SIGTERM by pid; the daemon must exit within 5 s and remove its UAPI socket and
# TUN link, as wireguard-go does.
wg_stop() {
  local side=$1 pid=${WG_PID[$1]} iface=${WG_IFACE[$1]} impl=${WG_IMPL[$1]} rc
  [[ -n $pid ]] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    kill -9 "$pid" 2>/dev/null
    e2e_fail "$impl ($side, pid $pid) did not exit within 5 s of SIGTERM"
  fi
  wait "$pid" 2>/dev/null && rc=0 || rc=$?
  WG_PID[$side]=
  [[ ! -e $WG_SOCK_DIR/$iface.sock ]] || e2e_fail "$impl left $WG_SOCK_DIR/$iface.sock behind"
  ! ip -n "$E2E_PREFIX-$side" link show "$iface" >/dev/null 2>&1 ||
    e2e_fail "$impl left the TUN link $iface behind"
  e2e_log "$impl ($side) exited with $rc on SIGTERM; socket and link removed"
}

# wg_bg SIDE NAME CMD...: like e2e_bg (output to $E2E_WORK/NAME.log, pid in WG_BG_PID), but CMD
# runs in a process group of its own, so a pipeline (sh -c "… | nc …") is stopped as a whole at
# cleanup, not just its shell. setsid does not fork here (a background job is no group leader),
# so the pid is also the group id.
wg_bg() {
  local ns="$E2E_PREFIX-$1" log="$E2E_WORK/$2.log"; shift 2
  setsid ip netns exec "$ns" "$@" >"$log" 2>&1 </dev/null &
  WG_BG_PID=$!
  E2E_PIDS+=("$WG_BG_PID")
  WG_GROUPS+=("$WG_BG_PID")
}

# wg_genkey SIDE: a private key in $E2E_WORK/SIDE.key (mode 600); WG_PUB[SIDE] its public key.
wg_genkey() {
  (umask 077; wg genkey >"$E2E_WORK/$1.key")
  WG_KEYFILE[$1]=$E2E_WORK/$1.key
  WG_PUB[$1]=$(wg pubkey <"$E2E_WORK/$1.key")
}

# wg_addr SIDE CIDR4 CIDR6: addresses on the tunnel interface, link up.
wg_addr() {
  local side=$1 iface=${WG_IFACE[$1]}
  ip -n "$E2E_PREFIX-$side" addr add "$2" dev "$iface"
  ip -n "$E2E_PREFIX-$side" addr add "$3" dev "$iface" nodad
  ip -n "$E2E_PREFIX-$side" link set "$iface" up
}

# wg_field SIDE SUBCOMMAND PEER: the value `wg show IFACE SUBCOMMAND` prints for PEER
# (latest-handshakes, endpoints, preshared-keys, allowed-ips, persistent-keepalive; transfer
# prints "rx tx").
wg_field() {
  wg_in "$1" show "${WG_IFACE[$1]}" "$2" | awk -v p="$3" '$1 == p { $1 = ""; sub(/^ /, ""); print }'
}

# wg_latest_handshake SIDE PEER: unix time of the last handshake with PEER (0: none yet).
wg_latest_handshake() {
  local t
  t=$(wg_field "$1" latest-handshakes "$2")
  echo "${t:-0}"
}

# wg_wait_handshake SIDE PEER SECONDS [AFTER]: waits until SIDE's latest handshake with PEER is
# later than AFTER (default 0). Does not send anything itself: start traffic first.
wg_wait_handshake() {
  local side=$1 peer=$2 secs=$3 after=${4:-0} t
  local deadline=$((SECONDS + secs))
  while :; do
    t=$(wg_latest_handshake "$side" "$peer")
    ((t > after)) && return 0
    ((SECONDS < deadline)) ||
      e2e_fail "no handshake on $side (${WG_IMPL[$side]}) with its peer within ${secs}s"
    sleep 0.1
  done
}

# wg_dump SIDE: the state of one side, for failure reports.
wg_dump() {
  local side=$1 ns="$E2E_PREFIX-$1" iface=${WG_IFACE[$1]}
  echo "----- $side: ${WG_IMPL[$side]} -f $iface (pid ${WG_PID[$side]:-stopped}) -----"
  if [[ -n ${WG_PID[$side]} ]]; then
    kill -0 "${WG_PID[$side]}" 2>/dev/null || echo "(the process is no longer running)"
    timeout 3 ip netns exec "$ns" wg show "$iface" 2>&1
    echo "latest-handshakes: $(timeout 3 ip netns exec "$ns" wg show "$iface" latest-handshakes \
      2>&1 | tr '\t\n' ' ') (now $(date +%s))"
  fi
  ip -n "$ns" -brief addr 2>&1
  ip -n "$ns" -s link show "$iface" 2>&1 | sed -n '1,6p'
  echo "----- $side: last 60 lines of ${WG_IMPL[$side]}'s output -----"
  grep -v 'Routine:' "${WG_OUT[$side]}" 2>/dev/null | tail -n 60
}

# Runs before e2e_cleanup: on failure print each side's wg show and log; then stop every daemon
# still running (SIGTERM by pid, SIGKILL after 3 s), remove sockets they left behind, and stop
# the process groups wg_bg started (by their ids).
wg_on_exit() {
  local rc=$1 side pid iface
  if [[ $rc -ne 0 && ${#WG_SIDES[@]} -gt 0 ]]; then
    e2e_log "failed (exit $rc); state of each side follows"
    for side in "${WG_SIDES[@]}"; do wg_dump "$side"; done
  fi
  for pid in "${WG_GROUPS[@]}"; do kill -TERM -- "-$pid" 2>/dev/null; done
  for side in "${WG_SIDES[@]}"; do
    pid=${WG_PID[$side]}
    [[ -n $pid ]] && kill -TERM "$pid" 2>/dev/null
  done
  for side in "${WG_SIDES[@]}"; do
    pid=${WG_PID[$side]} iface=${WG_IFACE[$side]}
    if [[ -n $pid ]]; then
      for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null
    fi
    [[ -n $iface ]] && rm -f "$WG_SOCK_DIR/$iface.sock"
  done
  for pid in "${WG_GROUPS[@]}"; do kill -KILL -- "-$pid" 2>/dev/null; done
  return 0
}

#!/usr/bin/env bash
# Where two WireGuard daemons spend their CPU, from a `perf record -g` profile (cpu-clock) of both.
# Each sample goes in one bucket: the system call it happened in (write, readv, sendmmsg, ...;
# kernel samples and libc-wrapper samples alike) or the user-space code it hit (ChaCha20,
# Poly1305, the daemon's own code, ...). Inside a system call the kernel work is split further:
# the network stack receiving a packet (the inner packet on its way to a local socket, or the outer
# datagram delivered inline to the peer namespace behind the veth), the output path, packet
# buffers, copies, scheduling and wake-ups.
#
# Debian's libcrypto has no symbols for its assembly, so a sample in its unnamed code is named from
# the instructions around it: ChaCha20 works on 32-bit lanes (vprold, vpaddd, vpxord, pshufb),
# Poly1305 on 64-bit lanes holding 26- or 44-bit limbs (vpmuludq, vpmadd52, vpsrlq, vpaddq). Where
# neither dominates it says "libcrypto, unnamed code".
#
# usage: bench/tunnel/perf_breakdown.sh PERF_DATA SENDER_PID RECEIVER_PID
set -euo pipefail
[[ $# -eq 3 ]] || { echo "usage: $0 PERF_DATA SENDER_PID RECEIVER_PID" >&2; exit 2; }
data=$1 sender=$2 receiver=$3
work=$(mktemp -d /tmp/perf-breakdown.XXXXXX)
trap 'rm -rf "$work"' EXIT

# One header line per sample (" PID/TID"), then its frames leaf first ("\tADDR SYMBOL (DSO)").
perf script -i "$data" -F pid,tid,ip,sym,dso 2>/dev/null >"$work/script.txt"

# Unnamed libcrypto code: each sampled leaf address is named from the SIMD instructions within
# 128 bytes of it.
awk '/^ *[0-9]+\/ *[0-9]+/ { leaf = 1; next }
     leaf && NF >= 3 { leaf = 0; if ($2 == "[unknown]" && $NF ~ /libcrypto/) print $1, $NF }' \
  "$work/script.txt" | sort -u >"$work/unnamed.txt"
: >"$work/crypto-map.txt"
if [[ -s $work/unnamed.txt ]]; then
  lib=$(awk 'NR == 1 { l = $2; gsub(/[()]/, "", l); print l }' "$work/unnamed.txt")
  objdump -d --no-show-raw-insn "$lib" 2>/dev/null | awk -v samples="$work/unnamed.txt" '
    function hex(s,   i, n) {
      n = 0; s = tolower(s)
      for (i = 1; i <= length(s); i++) n = n * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
      return n
    }
    $1 ~ /^[0-9a-f]+:$/ {
      b = int(hex(substr($1, 1, length($1) - 1)) / 64)
      if ($2 ~ /^(vprold|vpaddd|vpxord|vpslld|vpsrld|vpshufb|paddd|pslld|psrld|pshufb|rol)$/)
        cha[b]++
      if ($2 ~ /^(vpmadd52luq|vpmadd52huq|vpmuludq|pmuludq|vpaddq|vpsrlq|vpsllq|vpandq|paddq)$/ ||
          $2 ~ /^(psrlq|psllq|mulx|mul|mulq)$/)
        pol[b]++
    }
    END {
      while ((getline line < samples) > 0) {
        split(line, f, " "); b = int(hex(f[1]) / 64); c = 0; p = 0
        for (i = b - 2; i <= b + 2; i++) { c += cha[i]; p += pol[i] }
        print f[1], (c + p < 4) ? "unnamed" : (c > p) ? "chacha20" : "poly1305"
      }
    }' >"$work/crypto-map.txt"
fi

awk -v sender="$sender" -v receiver="$receiver" -v mapfile="$work/crypto-map.txt" '
function syscall_of_wrapper(sym) {
  if (sym ~ /writev$/) return "writev"
  if (sym ~ /libc_write$|^write$/) return "write"
  if (sym ~ /readv$/) return "readv"
  if (sym ~ /libc_read$|^read$/) return "read"
  if (sym ~ /sendmmsg$/) return "sendmmsg"
  if (sym ~ /recvmmsg$/) return "recvmmsg"
  if (sym ~ /sendmsg$/) return "sendmsg"
  if (sym ~ /recvmsg$/) return "recvmsg"
  if (sym ~ /epoll_wait$/) return "epoll_wait"
  return ""
}
function gloss(sc) {
  if (sc == "entry/exit") return "syscall entry/return, call not identified (preemption)"
  if (sc == "write" || sc == "writev") return sc " (TUN)"
  if (sc == "read" || sc == "readv") return sc " (TUN)"
  if (sc ~ /^(send|recv)/) return sc " (UDP)"
  if (sc ~ /^epoll/) return sc " (idle / event wait)"
  if (sc == "futex" || sc == "nanosleep" || sc == "sched_yield") return sc " (thread scheduling)"
  return sc
}
# kernel_part(): what the kernel was doing inside a system call, from the whole call chain.
function kernel_part(   i) {
  for (i = 1; i <= n; i++) {
    if (sym[i] ~ /netif_receive_skb|process_backlog|^ip_rcv|^ipv6_rcv/)
      return "network stack receive"
    if (sym[i] ~ /^ip_output$|ip_finish_output|__dev_queue_xmit|veth_xmit|udp_send_skb|ip_send_skb/)
      return "network stack output"
  }
  for (i = 1; i <= n; i++) {
    if (sym[i] ~ /copy_(to|from)_iter|copy_(to|from)_user|copy_user|memcpy|csum_partial_copy/)
      return "copies to/from user space"
    if (sym[i] ~ /schedule|wake_up/) return "scheduling and wake-ups"
    if (sym[i] ~ /skb|alloc|kfree|kmem_cache/) return "packet buffers (skb alloc/free)"
  }
  return "other (entry/exit, locks, fd lookup)"
}
function finish(   i, k, s, sc, part, bucket, leafdso, leafsym, d) {
  if (n == 0) return
  who = (pid == sender) ? "S" : (pid == receiver) ? "R" : ""
  if (who == "") { n = 0; return }
  total[who]++
  leafsym = sym[1]; leafdso = dso[1]
  # The system call: the handler frame above do_syscall_64, else the libc wrapper below the entry.
  sc = ""
  for (i = 1; i <= n; i++) {
    if (sym[i] != "do_syscall_64") continue
    for (k = i - 1; k >= 1 && sc == ""; k--) {
      s = sym[k]
      if (s == "do_writev") sc = "writev"
      else if (sub(/^(__x64_sys_|__se_sys_|__do_sys_|ksys_|__sys_)/, "", s)) sc = s
    }
    for (k = i + 1; k <= n && sc == ""; k++)
      if (dso[k] !~ /kernel/) { sc = syscall_of_wrapper(sym[k]); break }
    if (sc == "") sc = "entry/exit"
    break
  }
  if (leafdso ~ /kernel/) {
    if (sc == "") bucket = "kernel outside syscalls (interrupts, faults)"
    else {
      bucket = gloss(sc)
      part = kernel_part()
      subcount[bucket SUBSEP part SUBSEP who]++
      subs[bucket SUBSEP part] = 1
    }
  } else if (leafdso ~ /libc/ && syscall_of_wrapper(leafsym) != "") {
    bucket = gloss(syscall_of_wrapper(leafsym))
  } else if (leafdso ~ /libcrypto/ && leafsym == "[unknown]") {
    k = crypto[addr[1]]
    bucket = (k == "chacha20") ? "ChaCha20 (libcrypto asm)" : \
             (k == "poly1305") ? "Poly1305 (libcrypto asm)" : "libcrypto, unnamed code"
  } else if (leafdso ~ /libcrypto/) {
    bucket = "OpenSSL EVP layer and params"; osym[leafsym SUBSEP who]++; osyms[leafsym] = 1
  } else if (leafdso ~ /libc/ && leafsym ~ /mem(cpy|move|set)/) {
    bucket = "libc memcpy/memmove/memset"
  } else if (leafdso ~ /libc/) {
    bucket = "libc other"; lsym[leafsym SUBSEP who]++; lsyms[leafsym] = 1
  } else if (leafdso ~ /libuv/) {
    bucket = "libuv"
  } else if (leafdso ~ /wireguard-go/) {
    bucket = "wireguard-go user code (stripped binary: Go and its crypto)"
  } else if (leafdso ~ /mini-wireguard/) {
    bucket = "mini-wireguard code"; msym[leafsym SUBSEP who]++; msyms[leafsym] = 1
  } else {
    d = leafdso; gsub(/[()]/, "", d); sub(/.*\//, "", d)
    bucket = "other user space (" d ")"
  }
  count[bucket SUBSEP who]++
  buckets[bucket] = 1
  n = 0
}
# row(LABEL, SENDER_COUNT, RECEIVER_COUNT, INDENT): one line of the table.
function row(label, cs, cr, indent,   w) {
  w = 60 - length(indent)
  printf "%s%-" w "s %6.1f%% %6.1f%% %6.1f%%\n", indent, substr(label, 1, w),
    100 * (cs + cr) / tb, ts ? 100 * cs / ts : 0, tr ? 100 * cr / tr : 0
}
# sorted(KEYS, COUNTS, OUT): the keys of KEYS into OUT[1..], by COUNTS[key S] + COUNTS[key R]
# descending; returns how many.
function sorted(keys, c, out,   k, m, i, j, t) {
  m = 0
  for (k in keys) out[++m] = k
  for (i = 1; i <= m; i++)
    for (j = i + 1; j <= m; j++)
      if (c[out[j] SUBSEP "S"] + c[out[j] SUBSEP "R"] > \
          c[out[i] SUBSEP "S"] + c[out[i] SUBSEP "R"]) { t = out[i]; out[i] = out[j]; out[j] = t }
  return m
}
function dump(title, c, keys,   arr, m, i, s) {
  m = sorted(keys, c, arr)
  if (m == 0) return
  print title ":"
  for (i = 1; i <= m && i <= 8; i++) {
    s = arr[i]
    if (c[s SUBSEP "S"] + c[s SUBSEP "R"] < tb / 1000) break
    row(s, c[s SUBSEP "S"] + 0, c[s SUBSEP "R"] + 0, "    ")
  }
}
BEGIN { while ((getline line < mapfile) > 0) { split(line, f, " "); crypto[f[1]] = f[2] } }
/^ *[0-9]+\/ *[0-9]+/ { finish(); split($0, p, "/"); pid = p[1] + 0; next }
NF >= 3 {
  n++
  addr[n] = $1
  # "(/path/lib.so)", or "(/path/binary (deleted))" when the file was replaced while running.
  last = NF
  if ($NF == "(deleted))" && NF > 3) { last = NF - 1; dso[n] = $(NF - 1) " (deleted)" }
  else dso[n] = $NF
  s = $2
  for (i = 3; i < last; i++) s = s " " $i
  sym[n] = s
}
END {
  finish()
  ts = total["S"] + 0; tr = total["R"] + 0; tb = ts + tr
  if (tb == 0) { print "no samples of pids " sender " / " receiver; exit 1 }
  printf "samples: sender (pid %s) %d, receiver (pid %s) %d; %% of both, of each process\n",
    sender, ts, receiver, tr
  printf "%-60s %7s %7s %7s\n", "", "both", "sender", "receiver"
  nb = sorted(buckets, count, names)
  for (i = 1; i <= nb; i++) {
    b = names[i]
    if (count[b SUBSEP "S"] + count[b SUBSEP "R"] < tb / 1000) break
    row(b, count[b SUBSEP "S"] + 0, count[b SUBSEP "R"] + 0, "")
    delete mine
    for (key in subs) { split(key, kk, SUBSEP); if (kk[1] == b) mine[key] = 1 }
    ns = sorted(mine, subcount, sk)
    for (x = 1; x <= ns; x++) {
      split(sk[x], kk, SUBSEP)
      cs2 = subcount[sk[x] SUBSEP "S"] + 0; cr2 = subcount[sk[x] SUBSEP "R"] + 0
      if (cs2 + cr2 < tb / 200) break
      row("in it: " kk[2], cs2, cr2, "    ")
    }
  }
  dump("mini-wireguard code, top symbols", msym, msyms)
  dump("OpenSSL EVP layer, top symbols", osym, osyms)
  dump("libc other, top symbols", lsym, lsyms)
}' "$work/script.txt"

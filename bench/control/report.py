#!/usr/bin/env python3
"""The table of bench/control/run.sh from its JSON lines (one per connect phase and change)."""
import argparse
import json
import statistics
import sys


def fmt_bytes(b):
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if b >= size:
            return f"{b / size:.2f} {unit}"
    return f"{b:.0f} B"


def fmt_s(s):
    if s is None or s < 0:
        return "-"
    return f"{s * 1000:.1f} ms" if s < 1 else f"{s:.2f} s"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("--json")
    args = ap.parse_args()
    rows = [json.loads(line) for line in open(args.results) if line.strip()]
    runs = {}
    idle_rate = {}  # (nodes, policy) -> server CPU seconds per second with nothing happening
    for r in rows:
        if r["kind"] == "connect" and "server_idle" in r:
            idle_rate[(r["nodes"], r["policy"])] = (
                r["server_idle"]["cpu_s"] - r["server_trimmed"]["cpu_s"]) / r["idle_wall_s"]
    for r in rows:
        key = (r["nodes"], r["policy"])
        run = runs.setdefault(key, {"changes": {"delta": [], "naive": []}})
        if r["kind"] == "connect":
            run["connect"] = r
        else:
            c, b, a = r["clients"], r["before"], r["after"]
            run["changes"][r["mode"]].append({
                "propagation_s": c["propagation_s"],
                "complete": c["complete"],
                "viewers": c["viewers"],
                "seen": c["seen"],
                "samples_checked": c["samples_checked"],
                "samples_correct": c["samples_correct"],
                "bytes": a["bytes_sent"] - b["bytes_sent"],
                "messages": (a["deltas_sent"] - b["deltas_sent"]) + (a["full_maps_sent"] - b["full_maps_sent"]),
                "server_cpu_s": a["cpu_s"] - b["cpu_s"],
                "server_cpu_net_s": a["cpu_s"] - b["cpu_s"] - idle_rate.get(key, 0) * (r.get("t1", 0) - r.get("t0", 0)),
                "server_hwm_kb": a["hwm_kb"],
                "client_cpu_s": c["client_cpu_s"],
                "errors": c["errors"] + (a["slow_readers"] - b["slow_readers"]),
            })
    summary = []
    for (n, policy), run in sorted(runs.items()):
        con = run.get("connect")
        s = {"nodes": n, "policy": policy}
        if con:
            ready, connected = con["server_ready"], con["server_connected"]
            s["all_full_maps_s"] = con["clients"]["all_full_s"]
            s["server_rss_ready_kb"] = ready["rss_kb"]
            s["server_rss_connected_kb"] = connected["rss_kb"]
            s["server_kb_per_node"] = (connected["rss_kb"] - ready["rss_kb"]) / n
            if "server_trimmed" in con:
                s["server_kb_per_node_trimmed"] = (con["server_trimmed"]["rss_kb"] - ready["rss_kb"]) / n
            s["connect_server_cpu_s"] = connected["cpu_s"] - ready["cpu_s"]
            s["connect_bytes"] = connected["bytes_sent"] - ready["bytes_sent"]
            s["connect_errors"] = con["clients"]["errors"]
            s["online"] = connected["online"]
        for mode in ("delta", "naive"):
            ch = run["changes"][mode]
            if not ch:
                continue
            s[mode] = {
                "changes": len(ch),
                "all_complete": all(c["complete"] and c["seen"] == c["viewers"] for c in ch),
                "viewers": ch[0]["viewers"],
                "samples_correct": f'{sum(c["samples_correct"] for c in ch)}/{sum(c["samples_checked"] for c in ch)}',
                "propagation_s_median": statistics.median(c["propagation_s"] for c in ch),
                "propagation_s_max": max(c["propagation_s"] for c in ch),
                "bytes_per_change": statistics.mean(c["bytes"] for c in ch),
                "messages_per_change": statistics.mean(c["messages"] for c in ch),
                # The median: a change that shares its window with the 10 s batch that persists
                # endpoints (or another process's burst) is counted in the mean.
                "server_cpu_s_per_change": statistics.median(c["server_cpu_s"] for c in ch),
                "server_cpu_s_mean": statistics.mean(c["server_cpu_s"] for c in ch),
                "server_cpu_net_s_per_change": statistics.median(c["server_cpu_net_s"] for c in ch),
                "server_hwm_kb": max(c["server_hwm_kb"] for c in ch),
                "errors": sum(c["errors"] for c in ch),
            }
        if "delta" in s and "naive" in s:
            d, v = s["delta"], s["naive"]
            s["ratio_bytes"] = v["bytes_per_change"] / max(d["bytes_per_change"], 1)
            s["ratio_cpu"] = v["server_cpu_s_per_change"] / max(d["server_cpu_s_per_change"], 1e-6)
            s["ratio_cpu_net"] = v["server_cpu_net_s_per_change"] / max(d["server_cpu_net_s_per_change"], 1e-6)
        summary.append(s)

    print()
    print("| nodes | policy | all full maps | server mem/node (RSS; after malloc_trim) | change path | reaches all peers (median, max) | bytes/change | msgs | server CPU/change (median; net of idle) | checks |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for s in summary:
        first = True
        for mode in ("delta", "naive"):
            if mode not in s:
                continue
            m = s[mode]
            lead = (f'| {s["nodes"]:,} | {s["policy"]} | {fmt_s(s.get("all_full_maps_s"))} | '
                    f'{s.get("server_kb_per_node", 0):.1f} KB; {s.get("server_kb_per_node_trimmed", 0):.1f} KB | ') if first else "| | | | | "
            first = False
            checks = ("ok" if m["all_complete"] and m["errors"] == 0 else "INCOMPLETE") + f' {m["viewers"]} viewers, samples {m["samples_correct"]}'
            print(f'{lead}{mode} | {fmt_s(m["propagation_s_median"])}, {fmt_s(m["propagation_s_max"])} | '
                  f'{fmt_bytes(m["bytes_per_change"])} | {m["messages_per_change"]:.0f} | '
                  f'{m["server_cpu_s_per_change"] * 1000:.2f} ms; {m["server_cpu_net_s_per_change"] * 1000:.2f} ms | {checks} |')
    print()
    for s in summary:
        if "ratio_bytes" in s:
            print(f'{s["nodes"]:,} nodes, {s["policy"]}: naive/delta bytes {s["ratio_bytes"]:.0f}x, '
                  f'naive/delta server CPU {s["ratio_cpu"]:.0f}x ({s["ratio_cpu_net"]:.0f}x net of idle)')
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"summary": summary, "raw": rows}, f, indent=1)
        print(f"wrote {args.json}", file=sys.stderr)


if __name__ == "__main__":
    main()

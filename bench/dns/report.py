#!/usr/bin/env python3
"""Helper of bench/dns/run.sh (stdlib only).

  report.py gen DIR NODES SEED     records, zone file, unbound and dnsmasq includes, query files
  report.py ticks PID              utime+stime (clock ticks) of PID and all its descendants
  report.py tree PID               PID and its descendants, one a line
  report.py kv2json K=V...         a JSON object of strings (run.sh's meta line)
  report.py parse FILE             one dnsperf -v output -> one JSON line (qps, latencies, rcodes)
  report.py table RESULTS [--json FILE]   the table (markdown) from run.sh's results.jsonl
"""
import ipaddress
import json
import os
import random
import sys

DOMAIN = "bench.ts.net"


def node_name(i, width):
    return f"node{i:0{width}d}"


def node_addrs(i):
    # i in 1..N (N < 65536 by run.sh): 100.64.x.y and fd7a:115c:a1e0::x:y, x = i / 256, y = i % 256.
    x, y = i >> 8, i & 255
    return f"100.64.{x}.{y}", str(ipaddress.IPv6Address(f"fd7a:115c:a1e0::{x:x}:{y:x}"))


def gen(out_dir, n, seed):
    width = max(4, len(str(n)))
    nodes = [(node_name(i, width),) + node_addrs(i) for i in range(1, n + 1)]
    with open(os.path.join(out_dir, "records.txt"), "w") as f:  # magic-dns --records
        for name, v4, v6 in nodes:
            f.write(f"{name} {v4} {v6}\n")
    with open(os.path.join(out_dir, "bench.ts.net.zone"), "w") as f:  # nsd
        f.write(f"$ORIGIN {DOMAIN}.\n$TTL 600\n"
                f"@ IN SOA ns.{DOMAIN}. hostmaster.{DOMAIN}. 1 3600 600 86400 600\n"
                f"@ IN NS ns.{DOMAIN}.\n"
                "ns IN A 127.0.0.1\n")
        for name, v4, v6 in nodes:
            f.write(f"{name} IN A {v4}\n{name} IN AAAA {v6}\n")
    with open(os.path.join(out_dir, "unbound-local.conf"), "w") as f:  # unbound include
        f.write(f'server:\n  local-zone: "{DOMAIN}." static\n')
        for name, v4, v6 in nodes:
            f.write(f'  local-data: "{name}.{DOMAIN}. 600 IN A {v4}"\n'
                    f'  local-data: "{name}.{DOMAIN}. 600 IN AAAA {v6}"\n')
    with open(os.path.join(out_dir, "dnsmasq-hosts.conf"), "w") as f:  # dnsmasq --conf-file
        for name, v4, v6 in nodes:
            f.write(f"host-record={name}.{DOMAIN},{v4},{v6}\n")
    rng = random.Random(seed)
    # 200,000 queries: dnsperf loops over the file; at 100k qps a 10 s run goes round 5 times.
    with open(os.path.join(out_dir, "queries.txt"), "w") as f:
        for _ in range(200000):
            name = nodes[rng.randrange(n)][0]
            f.write(f"{name}.{DOMAIN} {'A' if rng.random() < 0.8 else 'AAAA'}\n")
    with open(os.path.join(out_dir, "queries-nx.txt"), "w") as f:  # names under the domain, absent
        for _ in range(200000):
            f.write(f"missing{rng.randrange(1000000):06d}.{DOMAIN} {'A' if rng.random() < 0.8 else 'AAAA'}\n")
    mid = nodes[(n - 1) // 2]
    with open(os.path.join(out_dir, "samples.txt"), "w") as f:  # NAME A AAAA, checked with dig
        for name, v4, v6 in dict.fromkeys([nodes[0], mid, nodes[-1]]):
            f.write(f"{name}.{DOMAIN} {v4} {v6}\n")


def tree(pid):
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def ticks(pid):
    total = 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
        except (OSError, IndexError, ValueError):
            pass
    return total


def percentile(sorted_vals, q):
    if not sorted_vals:
        return None
    k = min(len(sorted_vals) - 1, max(0, int(round(q / 100.0 * len(sorted_vals) + 0.5)) - 1))
    return sorted_vals[k]


def parse(path):
    lat, rcodes_v, stats = [], {}, {}
    with open(path, errors="replace") as f:
        for line in f:
            if line.startswith("> "):
                parts = line.split()
                # "> NOERROR name type latency"; a timed-out query: "> T name type".
                rcodes_v[parts[1]] = rcodes_v.get(parts[1], 0) + 1
                if len(parts) >= 5 and parts[1] not in ("T", "I"):
                    try:
                        lat.append(float(parts[4]))
                    except ValueError:
                        pass
                continue
            s = line.strip()
            for key, label in (("sent", "Queries sent:"), ("completed", "Queries completed:"),
                               ("lost", "Queries lost:"), ("qps", "Queries per second:"),
                               ("run_s", "Run time (s):"), ("avg_s", "Average Latency (s):"),
                               ("stddev_s", "Latency StdDev (s):")):
                if s.startswith(label):
                    stats[key] = float(s[len(label):].split()[0])
            if s.startswith("Response codes:"):
                codes = {}
                for item in s[len("Response codes:"):].split(","):
                    w = item.split()
                    if len(w) >= 2:
                        codes[w[0]] = int(w[1])
                stats["rcodes"] = codes
            if s.startswith("Average packet size:"):
                stats["packet_size"] = s[len("Average packet size:"):].strip()
    lat.sort()
    stats["latency_samples"] = len(lat)
    for q in (50, 90, 99, 99.9):
        stats[f"p{q:g}_s"] = percentile(lat, q)
    stats["max_s"] = lat[-1] if lat else None
    stats["rcodes_verbose"] = rcodes_v
    if "sent" in stats and stats["sent"]:
        stats["lost_pct"] = 100.0 * stats.get("lost", 0) / stats["sent"]
    return stats


def us(v):
    return "-" if v is None else f"{v * 1e6:,.0f}"


def table(results_path, json_path):
    rows, meta = [], {}
    with open(results_path) as f:
        for line in f:
            rec = json.loads(line)
            if rec.get("kind") == "meta":
                meta = {k: v for k, v in rec.items() if not k.startswith("version.")}
                meta["versions"] = {k[8:]: v for k, v in rec.items() if k.startswith("version.")}
            else:
                rows.append(rec)
    base = {r["pass"]: r["dnsperf"].get("qps") for r in rows if r["server"] == "magic-dns"}
    print()
    print(f"{meta.get('nodes')} nodes, {meta.get('seconds')} s per server, dnsperf -c "
          f"{meta.get('clients')} -q {meta.get('outstanding')}, server on CPU "
          f"{meta.get('server_cpu')}, dnsperf on CPU {meta.get('client_cpu')}")
    print()
    print("| pass | server | queries/s | avg µs | p50 µs | p99 µs | p99.9 µs | lost % "
          "| rcodes | server CPU % | CPU µs/query | magic-dns/server |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|")
    for r in rows:
        d = r["dnsperf"]
        qps = d.get("qps") or 0.0
        cpu_s = (r["ticks_after"] - r["ticks_before"]) / r["hz"]
        wall = r["wall_s"]
        r["server_cpu_pct"] = 100.0 * cpu_s / wall if wall else None
        completed = d.get("completed") or 0
        r["server_cpu_us_per_query"] = 1e6 * cpu_s / completed if completed else None
        b = base.get(r["pass"])
        r["ratio_magic_dns_over_server"] = (b / qps) if (b and qps) else None
        codes = " ".join(f"{k} {v:,}" for k, v in sorted(d.get("rcodes", {}).items()))
        ratio = "-" if r["ratio_magic_dns_over_server"] is None else f"{r['ratio_magic_dns_over_server']:.2f}"
        cpu_pct = "-" if r["server_cpu_pct"] is None else f"{r['server_cpu_pct']:.0f}"
        cpu_q = "-" if r["server_cpu_us_per_query"] is None else f"{r['server_cpu_us_per_query']:.2f}"
        print(f"| {r['pass']} | {r['server']} | {qps:,.0f} | {us(d.get('avg_s'))} | "
              f"{us(d.get('p50_s'))} | {us(d.get('p99_s'))} | {us(d.get('p99.9_s'))} | "
              f"{d.get('lost_pct', 0):.2f} | {codes} | {cpu_pct} | {cpu_q} | {ratio} |")
    print()
    for name, v in meta.get("versions", {}).items():
        print(f"{name}: {v}")
    print(f"load average: {meta.get('load_before')} (before), {meta.get('load_after')} (after)")
    if json_path:
        with open(json_path, "w") as f:
            json.dump({"meta": meta, "results": rows}, f, indent=2)
            f.write("\n")


def main(argv):
    if len(argv) >= 5 and argv[1] == "gen":
        gen(argv[2], int(argv[3]), int(argv[4]))
    elif len(argv) == 3 and argv[1] == "ticks":
        print(ticks(int(argv[2])))
    elif len(argv) == 3 and argv[1] == "tree":
        print("\n".join(str(p) for p in tree(int(argv[2]))))
    elif len(argv) >= 2 and argv[1] == "kv2json":
        print(json.dumps(dict(a.split("=", 1) for a in argv[2:])))
    elif len(argv) == 3 and argv[1] == "parse":
        print(json.dumps(parse(argv[2])))
    elif len(argv) >= 3 and argv[1] == "table":
        json_path = argv[4] if len(argv) >= 5 and argv[3] == "--json" else None
        table(argv[2], json_path)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

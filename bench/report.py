#!/usr/bin/env python3
"""Turns mc_bench's JSON into the markdown table of bench/README.md, with
Apache Mesos's published figures beside ours, and draws the scaling curves
with gnuplot when it is installed. Exits 1 if a benchmark reported an error
(an asserted invariant broke)."""
import json
import os
import re
import shutil
import subprocess
import sys

# Mesos's own allocator benchmarks (in-process, no network), per cycle.
MESOS = [
    ("DeclineOffers/agents:10000/frameworks:1000/round:0", 1060.0,
     "Mesos 1.7.1, HierarchicalAllocator_BENCHMARK_Test.DeclineOffers"),
    ("DeclineOffers/agents:20000/frameworks:2000/round:0", 3800.0, "Mesos 1.8"),
    ("Quota/agents:3000/roles:3000/cycle:allocate", 13700.0,
     "Mesos LargeAndSmallQuota (13.7-15.4 s)"),
    ("Quota/agents:3000/roles:3000/cycle:nothing", 13700.0,
     "Mesos LargeAndSmallQuota, a cycle that allocates nothing"),
]


def fields(name):
    parts = name.split("/")
    out = {"case": parts[0]}
    for p in parts[1:]:
        if ":" in p:
            k, v = p.split(":", 1)
            out[k] = v
    return out


def base(name):
    return re.sub(r"/(iterations|manual_time|repeats|min_time).*$", "", name)


def fmt(x, digits=3):
    if x is None:
        return "-"
    if x >= 1e6:
        return f"{x / 1e6:.2f}M"
    if x >= 1e4:
        return f"{x / 1e3:.1f}k"
    return f"{x:.{digits}g}"


def main():
    src, outdir = sys.argv[1], sys.argv[2]
    data = json.load(open(src))
    rows, errors = [], []
    for b in data["benchmarks"]:
        name = base(b["name"])
        if b.get("error_occurred"):
            errors.append(f"{name}: {b.get('error_message')}")
            continue
        rows.append((name, b))
    ctx = data.get("context", {})
    print(f"Machine: {ctx.get('num_cpus')} CPUs at {ctx.get('mhz_per_cpu')} MHz, "
          f"run {ctx.get('date')}; times are cycle times (start of the cycle "
          f"to the last offer published).")
    lat = sorted((int(k[len("mem_latency_ns_cpu"):]), v) for k, v in ctx.items()
                 if k.startswith("mem_latency_ns_cpu"))
    if lat:
        print("Memory latency per CPU before the run (a dependent chase through 8 MiB, warm): "
              + ", ".join(f"CPU {c} {v} ns" for c, v in lat) + ".")
    print()
    print("| case | cycle p50 ms | cycle p99 ms | first cycle ms | ns/offer | offers/s | fairness error |")
    print("|---|---|---|---|---|---|---|")
    for name, b in rows:
        if name.startswith("Memory") or name.startswith("Wire"):
            continue
        print(f"| {name} | {fmt(b.get('cycle_p50_ms'))} | {fmt(b.get('cycle_p99_ms'))} | "
              f"{fmt(b.get('cycle_first_ms'))} | "
              f"{fmt(b.get('ns_per_offer'))} | {fmt(b.get('offers_per_second'))} | "
              f"{fmt(b.get('fairness_error')) if 'fairness_error' in b else '-'} |")
    mem = [b for n, b in rows if n.startswith("Memory")]
    if mem:
        m = mem[0]
        print(f"\nMemory ({base(m['name'])}): {m['bytes_per_agent']:.0f} bytes per agent, "
              f"{m['bytes_per_framework']:.0f} per framework, {m['bytes_per_offer']:.0f} per "
              f"outstanding offer (jemalloc stats.allocated); resident set growth "
              f"{m.get('rss_per_agent', 0):.0f} bytes per agent, "
              f"{m.get('rss_per_framework', 0):.0f} per framework, "
              f"{m.get('rss_per_offer', 0):.0f} per outstanding offer.")
    wire = [(n, b) for n, b in rows if n.startswith("Wire")]
    if wire:
        print("\n| wire codec case | ns/msg | msgs/s | MB/s | frame bytes |")
        print("|---|---|---|---|---|")
        for name, b in wire:
            print(f"| {name} | {fmt(b['ns_per_msg'])} | {fmt(b['msgs_per_second'])} | "
                  f"{b['bytes_per_second'] / 1e6:.0f} | {fmt(b['frame_bytes'])} |")
    anchors = []
    for prefix, mesos_ms, what in MESOS:
        for name, b in rows:
            if name.startswith(prefix + "/shards:"):
                ours = b["cycle_p50_ms"]
                anchors.append((name, what, mesos_ms, ours, mesos_ms / ours if ours else 0))
    if anchors:
        print("\n| case | Mesos (published) | Mesos ms | ours p50 ms | Mesos / ours |")
        print("|---|---|---|---|---|")
        for name, what, m, o, r in anchors:
            print(f"| {name} | {what} | {m:.0f} | {o:.3f} | {r:.0f}x |")
    plot(rows, outdir)
    if errors:
        print("\nERRORS (asserted invariants broke):")
        for e in errors:
            print(f"- {e}")
        sys.exit(1)


def plot(rows, outdir):
    """Scaling curves of DeclineOffers round 0: ns/offer against agents
    (1,000 frameworks), frameworks (10,000 agents) and shards."""
    if not shutil.which("gnuplot"):
        return
    series = {}
    for name, b in rows:
        f = fields(name)
        if f["case"] != "DeclineOffers" or f.get("round") != "0":
            continue
        series.setdefault(("agents", f["frameworks"], f["shards"]), []).append(
            (int(f["agents"]), b["ns_per_offer"]))
        series.setdefault(("frameworks", f["agents"], f["shards"]), []).append(
            (int(f["frameworks"]), b["ns_per_offer"]))
        series.setdefault(("shards", f["agents"], f["frameworks"]), []).append(
            (int(f["shards"]), b["ns_per_offer"]))
    plots = {
        "agents": ("agents", "frameworks", "1000"),
        "frameworks": ("frameworks", "agents", "10000"),
        "shards": ("shards", "agents x frameworks", None),
    }
    for axis, (xlabel, fixed, value) in plots.items():
        lines = []
        for key, pts in sorted(series.items()):
            if key[0] != axis or len(pts) < 2:
                continue
            if axis == "shards":
                label = f"{key[1]} x {key[2]}"
            elif key[1] != value:
                continue
            else:
                label = f"{key[2]} shard(s)"
            data = os.path.join(outdir, f"scaling-{axis}-{label.replace(' ', '_')}.dat")
            with open(data, "w") as fh:
                for x, y in sorted(pts):
                    fh.write(f"{x} {y}\n")
            lines.append(f"'{data}' using 1:2 with linespoints title '{label}'")
        if not lines:
            continue
        svg = os.path.join(outdir, f"scaling-{axis}.svg")
        script = (f"set terminal svg size 800,500; set output '{svg}';"
                  f"set logscale x; set xlabel '{xlabel}'; set ylabel 'ns per offer';"
                  f"set title 'DeclineOffers round 0: ns per offer against {xlabel}';"
                  f"set key outside; plot " + ", ".join(lines))
        subprocess.run(["gnuplot", "-e", script], check=False)


if __name__ == "__main__":
    main()

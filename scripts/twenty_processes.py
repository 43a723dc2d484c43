#!/usr/bin/env python3
"""Twenty fresh processes of each configuration, pinned and unpinned, for one binary or
several run interleaved: the per-process spread of wall per call.

    scripts/twenty_processes.py [--binary target/release/handoff-bench]... [--count 20000]
        [--work zero] [--processes 20] [--only tokio-current/dedicated]... [--pin both]
        [--beside-busy-process] [--json-out FILE]

With several --binary, process i of every binary runs before process i+1 of any, so the
binaries see the same host, in an order that rotates from one round to the next. For each binary, configuration and pinning it prints the
fastest, median and slowest wall per call, slowest/median, how many processes took more
than twice the fastest, the loop (caller) and worker threads' voluntary context switches
per call (a caller that sleeps on every call has about 1), CPU per call, the shortest timed
window, and the host's steal time (jiffies of /proc/stat, whole machine) during each process:
processes with any are counted, and the figures are printed again without them.

With several --binary it also prints, for each later binary against the first, the paired
ratio of wall per call (process i of one over process i of the other, which ran next to
it): the median ratio, its 95% interval (order statistics of the binomial), and in how many
pairs the later binary was faster. Pairs see the same minute of the host, so the ratio
resolves differences that medians of separate processes, which drift with the host by
more than that, cannot.

--beside-busy-process keeps one CPU-bound process (`python3 -c 'while True: pass'`) running
the whole time, as a build or a second service would on a shared machine.
"""
import argparse
import json
import math
import statistics
import subprocess
import sys


def steal_jiffies():
    """The machine's stolen time so far (the 8th value of /proc/stat's cpu line)."""
    with open("/proc/stat") as stat:
        return int(stat.readline().split()[8])


def one_process(binary, only, count, work, pin):
    cmd = [binary, "--only", only, "--count", str(count), "--work", work, "--format", "json"]
    if pin:
        cmd.append("--pin")
    before = steal_jiffies()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    line = json.loads(out.strip().splitlines()[-1])
    calls = line["count"]
    return {
        "binary": binary,
        "only": only,
        "pinned": pin,
        "wall_us": line["wall_ns"] / calls / 1000,
        "window_s": line["wall_ns"] / 1e9,
        "cpu_us": line["cpu_total_ns"] / calls / 1000,
        "vcsw_loop": line["vcsw_loop"] / calls,
        "vcsw_worker": line["vcsw_worker"] / calls,
        "steal": steal_jiffies() - before,
    }


def summary(rows):
    wall = sorted(r["wall_us"] for r in rows)
    median = statistics.median(wall)
    return (
        f"fastest {wall[0]:.2f}, median {median:.2f}, slowest {wall[-1]:.2f} us "
        f"(slowest/median {wall[-1] / median:.2f}); "
        f"{sum(w > 2 * wall[0] for w in wall)}/{len(wall)} over 2x the fastest"
    )


def report(binary, only, pin, rows):
    clean = [r for r in rows if r["steal"] == 0]
    stolen = len(rows) - len(clean)
    print(
        f"{binary} {only} {'pinned' if pin else 'unpinned'}: {summary(rows)}; vcsw per call: "
        f"loop {statistics.median(r['vcsw_loop'] for r in rows):.3f}, worker "
        f"{statistics.median(r['vcsw_worker'] for r in rows):.3f}; CPU per call "
        f"{statistics.median(r['cpu_us'] for r in rows):.2f} us; shortest window "
        f"{min(r['window_s'] for r in rows):.2f} s; {stolen} with steal "
        f"{[r['steal'] for r in rows if r['steal']]}"
        + (f"; without them: {summary(clean)}" if stolen and len(clean) >= 2 else ""),
        flush=True,
    )


def median_interval(values):
    """The median of `values` and a 95% interval for it: the order statistics k and n+1-k
    of the sorted values, with the largest k whose binomial(n, 1/2) tail P(X < k) stays
    within 2.5% (the whole range when n is too small for that)."""
    values = sorted(values)
    n = len(values)
    k, tail = 0, 0.0
    while True:
        next_tail = tail + math.comb(n, k) / 2**n
        if next_tail > 0.025:
            break
        k, tail = k + 1, next_tail
    low, high = (values[k - 1], values[n - k]) if k >= 1 else (values[0], values[-1])
    return statistics.median(values), low, high


def paired(first, binary, only, pin, mine, theirs):
    ratios = [m["wall_us"] / t["wall_us"] for m, t in zip(mine, theirs)]
    ratio, low, high = median_interval(ratios)
    print(
        f"{binary} over {first} {only} {'pinned' if pin else 'unpinned'}: paired ratio of "
        f"wall per call {ratio:.4f} [{low:.4f}, {high:.4f}]; faster in "
        f"{sum(r < 1 for r in ratios)} of {len(ratios)} pairs",
        flush=True,
    )


def main():
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--binary", action="append")
    args.add_argument("--count", type=int, default=20000)
    args.add_argument("--work", default="zero")
    args.add_argument("--processes", type=int, default=20)
    args.add_argument("--only", action="append")
    args.add_argument("--pin", choices=["both", "pinned", "unpinned"], default="both")
    args.add_argument("--beside-busy-process", action="store_true")
    args.add_argument("--json-out")
    opts = args.parse_args()
    busy = None
    if opts.beside_busy_process:
        busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        run(opts)
    finally:
        if busy:
            busy.kill()
            busy.wait()


def run(opts):
    binaries = opts.binary or ["target/release/handoff-bench"]
    configurations = opts.only or ["tokio-current/dedicated"]
    pins = {"both": [True, False], "pinned": [True], "unpinned": [False]}[opts.pin]
    rows = []
    for i in range(opts.processes):
        # The binaries' order rotates from one round to the next, so that none always runs
        # right after the same one (a process after a process of the same configuration
        # may find the host warmer or cooler than one after another).
        order = binaries[i % len(binaries):] + binaries[: i % len(binaries)]
        for pin in pins:
            for only in configurations:
                for binary in order:
                    rows.append(one_process(binary, only, opts.count, opts.work, pin))
    if opts.json_out:
        with open(opts.json_out, "w") as out:
            json.dump(rows, out, indent=1)
    for pin in pins:
        for only in configurations:
            group = {
                binary: [
                    r
                    for r in rows
                    if r["binary"] == binary and r["only"] == only and r["pinned"] == pin
                ]
                for binary in binaries
            }
            for binary in binaries:
                report(binary, only, pin, group[binary])
            for binary in binaries[1:]:
                paired(binaries[0], binary, only, pin, group[binary], group[binaries[0]])


if __name__ == "__main__":
    main()

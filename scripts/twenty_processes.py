#!/usr/bin/env python3
"""Twenty fresh processes of each configuration, pinned and unpinned, for one binary or
several run interleaved: the per-process spread of wall per call.

    scripts/twenty_processes.py [--binary target/release/handoff-bench]... [--count 20000]
        [--work zero] [--processes 20] [--only tokio-current/dedicated]... [--pin both]
        [--beside-busy-process] [--json-out FILE]

With several --binary, process i of every binary runs before process i+1 of any, so the
binaries see the same host. For each binary, configuration and pinning it prints the
fastest, median and slowest wall per call, slowest/median, how many processes took more
than twice the fastest, the loop (caller) and worker threads' voluntary context switches
per call (a caller that sleeps on every call has about 1), CPU per call, the shortest timed
window, and the host's steal time (jiffies of /proc/stat, whole machine) during each process:
processes with any are counted, and the figures are printed again without them.

--beside-busy-process keeps one CPU-bound process (`python3 -c 'while True: pass'`) running
the whole time, as a build or a second service would on a shared machine.
"""
import argparse
import json
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
    for _ in range(opts.processes):
        for pin in pins:
            for only in configurations:
                for binary in binaries:
                    rows.append(one_process(binary, only, opts.count, opts.work, pin))
    if opts.json_out:
        with open(opts.json_out, "w") as out:
            json.dump(rows, out, indent=1)
    for pin in pins:
        for only in configurations:
            for binary in binaries:
                mine = [
                    r
                    for r in rows
                    if r["binary"] == binary and r["only"] == only and r["pinned"] == pin
                ]
                report(binary, only, pin, mine)


if __name__ == "__main__":
    main()

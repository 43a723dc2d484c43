#!/usr/bin/env python3
"""Twenty fresh processes of one configuration, one after another, pinned and unpinned: the
per-process spread of wall per call (README, "No slow mode").

    scripts/twenty_processes.py [--binary target/release/handoff-bench] [--count 20000]
        [--processes 20] [--only tokio-current/dedicated ...]

For each configuration and pinning it prints the fastest, median and slowest wall per call,
slowest/median, how many processes took more than twice the fastest, the loop (caller) and
worker threads' voluntary context switches per call (a caller that sleeps on every call has
about 1), CPU per call, and the host's steal time during each of the five slowest processes
(jiffies from /proc/stat, whole machine): a spinning hand-off stalls while the hypervisor
runs something else on either vCPU.
"""
import argparse
import json
import statistics
import subprocess


def steal_jiffies():
    """The machine's stolen time so far (the 8th value of /proc/stat's cpu line)."""
    with open("/proc/stat") as stat:
        return int(stat.readline().split()[8])


def one_process(binary, only, count, pin):
    cmd = [binary, "--only", only, "--count", str(count), "--format", "json"]
    if pin:
        cmd.append("--pin")
    before = steal_jiffies()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    line = json.loads(out.strip().splitlines()[-1])
    calls = line["count"]
    return {
        "wall_us": line["wall_ns"] / calls / 1000,
        "cpu_us": line["cpu_total_ns"] / calls / 1000,
        "vcsw_loop": line["vcsw_loop"] / calls,
        "vcsw_worker": line["vcsw_worker"] / calls,
        "steal": steal_jiffies() - before,
    }


def main():
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--binary", default="target/release/handoff-bench")
    args.add_argument("--count", type=int, default=20000)
    args.add_argument("--processes", type=int, default=20)
    args.add_argument("--only", action="append")
    opts = args.parse_args()
    for pin in (True, False):
        for only in opts.only or ["tokio-current/dedicated"]:
            rows = [one_process(opts.binary, only, opts.count, pin) for _ in range(opts.processes)]
            wall = sorted(r["wall_us"] for r in rows)
            median = statistics.median(wall)
            slowest = sorted(rows, key=lambda r: r["wall_us"])[-5:]
            print(
                f"{only} {'pinned' if pin else 'unpinned'}: wall per call fastest {wall[0]:.2f}, "
                f"median {median:.2f}, slowest {wall[-1]:.2f} us (slowest/median "
                f"{wall[-1] / median:.2f}); {sum(w > 2 * wall[0] for w in wall)}/{len(wall)} "
                f"over 2x the fastest; vcsw per call: loop "
                f"{statistics.median(r['vcsw_loop'] for r in rows):.3f}, worker "
                f"{statistics.median(r['vcsw_worker'] for r in rows):.3f}; CPU per call "
                f"{statistics.median(r['cpu_us'] for r in rows):.2f} us; steal in the five "
                f"slowest: {[r['steal'] for r in slowest]}",
                flush=True,
            )


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""What each thread of one benchmark process does, every 100 ms: the CPU it runs on, the
time it ran and the time it waited on a run queue (runnable, not running), and its
voluntary and involuntary context switches.

    scripts/thread_probe.py [--binary target/release/handoff-bench]
        [--only tokio-current/dedicated] [--work sql-read] [--count 400000]
        [--beside-busy-process] [-- EXTRA-ARGS...]

Reads /proc/PID/task/TID/{stat,schedstat,status} (Linux with scheduler statistics). One
line per sample, threads that ran or waited at least 1 ms in it:

    1.2s busy@0 | handoff-bench@1 run 35.0 wait 0.1 v 12205 nv 1 | dedicated-worke@1 ...

(NAME@CPU, run and wait in ms of the 100 ms, v and nv the switches in it; busy@CPU is the
CPU-bound process of --beside-busy-process). Then the benchmark's own table.
"""
import argparse
import os
import subprocess
import sys
import time


def thread(pid, tid):
    """(name, cpu, ran_ns, waited_ns, voluntary, involuntary) of one thread, or None."""
    base = f"/proc/{pid}/task/{tid}"
    try:
        with open(f"{base}/stat") as f:
            stat = f.read()
        with open(f"{base}/schedstat") as f:
            ran, waited, _ = map(int, f.read().split())
        with open(f"{base}/status") as f:
            status = dict(line.split(":", 1) for line in f if ":" in line)
    except (FileNotFoundError, ProcessLookupError, ValueError):
        return None
    name = stat[stat.index("(") + 1 : stat.rindex(")")]
    cpu = int(stat[stat.rindex(")") + 2 :].split()[36])
    voluntary = int(status["voluntary_ctxt_switches"])
    involuntary = int(status["nonvoluntary_ctxt_switches"])
    return name, cpu, ran, waited, voluntary, involuntary


def main():
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--binary", default="target/release/handoff-bench")
    args.add_argument("--only", default="tokio-current/dedicated")
    args.add_argument("--work", default="sql-read")
    args.add_argument("--count", type=int, default=400000)
    args.add_argument("--beside-busy-process", action="store_true")
    args.add_argument("extra", nargs="*")
    opts = args.parse_args()
    busy = None
    if opts.beside_busy_process:
        busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        time.sleep(0.5)
    cmd = [opts.binary, "--only", opts.only, "--work", opts.work, "--count", str(opts.count)]
    bench = subprocess.Popen(cmd + opts.extra, stdout=subprocess.PIPE, text=True)
    before = {}
    start = time.monotonic()
    try:
        while bench.poll() is None:
            time.sleep(0.1)
            try:
                tids = sorted(os.listdir(f"/proc/{bench.pid}/task"), key=int)
            except FileNotFoundError:
                break
            cells = []
            if busy:
                busy_thread = thread(busy.pid, busy.pid)
                cells.append(f"busy@{busy_thread[1] if busy_thread else '?'}")
            for tid in tids:
                now = thread(bench.pid, tid)
                if now is None:
                    continue
                last, before[tid] = before.get(tid), now
                if last is None:
                    continue
                ran_ms, waited_ms = (now[2] - last[2]) / 1e6, (now[3] - last[3]) / 1e6
                if ran_ms < 1 and waited_ms < 1:
                    continue
                cells.append(
                    f"{now[0]}@{now[1]} run {ran_ms:5.1f} wait {waited_ms:5.1f} "
                    f"v {now[4] - last[4]} nv {now[5] - last[5]}"
                )
            print(f"{time.monotonic() - start:5.1f}s " + " | ".join(cells), flush=True)
        print(bench.stdout.read(), end="")
    finally:
        if busy:
            busy.kill()
            busy.wait()
    sys.exit(bench.wait())


if __name__ == "__main__":
    main()

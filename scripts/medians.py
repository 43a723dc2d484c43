#!/usr/bin/env python3
"""Medians of fresh processes through the xtask, for one benchmark binary or several run
interleaved, over the values of one flag: wall and CPU per call of each configuration.

    scripts/medians.py --binary A [--binary B]... --axis gap=0,50,100 [--only GLOB]...
        [--xtask target/debug/xtask] [--json-out FILE] -- [cargo xtask bench flags]

For every value of the axis, each binary in turn runs `xtask bench --no-baseline
--no-counters --AXIS VALUE` with the flags after `--` (for example `--runs 7 --count 2000
--work sql-read`), so the binaries see the same host minute by minute. It prints, per axis
value and configuration, each binary's median wall and CPU per call over the runs, and the
CPU ratio to the configuration named by --reference (when given) of the same binary.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile


def run(xtask, binary, axis, value, only, extra):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "bench.json")
        cmd = [xtask, "bench", "--no-baseline", "--no-counters", f"--{axis}", str(value)]
        for glob in only:
            cmd += ["--only", glob]
        cmd += extra + ["--json", out]
        env = dict(os.environ, HANDOFF_BENCH_BIN=binary)
        subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
        with open(out) as f:
            results = json.load(f)
    medians = {}
    for config in results["configurations"]:
        samples = config["samples"]
        medians[config["id"]] = {
            "wall_us": statistics.median(s["wall_ns"] / s["count"] / 1000 for s in samples),
            "cpu_us": statistics.median(s["cpu_total_ns"] / s["count"] / 1000 for s in samples),
            "runs": len(samples),
        }
    return medians


def main():
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--binary", action="append", required=True)
    args.add_argument("--axis", required=True, help="FLAG=V1,V2,... (a flag of xtask bench)")
    args.add_argument("--only", action="append", default=[])
    args.add_argument("--reference", help="the configuration CPU ratios are taken against")
    args.add_argument("--xtask", default="target/debug/xtask")
    args.add_argument("--json-out")
    args.add_argument("extra", nargs=argparse.REMAINDER)
    opts = args.parse_args()
    extra = [a for a in opts.extra if a != "--"]
    if "=" not in opts.axis:
        sys.exit(f"--axis {opts.axis!r}: expected FLAG=V1,V2,...")
    axis, values = opts.axis.split("=", 1)
    for path, what in [(opts.xtask, "--xtask"), *((b, "--binary") for b in opts.binary)]:
        if not os.access(path, os.X_OK):
            sys.exit(f"{what} {path}: not an executable file (build it first, or pass its path)")
    rows = []
    for value in values.split(","):
        for binary in opts.binary:
            medians = run(opts.xtask, binary, axis, value, opts.only, extra)
            for config, m in medians.items():
                rows.append({"axis": axis, "value": value, "binary": binary, "id": config, **m})
            reference = medians.get(opts.reference, {}).get("cpu_us")
            for config, m in sorted(medians.items()):
                ratio = f", CPU {m['cpu_us'] / reference:.2f}x the reference" if reference else ""
                print(
                    f"{axis} {value} {binary} {config}: wall {m['wall_us']:.2f} us, "
                    f"CPU {m['cpu_us']:.2f} us per call ({m['runs']} runs){ratio}",
                    flush=True,
                )
    if opts.json_out:
        with open(opts.json_out, "w") as out:
            json.dump(rows, out, indent=1)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Paired ratios between two configurations of one `cargo xtask bench --json` result file.

    scripts/paired_runs.py RESULTS.json --config tokio-current/handoff-sqlite \
        --against tokio-current/tokio-rusqlite [--against ...]

The xtask runs the configurations round by round (run k of each, in a shuffled order,
before run k+1 of any), so run k of one configuration and run k of another saw the same
minute of the host. For each --against it prints the median over the rounds of the ratio
of wall per call and of CPU per call (the configuration over the other), the 95% interval
of that median (binomial order statistics), and in how many rounds the configuration was
the faster.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from twenty_processes import median_interval  # noqa: E402


def per_call(samples, field):
    return [s[field] / s["count"] for s in samples]


def main():
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("results")
    args.add_argument("--config", required=True)
    args.add_argument("--against", action="append", required=True)
    opts = args.parse_args()
    with open(opts.results) as f:
        samples = {c["id"]: c["samples"] for c in json.load(f)["configurations"]}
    for name in [opts.config] + opts.against:
        if name not in samples:
            sys.exit(f"{opts.results}: no configuration {name!r}")
    mine = samples[opts.config]
    for other in opts.against:
        theirs = samples[other]
        rounds = min(len(mine), len(theirs))
        for field, label in (("wall_ns", "wall"), ("cpu_total_ns", "CPU")):
            ratios = [
                a / b
                for a, b in zip(per_call(mine, field)[:rounds], per_call(theirs, field)[:rounds])
            ]
            ratio, low, high = median_interval(ratios)
            print(
                f"{opts.config} over {other}: {label} per call {ratio:.4f} "
                f"[{low:.4f}, {high:.4f}]; lower in {sum(r < 1 for r in ratios)} of "
                f"{rounds} rounds"
            )


if __name__ == "__main__":
    main()

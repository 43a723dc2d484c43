#!/usr/bin/env python3
"""A results file at the comment job's limits, for timing `cargo xtask comment` on the
costliest file it accepts (docs/book/src/github/trust.md).

    scripts/worst_case_results.py OUT.json [--ids 99] [--blocks 100] [--counter-runs 20]
        [--slices 1]

A paired run of IDS configurations over BLOCKS blocks, one whole-process sample per side and
block, plus COUNTER_RUNS counting runs per side and configuration: with the defaults, 19,899
samples (the limit is 20,000, configurations' and paired record's together), 100 blocks (the
limit) and 3,960 counting runs (the limit is 4,000). `--slices 4` makes lock-step blocks of
four slice pairs each (`--ids 34 --blocks 30 --slices 4 --counter-runs 2` is shaped like a
pull request's run of the whole suite). The first configuration's head takes twice its base's time, so
its verdict holds at every block count and the comparison walks back over every block
(`comparison::paired::compare`); the others are noisy and unchanged. `--min-blocks` is 1:
verdicts are looked at from the first block on. Deterministic (seeded).
"""
import argparse
import json
import math
import random


def measurement(id_, wall_ns, instructions=None):
    runtime, handoff = id_.split("/")
    m = {
        "schema": 1, "id": id_, "runtime": runtime, "handoff": handoff, "count": 10000,
        "in_flight": 1, "work": "zero", "pinned": True, "wall_ns": wall_ns,
        "cpu_total_ns": wall_ns * 2, "cpu_loop_ns": wall_ns, "cpu_worker_ns": wall_ns // 10 * 9,
        "cpu_other_ns": wall_ns // 10, "vcsw_loop": 10000, "vcsw_worker": 10000,
        "ivcsw_loop": 1, "ivcsw_worker": 2,
    }
    if instructions is not None:
        m["instructions_loop"] = instructions
        m["instructions_worker"] = 3_000_000
        m["instructions_other"] = 10_000
    return m


def profile(count, instructions, shift):
    """Three roles' profiles within `Profile::check`: 50 functions whose self costs add up to
    half the total, 100 stacks 16 frames deep that add up to the total; `shift` moves cost
    between functions, so that the two sides' profiles differ."""
    names = [f"crate::module::function_{k}<T>" for k in range(50)]
    share = instructions // 100
    functions = [{"name": n, "self_instructions": share + (shift if k == 0 else 0) - (shift if k == 1 else 0),
                  "inclusive_instructions": instructions} for k, n in enumerate(names)]
    stacks = [{"frames": [(j + d) % 50 for d in range(16)], "instructions": share}
              for j in range(100)]
    role = {"count": count, "threads": 1, "instructions": instructions, "inclusive": "stacks",
            "cut_instructions": 0, "functions": functions,
            "stacks": {"names": names, "stacks": stacks}}
    return {"window": 1, "roles": {"loop": role, "worker": role, "other": role}}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--ids", type=int, default=99)
    parser.add_argument("--blocks", type=int, default=100)
    parser.add_argument("--counter-runs", type=int, default=20)
    parser.add_argument("--slices", type=int, default=1)
    parser.add_argument("--profiles", action="store_true")
    args = parser.parse_args()
    rng = random.Random(7)
    ids = [f"rt{i // 8}/handoff-{i % 8}-{i}" for i in range(args.ids)]
    samples, configurations = [], []
    for i, id_ in enumerate(ids):
        head_walls = []
        for block in range(args.blocks):
            level = 150_000_000 * math.exp(rng.gauss(0, 0.2))
            for k in range(args.slices):
                for position, side in enumerate(["base", "head"]):
                    ratio = 2.0 if (side == "head" and i == 0) else 1.0
                    wall = int(level * ratio * math.exp(rng.gauss(0, 0.05)))
                    sample = {"block": block, "side": side, "position": position,
                              "measurement": measurement(id_, wall)}
                    if args.slices > 1:
                        sample["slice"] = k
                    samples.append(sample)
                    if side == "head" and not head_walls:
                        head_walls.append(wall)
        # One head sample per configuration: the samples' limit counts these too.
        configurations.append({"id": id_, "samples": [measurement(id_, head_walls[0])],
                               "summary": {}})
    counters = []
    for id_ in ids:
        for run in range(args.counter_runs):
            for position, side in enumerate(["base", "head"]):
                instructions = 20_000_000 + rng.randrange(0, 2000)
                if args.profiles and side == "head":
                    instructions = instructions * 105 // 100
                counters.append({"block": run, "side": side, "position": position,
                                 "measurement": measurement(id_, 1_000_000, instructions)})
    if args.profiles:
        for config in configurations:
            config["profile"] = profile(10000, 21_000_000, 100_000)
    base_profiles = ({id_: profile(10000, 20_000_000, 0) for id_ in ids}
                     if args.profiles else {})
    results = {
        "schema": 1, "kind": "handoff-bench-results", "created": "2026-12-05T00:00:00Z",
        "host": {"cpu_model": "worst case", "cores": 2, "kernel": "6.1", "rustc": "rustc 1.95.0",
                 "crates": {}},
        "git": {"revision": "0" * 40, "dirty": False},
        "settings": {"runs": args.blocks, "count": 10000, "work": "zero", "in_flight": 1,
                     "only": [], "pin": True,
                     "counters": {"runs": args.counter_runs, "count": 10000,
                                  "valgrind": "valgrind-3.19.0", "realtime": True}},
        "configurations": configurations,
        "paired": {
            "base": {"requested": "main", "commit": "1" * 40, "merge_base": True},
            "min_blocks": 1, "blocks": args.blocks, "stop_reason": "block cap reached",
            "added": [], "removed": [], "samples": samples, "counter_samples": counters,
            "sampling": ("processes" if args.slices == 1
                         else f"lockstep ({args.slices} slices x 1000 calls)"),
            "estimator": "hodges-lehmann",
            "base_profiles": base_profiles,
        },
        "comparison": {
            "policy": {"alpha": 0.05, "threshold": 0.05,
                       "gates": {"wall_ns_per_call": 0.05, "cpu_total_ns_per_call": 0.05,
                                 "vcsw_per_call": 0.02, "instructions_per_call": 0.01}},
            "fingerprint": {"host": [], "toolchain": []},
        },
    }
    with open(args.out, "w") as out:
        json.dump(results, out)
    total = len(samples) + len(configurations)
    print(f"{args.out}: {len(ids)} configurations, {args.blocks} blocks, {total} samples, "
          f"{len(counters)} counting runs")


if __name__ == "__main__":
    main()

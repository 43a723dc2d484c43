//! Synthetic results files, shaped as `cargo xtask bench --against ... --json` writes them
//! (paired record, head samples, the comparison's policy), for the comment tests.

#![allow(
    dead_code,
    reason = "each test binary uses a different part of the support"
)]

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

/// One JSON line of the benchmark with the given wall time over 1000 calls.
pub fn measurement(id: &str, wall_ns: u64) -> Value {
    let (runtime, handoff) = id.split_once('/').unwrap_or((id, ""));
    json!({
        "schema": 1, "id": id, "runtime": runtime, "handoff": handoff, "count": 1000,
        "in_flight": 1, "work": "zero", "wall_ns": wall_ns, "cpu_total_ns": wall_ns * 2,
        "cpu_loop_ns": wall_ns, "cpu_worker_ns": wall_ns / 10 * 9, "cpu_other_ns": wall_ns / 10,
        "vcsw_loop": 1000, "vcsw_worker": 1000, "ivcsw_loop": 1, "ivcsw_worker": 2,
        "pinned": true,
    })
}

/// A paired run of `ids` over `blocks` blocks; the head of the first id is 30% slower, the
/// others are unchanged up to a small deterministic wobble.
pub fn paired(ids: &[&str], blocks: u32) -> Value {
    paired_with(ids, blocks, 1.3)
}

/// [`paired`], with every head equal to its base (every gated verdict unchanged, given
/// enough blocks).
pub fn paired_unchanged(ids: &[&str], blocks: u32) -> Value {
    paired_with(ids, blocks, 1.0)
}

/// A paired run in which the first id's head takes `slowdown` times its base.
fn paired_with(ids: &[&str], blocks: u32, slowdown: f64) -> Value {
    let mut samples = Vec::new();
    let mut head_samples: Vec<Vec<Value>> = vec![Vec::new(); ids.len()];
    for block in 0..blocks {
        for (i, id) in ids.iter().enumerate() {
            let base = 1_000_000 + u64::from((block * 7_919 + i as u32 * 104_729) % 20_000);
            let head = if i == 0 {
                // Whole nanoseconds of a ~1 ms wall time: the rounding is far below any gate.
                (base as f64 * slowdown).round() as u64
            } else if slowdown == 1.0 {
                base
            } else {
                base + 997 * u64::from(block % 3)
            };
            for (position, (side, wall)) in [("base", base), ("head", head)].into_iter().enumerate()
            {
                let m = measurement(id, wall);
                if side == "head" {
                    head_samples[i].push(m.clone());
                }
                samples.push(json!({
                    "block": block, "side": side, "position": position, "measurement": m,
                }));
            }
        }
    }
    let configurations: Vec<Value> = ids
        .iter()
        .zip(head_samples)
        .map(|(id, s)| json!({ "id": id, "samples": s, "summary": {} }))
        .collect();
    json!({
        "schema": 1,
        "kind": "handoff-bench-results",
        "created": "2026-01-01T00:00:00Z",
        "host": {
            "cpu_model": "Test CPU @ 2.0GHz", "cores": 2, "kernel": "6.1.0-test",
            "rustc": "rustc 1.95.0 (59807616e 2026-04-14)", "crates": { "tokio": "1.54.0" },
        },
        "git": { "revision": "0123456789abcdef0123456789abcdef01234567", "dirty": false },
        "settings": {
            "runs": blocks, "count": 1000, "work": "zero", "in_flight": 1, "only": [], "pin": true,
        },
        "configurations": configurations,
        "paired": {
            "base": {
                "requested": "origin/main",
                "commit": "89abcdef0123456789abcdef0123456789abcdef",
                "merge_base": true,
            },
            "min_blocks": 2, "blocks": blocks, "stop_reason": "--min-blocks reached",
            "added": [], "removed": [], "samples": samples,
        },
        "comparison": {
            "policy": {
                "alpha": 0.05, "threshold": 0.05,
                "gates": { "wall_ns_per_call": 0.05, "cpu_total_ns_per_call": 0.05, "vcsw_per_call": 0.02 },
            },
            "fingerprint": { "host": [], "toolchain": [] },
            "pairs": [],
        },
    })
}

/// One counting run of `id` under callgrind: [`measurement`] plus instructions per role
/// (`loop_per_call` on the loop, 300 per call on the worker, 1000 in all on other threads).
pub fn counted(id: &str, loop_per_call: u64) -> Value {
    let mut m = measurement(id, 1_000_000);
    m["instructions_loop"] = json!(loop_per_call * 1000);
    m["instructions_worker"] = json!(300_000);
    m["instructions_other"] = json!(1_000);
    m
}

/// `file` (a [`paired`] run) with `runs` counting runs per side and configuration, as
/// `bench --against ... --counters` stores them: in the paired record (both sides, `block`
/// the run's index) and in the head's configurations. The first id's head counts 10% more
/// instructions on the loop, the others the same on both sides.
pub fn with_counters(mut file: Value, runs: u32) -> Value {
    let ids: Vec<String> = file["configurations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    let mut paired = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let mut head_runs = Vec::new();
        for run in 0..runs {
            for (position, side) in ["base", "head"].into_iter().enumerate() {
                let per_call = if side == "head" && i == 0 {
                    2_200
                } else {
                    2_000
                };
                let m = counted(id, per_call + u64::from(run % 2));
                if side == "head" {
                    head_runs.push(m.clone());
                }
                paired.push(json!({
                    "block": run, "side": side, "position": position, "measurement": m,
                }));
            }
        }
        file["configurations"][i]["counter_samples"] = Value::Array(head_runs);
    }
    file["paired"]["counter_samples"] = Value::Array(paired);
    file["settings"]["counters"] =
        json!({ "runs": runs, "count": 1000, "valgrind": "valgrind-3.19.0", "realtime": true });
    file["comparison"]["policy"]["gates"]["instructions_per_call"] = json!(0.01);
    file
}

/// What a stranger might try, in payloads short enough to be shown whole (each field gets
/// one, chosen by the length of its tag, so that each payload reaches several places).
pub const PAYLOADS: [&str; 5] = [
    "All good, @mallory please merge. [details](http://evil.example/x)",
    "<!-- handoff-bench:pr-comment --> <img src=x onerror=alert(1)> ![i](http://evil.example/i.png)",
    "`code` | cell\n## heading\r\n<details><summary>s</summary> -->",
    "#123 GH-7 acme/widgets#9 www.evil.example mallory@evil.example $x$ [^1] <b>",
    "\u{202e}reversed :x: @acme/team https://evil.example/\u{200b}z `` ` ``",
];

/// The payload of `tag`, prefixed by the tag; "long" gets the first payload and a tail of
/// 100,000 characters on the same line.
pub fn hostile(tag: &str) -> String {
    if tag == "long" {
        return format!("{tag} {} {}", PAYLOADS[0], "long-line ".repeat(10_000));
    }
    let pick = tag.len() % PAYLOADS.len();
    format!("{tag} {}", PAYLOADS[pick])
}

/// A paired results file whose every free-text field is hostile.
pub fn hostile_results() -> Value {
    let mut v = paired(&["floor/park", "tokio-current/dedicated"], 4);
    v["host"]["cpu_model"] = json!(hostile("long"));
    v["host"]["kernel"] = json!(hostile("kernel"));
    v["host"]["rustc"] = json!(hostile("rustc"));
    v["host"]["crates"] = json!({ hostile("crate"): hostile("version") });
    v["git"]["revision"] = json!(format!("@mallory {}", hostile("rev")));
    v["git"]["dirty"] = json!(true);
    v["created"] = json!(hostile("created"));
    v["settings"]["work"] = json!(hostile("work"));
    v["settings"]["only"] = json!([hostile("only")]);
    v["failures"] = json!([{
        "id": "floor/park", "run": 4294967295u64, "side": "head",
        "reason": hostile("reason"), "stderr_tail": hostile("stderr"),
    }]);
    v["paired"]["base"]["requested"] = json!(hostile("ref"));
    v["paired"]["base"]["commit"] = json!(hostile("commit"));
    v["paired"]["stop_reason"] = json!(hostile("stop"));
    let difference = |what: &str| {
        json!({
            "field": hostile(&format!("{what}-field")),
            "baseline": hostile(&format!("{what}-baseline")),
            "current": hostile(&format!("{what}-current")),
        })
    };
    v["comparison"]["fingerprint"] = json!({
        "host": [difference("host")],
        "toolchain": [difference("toolchain")],
    });
    v["comparison"]["baseline_label"] = json!(hostile("label"));
    v
}

/// Writes `value` as `dir/bench.json` and returns its path.
pub fn write(dir: &Path, value: &Value) -> PathBuf {
    let path = dir.join("bench.json");
    std::fs::write(&path, value.to_string()).unwrap();
    path
}

/// The comment body the xtask makes from the results file at `path` with this header:
/// the marker, the header, and the report the library renders, cut to the limit.
pub fn expected_body(path: &Path, header: Option<&str>, details_url: Option<&str>) -> String {
    let checked = xtask::github::artifact::load_results(path).unwrap();
    let report = xtask::github::comment_report::render(&checked);
    xtask::github::body::compose(
        &xtask::github::body::BodyParts {
            header,
            report: &report,
            full_report_at: &xtask::github::body::full_report_at(details_url),
            footer: "",
        },
        xtask::github::body::COMMENT_LIMIT,
    )
}

//! End-to-end tests of `cargo xtask bench --counters`: the counting runs, their metrics in
//! result files, the instruction gate against a stored baseline and in a paired run. The
//! fake benchmark stands in for the binary under callgrind (`HANDOFF_BENCH_CALLGRIND_LAUNCH`
//! replaces valgrind's launch with `env`); `tests/counters.rs` of the root package runs the
//! real binary under real valgrind.

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

mod sandbox;
use sandbox::{FAKE, Sandbox, read_json};

impl Sandbox {
    /// `xtask bench` with counting through the stand-in launcher: 3 timing runs and 2
    /// counting runs of 1000 calls.
    fn counting(&self, extra: &[&str]) -> Command {
        let runs: &[&str] = if extra.contains(&"--against") {
            &[]
        } else {
            &["--runs", "3"]
        };
        let mut args = vec!["bench"];
        args.extend_from_slice(runs);
        args.extend([
            "--count",
            "1000",
            "--counters",
            "--counter-runs",
            "2",
            "--counter-count",
            "1000",
        ]);
        args.extend_from_slice(extra);
        let mut cmd = self.xtask(&args);
        cmd.env_remove("HANDOFF_BENCH_NO_COUNTERS")
            .env("HANDOFF_BENCH_CALLGRIND_LAUNCH", "env");
        cmd
    }
}

fn pair<'a>(report: &'a Value, id: &str, metric: &str) -> &'a Value {
    report["comparison"]["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == id && p["metric"] == metric)
        .unwrap_or_else(|| panic!("no pair {id} {metric}"))
}

#[test]
fn counting_runs_land_in_the_result_file_with_their_metrics() {
    let sb = Sandbox::new();
    let out = sb.path("a.json");
    sb.counting(&["--no-baseline", "--json"])
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains("Instructions per call"));
    let file = read_json(&out);
    let config = &file["configurations"][0];
    assert_eq!(config["samples"].as_array().unwrap().len(), 3);
    let counted = config["counter_samples"].as_array().unwrap();
    assert_eq!(counted.len(), 2);
    assert_eq!(counted[0]["count"], 1000);
    assert_eq!(config["summary"]["instructions_per_call"]["median"], 2300.0);
    assert_eq!(
        config["summary"]["instructions_loop_per_call"]["median"],
        2000.0
    );
    assert_eq!(file["settings"]["counters"]["runs"], 2);
    // Timing runs are pinned; counting runs are not handed --pin (one CPU under valgrind).
    assert!(
        counted
            .iter()
            .all(|s| s.get("pinned") == Some(&Value::Bool(false)))
    );
}

#[test]
fn a_two_percent_instruction_increase_regresses_against_a_stored_baseline() {
    let sb = Sandbox::new();
    sb.counting(&["--save-baseline", "main"]).assert().success();
    let out = sb.path("b.json");
    sb.counting(&["--baseline", "main", "--fail-on-regression", "--json"])
        .arg(&out)
        .env("FAKE_BENCH_INSTRUCTIONS", "floor/spin=1.02")
        .assert()
        .code(3);
    let report = read_json(&out);
    let instructions = pair(&report, "floor/spin", "instructions_per_call");
    assert_eq!(instructions["verdict"], "regressed");
    assert_eq!(instructions["gated"], true);
    assert!((instructions["ratio"].as_f64().unwrap() - 1.02).abs() < 1e-9);
    // The same counts elsewhere: unchanged, and the timing did not move.
    assert_eq!(
        pair(&report, "floor/park", "instructions_per_call")["verdict"],
        "unchanged"
    );
    assert_eq!(
        pair(&report, "floor/spin", "wall_ns_per_call")["verdict"],
        "unchanged"
    );
}

#[test]
fn a_change_within_the_one_percent_gate_is_unchanged() {
    let sb = Sandbox::new();
    sb.counting(&["--save-baseline", "main"]).assert().success();
    let out = sb.path("b.json");
    sb.counting(&["--baseline", "main", "--fail-on-regression", "--json"])
        .arg(&out)
        .env("FAKE_BENCH_INSTRUCTIONS", "floor/spin=1.003")
        .assert()
        .success();
    let report = read_json(&out);
    assert_eq!(
        pair(&report, "floor/spin", "instructions_per_call")["verdict"],
        "unchanged"
    );
}

#[test]
fn a_paired_run_counts_both_sides_and_gates_instructions() {
    let sb = Sandbox::new();
    // The base: the same fake without the head's instruction factor.
    let base = sb.path("base-bench");
    std::fs::write(
        &base,
        format!("#!/bin/sh\nunset FAKE_BENCH_INSTRUCTIONS\nexec {FAKE} \"$@\"\n"),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&base, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = sb.path("p.json");
    sb.counting(&[
        "--against",
        "HEAD",
        "--min-blocks",
        "2",
        "--fail-on-regression",
        "--json",
    ])
    .arg(&out)
    .env("HANDOFF_BENCH_BASE_BIN", &base)
    .env("FAKE_BENCH_IDS", "floor/park,tokio-current/dedicated")
    .env("FAKE_BENCH_INSTRUCTIONS", "tokio-current/dedicated=1.05")
    .assert()
    .code(3);
    let report = read_json(&out);
    let counted = report["paired"]["counter_samples"].as_array().unwrap();
    assert_eq!(counted.len(), 2 * 2 * 2, "2 ids x 2 sides x 2 runs");
    let instructions = pair(&report, "tokio-current/dedicated", "instructions_per_call");
    assert_eq!(instructions["verdict"], "regressed");
    assert_eq!(instructions["gated"], true);
    assert!((instructions["ratio"].as_f64().unwrap() - 1.05).abs() < 1e-9);
    assert!(instructions["settled_after_blocks"].is_null());
    assert_eq!(
        pair(&report, "floor/park", "instructions_per_call")["verdict"],
        "unchanged"
    );
    assert!(
        pair(&report, "floor/park", "wall_ns_per_call")["settled_after_blocks"].is_number(),
        "timing pairs keep the blocks they settled after"
    );
}

#[test]
fn counters_without_valgrind_exit_2_naming_the_package() {
    let sb = Sandbox::new();
    let empty = sb.path("no-tools");
    std::fs::create_dir(&empty).unwrap();
    let mut cmd = sb.xtask(&["bench", "--counters", "--no-baseline"]);
    cmd.env_remove("HANDOFF_BENCH_NO_COUNTERS")
        .env("PATH", &empty)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("apt-get install -y valgrind"));
}

#[test]
fn counts_of_another_toolchain_are_reported_not_gated_with_the_reason() {
    let sb = Sandbox::new();
    sb.counting(&["--save-baseline", "main"]).assert().success();
    // The baseline was counted with another compiler.
    let path = sb.baselines().join("main.json");
    let mut baseline: Value = read_json(&path);
    baseline["host"]["rustc"] = Value::String("rustc 1.80.0 (051478957 2024-07-21)".into());
    std::fs::write(&path, serde_json::to_string_pretty(&baseline).unwrap()).unwrap();
    let out = sb.path("b.json");
    sb.counting(&["--baseline", "main", "--fail-on-regression", "--json"])
        .arg(&out)
        .env("FAKE_BENCH_INSTRUCTIONS", "floor/spin=1.05")
        .assert()
        // Judged, but not gated: another toolchain's counts are not a regression of the code.
        .success()
        .stdout(predicate::str::contains("rustc"));
    let report = read_json(&out);
    let instructions = pair(&report, "floor/spin", "instructions_per_call");
    assert_eq!(instructions["gated"], false);
    assert_eq!(instructions["verdict"], "regressed");
    let not_gated = report["comparison"]["not_gated"].as_array().unwrap();
    assert!(
        not_gated.iter().any(|n| n["metrics"]
            .as_array()
            .unwrap()
            .contains(&Value::from("instructions_per_call"))
            && n["reason"].as_str().is_some()),
        "{not_gated:?}"
    );
}

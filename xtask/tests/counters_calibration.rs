//! End-to-end tests of `cargo xtask calibrate --counters`: the real xtask runs the fake
//! benchmark through the stand-in launcher (`HANDOFF_BENCH_CALLGRIND_LAUNCH=env`), whose
//! counts are exact (2000 loop + 300 worker instructions per call, 4 per injected loop
//! iteration) unless `FAKE_BENCH_INSTRUCTION_NOISE` spreads them.

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

mod sandbox;
use sandbox::{Sandbox, read_json};

const IDS: &str = "floor/park,tokio-current/dedicated";

impl Sandbox {
    /// `xtask calibrate --counters` on two configurations, 5 trials of 3 runs a side.
    fn calibrate_counters(&self, extra: &[&str]) -> Command {
        let mut args = vec![
            "calibrate",
            "--counters",
            "--trials",
            "5",
            "--pilot-runs",
            "2",
            "--counter-runs",
            "3",
            "--counter-count",
            "1000",
        ];
        args.extend_from_slice(extra);
        let mut cmd = self.xtask(&args);
        cmd.env_remove("HANDOFF_BENCH_NO_COUNTERS")
            .env("HANDOFF_BENCH_CALLGRIND_LAUNCH", "env")
            .env("FAKE_BENCH_IDS", IDS);
        cmd
    }
}

/// The findings of one configuration and metric (`instructions_per_call`, ...).
fn findings<'a>(c: &'a Value, id: &str, metric: &str) -> &'a Value {
    c["configs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("no configuration {id}"))["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["metric"] == metric)
        .unwrap_or_else(|| panic!("no metric {metric} for {id}"))
}

fn config<'a>(c: &'a Value, id: &str) -> &'a Value {
    c["configs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id)
        .unwrap()
}

const METRICS: [&str; 3] = [
    "instructions_per_call",
    "instructions_loop_per_call",
    "instructions_worker_per_call",
];

#[test]
fn exact_counts_give_no_false_alarm_and_a_one_percent_injection_is_always_found() {
    let sb = Sandbox::new();
    let out = sb.path("counters.json");
    sb.calibrate_counters(&["--json"])
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "handoff-bench counter calibration",
        ))
        .stdout(predicate::str::contains(
            "Every configuration's counts reproduce",
        ))
        .stderr(predicate::str::contains("counter trial 1/5 A/A"))
        .stderr(predicate::str::contains("counter trial 5/5 +1%"));
    let c = read_json(&out);
    assert_eq!(c["kind"], "handoff-bench-counter-calibration");
    // --effect defaults to 1 with --counters; 5 rounds of A/A and +1%.
    assert_eq!(c["settings"]["effects_pct"], serde_json::json!([1.0]));
    assert_eq!(c["trials"].as_array().unwrap().len(), 10);
    assert_eq!(c["false_alarms_gate"]["count"], 0);
    assert_eq!(c["false_alarms_significant"]["count"], 0);
    for id in IDS.split(',') {
        // The pilot measured the iteration (4 instructions in the fake, which has no cost of
        // entering the loop) and sized 1% of 2300 instructions per call: 5.75 -> 6.
        let pilot = c["pilot"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == id)
            .unwrap();
        assert_eq!(pilot["instructions_per_loop"], 4.0, "{id}");
        assert_eq!(pilot["injection_offset"], 0.0, "{id}");
        assert_eq!(pilot["per_call"]["instructions_per_call"], 2300.0);
        assert_eq!(pilot["inject_loops"], serde_json::json!([6]));
        for metric in METRICS {
            let f = findings(&c, id, metric);
            assert_eq!(f["false_alarms_significant"]["count"], 0, "{id} {metric}");
            assert_eq!(f["false_alarms_gate"]["count"], 0, "{id} {metric}");
            assert_eq!(f["false_alarms_gate"]["of"], 5);
            assert!(f["not_reproducible"].is_null(), "{id} {metric}: {f}");
            // Exact counts: the MDE is the resolution floor's, a few hundredths of a percent.
            let mde = f["mde"]["pct"].as_f64().unwrap();
            assert!(mde > 0.0 && mde < 0.1, "{id} {metric}: MDE {mde}%");
        }
        let d = &findings(&c, id, "instructions_per_call")["detection"][0];
        assert_eq!(d["effect_pct"], 1.0);
        assert_eq!(d["significant"]["count"], 5, "{id}: {d}");
        assert_eq!(d["gate"]["count"], 5, "{id}: {d}");
        let observed = d["observed_ratio"].as_f64().unwrap();
        assert!((observed - 2324.0 / 2300.0).abs() < 1e-6, "{observed}");
        let own = &findings(&c, id, "instructions_loop_per_call")["detection"][0];
        assert_eq!(own["significant"]["count"], 5, "{id}: {own}");
        assert!(
            findings(&c, id, "instructions_worker_per_call")["detection"]
                .as_array()
                .unwrap()
                .is_empty()
        );
        assert_eq!(config(&c, id)["reproducible"], true);
    }
}

#[test]
fn counts_that_vary_are_reported_as_not_reproducible() {
    let sb = Sandbox::new();
    let out = sb.path("counters.json");
    sb.calibrate_counters(&["--effect", "1", "--effect", "3", "--json"])
        .arg(&out)
        .env("FAKE_BENCH_INSTRUCTION_NOISE", "floor/park=0.02")
        .env("FAKE_BENCH_SEED", "3")
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "Not reproducible: not gated on counters: floor/park (",
        ))
        .stdout(predicate::str::contains("NOT REPRODUCIBLE"));
    let c = read_json(&out);
    assert_eq!(c["trials"].as_array().unwrap().len(), 15);
    let park = findings(&c, "floor/park", "instructions_per_call");
    assert_eq!(config(&c, "floor/park")["reproducible"], false);
    let sd = park["mde"]["sd_log"].as_f64().unwrap();
    assert!(sd > 0.005 && sd < 0.05, "sd {sd}");
    assert!(park["mde"]["pct"].as_f64().unwrap() > 1.0, "{park}");
    let why = park["not_reproducible"].as_str().unwrap();
    assert!(why.contains("MDE"), "{why}");
    // The exact configuration is unaffected, at both effects (3% of 2300 = 17.25 -> 18, rounded up).
    let exact = config(&c, "tokio-current/dedicated");
    assert_eq!(exact["reproducible"], true);
    let pilot = c["pilot"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "tokio-current/dedicated")
        .unwrap();
    assert_eq!(pilot["inject_loops"], serde_json::json!([6, 18]));
    let dedicated = findings(&c, "tokio-current/dedicated", "instructions_per_call");
    for (e, effect) in [1.0, 3.0].into_iter().enumerate() {
        let d = &dedicated["detection"][e];
        assert_eq!(d["effect_pct"], effect);
        assert_eq!(d["gate"]["count"], 5, "{d}");
    }
    assert_eq!(dedicated["false_alarms_significant"]["count"], 0);
}

#[test]
fn calibrate_counters_without_valgrind_exits_2_naming_the_package() {
    let sb = Sandbox::new();
    let empty = sb.path("no-tools");
    std::fs::create_dir(&empty).unwrap();
    sb.xtask(&["calibrate", "--counters"])
        .env_remove("HANDOFF_BENCH_NO_COUNTERS")
        .env("PATH", &empty)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("apt-get install -y valgrind"));
}

#[test]
fn a_binary_without_inject_loops_cannot_be_calibrated_on_counters() {
    let sb = Sandbox::new();
    sb.calibrate_counters(&[])
        .env("FAKE_BENCH_NO_PIN", "1")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("has no --inject-loops flag"));
}

//! End-to-end tests of `cargo xtask bench|compare|baseline`, running the real xtask binary
//! against the deterministic fake benchmark (`fake-handoff-bench`), in temporary dirs.

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

mod sandbox;
use sandbox::{Sandbox, read_json};

impl Sandbox {
    /// `xtask bench` with 10 runs of 1000 calls.
    fn bench(&self, extra: &[&str]) -> Command {
        self.bench_runs("10", extra)
    }

    /// `xtask bench` with `runs` runs of 1000 calls.
    fn bench_runs(&self, runs: &str, extra: &[&str]) -> Command {
        let mut args = vec!["bench", "--runs", runs, "--count", "1000"];
        args.extend_from_slice(extra);
        self.xtask(&args)
    }

    fn save_baseline(&self, name: &str) {
        self.bench(&["--save-baseline", name]).assert().success();
    }
}

/// One configuration-metric pair of a report's comparison.
struct PairVerdict {
    id: String,
    metric: String,
    verdict: String,
}

fn verdicts(report: &Value) -> Vec<PairVerdict> {
    report["comparison"]["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| PairVerdict {
            id: p["id"].as_str().unwrap().to_owned(),
            metric: p["metric"].as_str().unwrap().to_owned(),
            verdict: p["verdict"].as_str().unwrap().to_owned(),
        })
        .collect()
}

#[test]
fn a_30_percent_slowdown_on_one_config_regresses_and_exits_3() {
    let sb = Sandbox::new();
    sb.save_baseline("main");
    let out = sb.path("out.json");
    sb.bench(&["--baseline", "main", "--fail-on-regression", "--json"])
        .arg(&out)
        .env("FAKE_BENCH_SLOWDOWN", "floor/park=1.3")
        .assert()
        .code(3)
        .stdout(predicate::str::contains("Verdict: REGRESSED: 2 regressed"))
        .stdout(predicate::str::contains("not gated: 2 regressed"));
    let report = read_json(&out);
    for PairVerdict {
        id,
        metric,
        verdict,
    } in verdicts(&report)
    {
        let expected = if id == "floor/park" && metric != "vcsw_per_call" {
            "regressed"
        } else {
            "unchanged"
        };
        assert_eq!(verdict, expected, "{id} {metric}");
    }
    let wall = &report["comparison"]["pairs"][0];
    assert_eq!(wall["id"], "floor/park");
    assert!(
        (wall["ratio"].as_f64().unwrap() - 1.3).abs() < 1e-3,
        "{wall}"
    );
}

#[test]
fn without_fail_on_regression_a_regression_exits_0() {
    let sb = Sandbox::new();
    sb.save_baseline("main");
    sb.bench(&["--baseline", "main"])
        .env("FAKE_BENCH_SLOWDOWN", "tokio-current/dedicated=1.3")
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "tokio-current/dedicated  Wall        ±5%   16.00     20.80    +30.0%",
        ));
}

#[test]
fn the_reference_baseline_is_the_default_and_a_rerun_is_unchanged() {
    let sb = Sandbox::new();
    sb.save_baseline("reference");
    let out = sb.path("out.json");
    sb.bench(&["--fail-on-regression", "--json"])
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains("Compared with baseline reference"));
    assert!(
        verdicts(&read_json(&out))
            .iter()
            .all(|p| p.verdict == "unchanged")
    );
    sb.bench(&["--no-baseline"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Compared with").not());
}

#[test]
fn a_crashing_child_is_reported_the_rest_runs_and_no_baseline_is_replaced() {
    let sb = Sandbox::new();
    sb.save_baseline("main");
    let before = std::fs::read(sb.baselines().join("main.json")).unwrap();
    let out = sb.path("out.json");
    sb.bench_runs("2", &["--save-baseline", "main", "--json"])
        .arg(&out)
        .env("FAKE_BENCH_FAIL", "floor/spin=crash")
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "FAILED run 1/2 floor/spin: exited with exit status: 101",
        ))
        .stderr(predicate::str::contains("fake crash of floor/spin"))
        .stderr(predicate::str::contains("not saving baseline main"));
    assert_eq!(
        std::fs::read(sb.baselines().join("main.json")).unwrap(),
        before
    );
    let report = read_json(&out);
    let ids: Vec<&str> = report["configurations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["floor/park", "tokio-current/dedicated"]);
    assert_eq!(report["failures"].as_array().unwrap().len(), 2);
}

#[test]
fn bad_json_from_a_child_names_the_problem() {
    let sb = Sandbox::new();
    sb.bench_runs("1", &["--only", "floor/*"])
        .env("FAKE_BENCH_FAIL", "floor/spin=badjson")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("printed unusable output"))
        .stderr(predicate::str::contains("line 1 column"));
}

#[test]
fn a_hanging_child_is_killed_at_the_timeout() {
    let sb = Sandbox::new();
    sb.bench_runs("1", &["--only", "floor/park", "--timeout", "0.5"])
        .env("FAKE_BENCH_FAIL", "floor/park=hang")
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "ran past the 0.5 s timeout and was killed",
        ));
}

#[test]
fn a_child_rejecting_its_arguments_stops_with_exit_2() {
    let sb = Sandbox::new();
    sb.bench_runs("3", &[])
        .env("FAKE_BENCH_FAIL", "floor/park=usage")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("rejected the arguments"))
        .stderr(predicate::str::contains("invalid --work"));
}

#[test]
fn a_truncated_baseline_exits_2_naming_the_file_and_position() {
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.baselines()).unwrap();
    std::fs::write(
        sb.baselines().join("main.json"),
        "{\n  \"schema\": 1,\n  \"kind\": \"handoff-",
    )
    .unwrap();
    sb.bench(&["--baseline", "main"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("main.json is not valid JSON"))
        .stderr(predicate::str::contains("line 3 column"));
}

#[test]
fn a_baseline_that_is_a_directory_exits_2() {
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.baselines().join("main.json")).unwrap();
    sb.bench(&["--baseline", "main"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot read"))
        .stderr(predicate::str::contains("main.json"))
        .stderr(predicate::str::contains("directory"));
}

#[test]
fn a_missing_baseline_exits_2() {
    let sb = Sandbox::new();
    sb.bench(&["--baseline", "nope"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("nope.json"));
}

#[test]
fn a_result_file_of_another_schema_exits_2_in_compare() {
    let sb = Sandbox::new();
    sb.save_baseline("main");
    let text = std::fs::read_to_string(sb.baselines().join("main.json")).unwrap();
    let future = sb.path("future.json");
    std::fs::write(&future, text.replacen("\"schema\": 1", "\"schema\": 2", 1)).unwrap();
    sb.xtask(&["compare"])
        .arg(&future)
        .arg(sb.baselines().join("main.json"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("future.json has result schema 2"));
}

#[test]
fn bad_usage_exits_2() {
    let sb = Sandbox::new();
    sb.xtask(&["bench", "--frobnicate"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--frobnicate"));
    sb.xtask(&["bench", "--save-baseline", "../escape"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid baseline name"));
    sb.xtask(&["bench", "--only", "nothing/*"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no configuration"));
    sb.xtask(&["bench", "--threshold", "100"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--threshold"));
}

#[test]
fn compare_offline_warns_across_hosts_and_writes_every_report() {
    let sb = Sandbox::new();
    let (old, new) = (sb.path("old.json"), sb.path("new.json"));
    sb.bench(&["--json"]).arg(&old).assert().success();
    sb.bench(&["--json"])
        .arg(&new)
        .env("FAKE_BENCH_SLOWDOWN", "floor/spin=0.5")
        .assert()
        .success();
    let mut moved = read_json(&new);
    moved["host"]["cores"] = 64.into();
    std::fs::write(&new, moved.to_string()).unwrap();
    let md = sb.path("r.md");
    let bmf = sb.path("r.bmf.json");
    let gab = sb.path("r.gab.json");
    let json = sb.path("r.json");
    sb.xtask(&["compare", "--fail-on-regression"])
        .args([&old, &new])
        .arg("--markdown")
        .arg(&md)
        .arg("--bmf")
        .arg(&bmf)
        .arg("--gab")
        .arg(&gab)
        .arg("--json")
        .arg(&json)
        .assert()
        .success()
        .stdout(predicate::str::contains("DIFFERENT HOST"))
        .stdout(predicate::str::contains("cores: 2 -> 64").or(predicate::str::contains("-> 64")))
        .stdout(predicate::str::contains(
            "floor/spin               Wall        ±5%   0.200     0.100    -50.0%",
        ));
    let markdown = std::fs::read_to_string(&md).unwrap();
    assert!(markdown.contains("> [!WARNING]"), "{markdown}");
    assert!(read_json(&bmf)["floor/park"]["latency"]["value"].is_number());
    assert_eq!(read_json(&gab).as_array().unwrap().len(), 15);
    assert_eq!(
        read_json(&json)["comparison"]["fingerprint"]["host"][0]["field"],
        "cores"
    );
}

#[test]
fn baseline_list_and_show() {
    let sb = Sandbox::new();
    sb.xtask(&["baseline", "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains("no baselines"));
    sb.save_baseline("main");
    std::fs::write(sb.baselines().join("broken.json"), "[").unwrap();
    sb.xtask(&["baseline", "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains("broken  UNREADABLE"))
        .stdout(predicate::str::contains("3 configurations x 10 runs"));
    sb.xtask(&["baseline", "show", "main"])
        .assert()
        .success()
        .stdout(predicate::str::contains("floor/park"));
    sb.xtask(&["baseline", "show", "broken"]).assert().code(2);
}

#[test]
fn runs_are_pinned_unless_no_pin_and_a_baseline_of_the_other_kind_is_flagged() {
    let sb = Sandbox::new();
    sb.save_baseline("reference");
    let stored = read_json(&sb.baselines().join("reference.json"));
    assert_eq!(stored["settings"]["pin"], true);
    let pinned = |report: &Value| -> Vec<bool> {
        report["configurations"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|c| c["samples"].as_array().unwrap().clone())
            .map(|s| s["pinned"].as_bool().unwrap())
            .collect()
    };
    assert!(pinned(&stored).iter().all(|&p| p));

    let out = sb.path("unpinned.json");
    sb.bench_runs("3", &["--no-pin", "--json"])
        .arg(&out)
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "WARNING: baseline reference ran pinned, this run unpinned",
        ));
    let report = read_json(&out);
    assert_eq!(report["settings"]["pin"], false);
    assert!(pinned(&report).iter().all(|&p| !p));
    // `compare` warns as well.
    sb.xtask(&["compare"])
        .arg(sb.baselines().join("reference.json"))
        .arg(&out)
        .assert()
        .success()
        .stderr(predicate::str::contains("ran pinned, this run unpinned"));
    // The same setting as the baseline: no warning.
    sb.bench_runs("3", &[])
        .assert()
        .success()
        .stderr(predicate::str::contains("ran pinned").not());
}

/// Every time of every configuration of the fake 3x slower: another day on these VMs.
const THREE_TIMES_SLOWER: &str = "floor/park=3,floor/spin=3,tokio-current/dedicated=3";

/// Rewrites the stored host of a result file.
fn edit_host(path: &std::path::Path, edit: impl FnOnce(&mut serde_json::Map<String, Value>)) {
    let mut file = read_json(path);
    edit(file["host"].as_object_mut().unwrap());
    std::fs::write(path, file.to_string()).unwrap();
}

/// The pairs of a report's comparison of one metric: (gated, verdict) each.
fn pairs_of(report: &Value, metric: &str) -> Vec<(bool, String)> {
    report["comparison"]["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["metric"] == metric)
        .map(|p| {
            (
                p["gated"].as_bool().unwrap(),
                p["verdict"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn a_baseline_from_another_boot_reports_a_3x_slowdown_without_failing() {
    let sb = Sandbox::new();
    sb.save_baseline("main");
    let stored = sb.baselines().join("main.json");
    edit_host(&stored, |host| {
        host.insert("boot".into(), "0123456789abcdef".into());
    });
    let (out, md) = (sb.path("out.json"), sb.path("out.md"));
    sb.bench(&["--baseline", "main", "--fail-on-regression", "--json"])
        .arg(&out)
        .arg("--markdown")
        .arg(&md)
        .env("FAKE_BENCH_SLOWDOWN", THREE_TIMES_SLOWER)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "Reported, not gated: Wall, CpuTotal, Vcsw: the two runs come from different boots",
        ))
        .stdout(predicate::str::contains("(boot: 0123456789abcdef -> "))
        .stdout(predicate::str::contains(
            "Verdict: nothing gated: 15 configuration-metric pairs reported only (12 regressed",
        ))
        .stdout(predicate::str::contains(
            "This run vouches for no metric against this baseline; Wall, CpuTotal, Vcsw are \
             reported, not gated: the two runs come from different boots",
        ));
    let report = read_json(&out);
    let reason = &report["comparison"]["not_gated"][0];
    assert_eq!(
        reason["metrics"],
        serde_json::json!(["wall_ns_per_call", "cpu_total_ns_per_call", "vcsw_per_call"])
    );
    assert!(
        reason["reason"]
            .as_str()
            .unwrap()
            .contains("different boots"),
        "{reason}"
    );
    // The times are still judged, as information; so are context switches, which the
    // host's scheduler moves as much as the code.
    for metric in ["wall_ns_per_call", "cpu_total_ns_per_call"] {
        assert!(
            pairs_of(&report, metric)
                .iter()
                .all(|(gated, verdict)| !gated && verdict == "regressed"),
            "{metric}"
        );
    }
    assert!(
        pairs_of(&report, "vcsw_per_call")
            .iter()
            .all(|(gated, verdict)| !*gated && verdict == "unchanged")
    );
    let markdown = std::fs::read_to_string(&md).unwrap();
    assert!(
        markdown.contains("## handoff-bench: :information_source: Nothing gated"),
        "{markdown}"
    );
    assert!(
        markdown.contains(
            "> **Reported, not gated: Wall, CpuTotal, Vcsw**: the two runs come from different \
             boots"
        ),
        "{markdown}"
    );

    // `compare` decides alike, and gates once both files share the boot.
    sb.xtask(&["compare", "--fail-on-regression"])
        .arg(&stored)
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "Reported, not gated: Wall, CpuTotal",
        ));
    let boot = report["host"]["boot"].clone();
    edit_host(&stored, |host| {
        host.insert("boot".into(), boot);
    });
    sb.xtask(&["compare", "--fail-on-regression"])
        .arg(&stored)
        .arg(&out)
        .assert()
        .code(3)
        .stdout(predicate::str::contains("Verdict: REGRESSED: 6 regressed"))
        .stdout(predicate::str::contains("Reported, not gated").not());
}

#[test]
fn a_baseline_from_the_same_boot_gates_times_and_a_3x_slowdown_exits_3() {
    let sb = Sandbox::new();
    sb.save_baseline("main");
    let stored = read_json(&sb.baselines().join("main.json"));
    let boot = stored["host"]["boot"].as_str().unwrap();
    assert_eq!(boot.len(), 16, "{boot}");
    let out = sb.path("out.json");
    sb.bench(&["--baseline", "main", "--fail-on-regression", "--json"])
        .arg(&out)
        .env("FAKE_BENCH_SLOWDOWN", THREE_TIMES_SLOWER)
        .assert()
        .code(3)
        .stdout(predicate::str::contains("Verdict: REGRESSED: 6 regressed"))
        .stdout(predicate::str::contains("Reported, not gated").not());
    let report = read_json(&out);
    assert_eq!(report["host"]["boot"], boot);
    assert_eq!(report["comparison"].get("not_gated"), None);
    assert!(
        pairs_of(&report, "wall_ns_per_call")
            .iter()
            .all(|(gated, verdict)| *gated && verdict == "regressed")
    );
}

#[test]
fn a_baseline_from_an_older_xtask_loads_and_never_gates_times() {
    let sb = Sandbox::new();
    sb.save_baseline("reference");
    let stored = sb.baselines().join("reference.json");
    let new_fields = [
        "machine",
        "boot",
        "glibc",
        "cpu_flags",
        "cpu_features",
        "valgrind",
    ];
    edit_host(&stored, |host| {
        for field in new_fields {
            assert!(host.remove(field).is_some(), "{field} not recorded");
        }
    });
    let out = sb.path("out.json");
    sb.bench(&["--fail-on-regression", "--json"])
        .arg(&out)
        .env("FAKE_BENCH_SLOWDOWN", THREE_TIMES_SLOWER)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "Reported, not gated: Wall, CpuTotal, Vcsw: the baseline records no boot id",
        ))
        .stdout(predicate::str::contains(
            "Not recorded by both runs (a file from before these fields, or unreadable): cpu_flags: not recorded -> ",
        ))
        .stdout(predicate::str::contains("DIFFERENT HOST").not())
        .stdout(predicate::str::contains("Verdict: nothing gated"));
    let report = read_json(&out);
    let unrecorded: Vec<&str> = report["comparison"]["fingerprint"]["unrecorded"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        unrecorded,
        ["cpu_flags", "cpu_features", "glibc", "valgrind"]
    );
    // The old file is not rewritten by loading it, and still gets the same answer offline.
    assert!(read_json(&stored)["host"].get("boot").is_none());
    sb.xtask(&["compare", "--fail-on-regression"])
        .arg(&stored)
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains("the baseline records no boot id"));
}

//! End-to-end tests of `cargo xtask bench --against` and `cargo xtask calibrate`: the real
//! xtask binary against the deterministic fake benchmark (with seeded noise), wrapper
//! scripts that give the base its own behaviour, and a temporary git repository whose two
//! commits build a tiny fake benchmark each.

use std::path::Path;
use std::process::Command as StdCommand;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;
use tempfile::TempDir;

mod sandbox;
use sandbox::{FAKE, Sandbox, read_json};
use xtask::comparison::paired::{self, PairedContext};
use xtask::comparison::{Verdict, VerdictPolicy};
use xtask::model::metric::Metric;
use xtask::model::paired_record::PairedSample;

fn verdict(report: &Value, id: &str, metric: &str) -> String {
    report["comparison"]["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == id && p["metric"] == metric)
        .unwrap_or_else(|| panic!("no pair {id} {metric}"))["verdict"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn a_slower_head_regresses_ids_on_one_side_only_are_listed_and_github_gets_told() {
    let sb = Sandbox::new();
    let base = sb.base_wrapper(&[
        ("FAKE_BENCH_IDS", "floor/park,floor/spin,gone/x"),
        ("FAKE_BENCH_SLOWDOWN", ""),
    ]);
    let (out, summary) = (sb.path("out.json"), sb.path("summary.md"));
    std::fs::write(&summary, "# earlier step\n").unwrap();
    let assert = sb
        .noisy_xtask(&[
            "bench",
            "--against",
            "main",
            "--sampling",
            "processes",
            "--estimator",
            "mean",
            "--min-blocks",
            "6",
            "--count",
            "1000",
            "--fail-on-regression",
            "--json",
        ])
        .arg(&out)
        .env("HANDOFF_BENCH_BASE_BIN", &base)
        .env("FAKE_BENCH_IDS", "floor/park,floor/spin,new/y")
        .env("FAKE_BENCH_SLOWDOWN", "floor/park=1.3")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_ACTIONS", "true")
        .assert()
        .code(3)
        .stdout(predicate::str::contains("Verdict: REGRESSED: 2 regressed"))
        .stdout(predicate::str::contains("Added (no baseline): new/y"))
        .stdout(predicate::str::contains("Removed (baseline only): gone/x"))
        .stdout(predicate::str::contains(
            "::error title=Performance regression%3A floor/park Wall::floor/park Wall: +30.",
        ))
        .stdout(predicate::str::contains(
            "::error title=Performance regression%3A floor/park CpuTotal::",
        ))
        .stderr(predicate::str::contains("paired run: 6 blocks"));
    // No annotation for pairs that are not gated (CpuEvtLoop regressed too).
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    assert_eq!(stdout.matches("::error").count(), 2, "{stdout}");
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.starts_with("# earlier step\n## handoff-bench: :x: Performance regressed in 1 configuration: `floor/park`"), "{md}");
    assert!(md.contains("6 paired blocks"), "{md}");

    let report = read_json(&out);
    assert_eq!(
        verdict(&report, "floor/park", "wall_ns_per_call"),
        "regressed"
    );
    assert_eq!(verdict(&report, "floor/park", "vcsw_per_call"), "unchanged");
    assert_ne!(
        verdict(&report, "floor/spin", "wall_ns_per_call"),
        "regressed"
    );
    let paired = &report["paired"];
    assert_eq!(paired["blocks"], 6);
    assert_eq!(paired["added"], serde_json::json!(["new/y"]));
    assert_eq!(paired["removed"], serde_json::json!(["gone/x"]));
    // 6 blocks x 2 common configurations x 2 sides, each with block and side.
    let samples = paired["samples"].as_array().unwrap();
    assert_eq!(samples.len(), 24);
    assert_eq!(samples[0]["side"], "base");
    assert_eq!(samples[1]["side"], "head");
    assert_eq!(samples[4]["block"], 1);
    assert_eq!(samples[4]["side"], "head");
    // The head's samples are the result file's configurations.
    assert_eq!(
        report["configurations"][0]["samples"]
            .as_array()
            .unwrap()
            .len(),
        6
    );
    assert_eq!(report["settings"]["runs"], 6);
}

#[test]
fn the_paired_comparison_can_be_recomputed_from_the_result_file() {
    let sb = Sandbox::new();
    let out = sb.path("out.json");
    sb.noisy_xtask(&[
        "bench",
        "--against",
        "main",
        "--sampling",
        "processes",
        "--estimator",
        "mean",
        "--min-blocks",
        "5",
        "--count",
        "500",
        "--json",
    ])
    .arg(&out)
    .env("HANDOFF_BENCH_BASE_BIN", FAKE)
    .env("FAKE_BENCH_NOISE", "0.02")
    .assert()
    .success();
    let report = read_json(&out);
    let samples: Vec<PairedSample> =
        serde_json::from_value(report["paired"]["samples"].clone()).unwrap();
    let policy: VerdictPolicy =
        serde_json::from_value(report["comparison"]["policy"].clone()).unwrap();
    let ids: Vec<String> = report["configurations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    let context = PairedContext {
        counters: Vec::new(),
        ids,
        baseline_label: report["comparison"]["baseline_label"]
            .as_str()
            .unwrap()
            .to_owned(),
        policy,
        fingerprint: Default::default(),
        added: vec![],
        removed: vec![],
        min_blocks: 5,
        // As the file says it was made (the comment job recomputes it the same way).
        estimator: serde_json::from_value(report["paired"]["estimator"].clone()).unwrap(),
    };
    let recomputed = paired::compare(&samples, &context);
    let stored = report["comparison"]["pairs"].as_array().unwrap();
    assert_eq!(recomputed.pairs.len(), stored.len());
    for (r, s) in recomputed.pairs.iter().zip(stored) {
        assert_eq!(serde_json::to_value(r.verdict).unwrap(), s["verdict"]);
        // serde_json's float parsing may differ from the written value in the last bit.
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * a.abs().max(1e-300);
        assert!(
            close(r.estimate.ratio.unwrap(), s["ratio"].as_f64().unwrap()),
            "{s}"
        );
        assert!(
            close(r.p_adjusted, s["p_adjusted"].as_f64().unwrap()),
            "{s}"
        );
    }
    // A/A: nothing regressed.
    assert!(recomputed.gated().all(|p| p.verdict != Verdict::Regressed));
    assert!(recomputed.pair("floor/park", Metric::Wall).is_some());
}

#[test]
fn only_applies_to_both_sides_and_an_unknown_metric_is_bad_usage() {
    let sb = Sandbox::new();
    let base = sb.base_wrapper(&[("FAKE_BENCH_IDS", "floor/park,floor/spin,gone/x")]);
    sb.noisy_xtask(&[
        "bench",
        "--against",
        "main",
        "--sampling",
        "processes",
        "--estimator",
        "mean",
        "--min-blocks",
        "2",
        "--count",
        "100",
        "--only",
        "floor/*",
    ])
    .env("HANDOFF_BENCH_BASE_BIN", &base)
    .env("FAKE_BENCH_IDS", "floor/park,floor/spin,new/y")
    .assert()
    .success()
    .stdout(predicate::str::contains("Added").not())
    .stdout(predicate::str::contains("Removed").not());
    sb.noisy_xtask(&["bench", "--against", "main", "--gate", "cycles"])
        .env("HANDOFF_BENCH_BASE_BIN", FAKE)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown metric"));
    sb.noisy_xtask(&["bench", "--against", "main", "--max-time", "soon"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a duration"));
    sb.noisy_xtask(&["bench", "--against", "main", "--baseline", "x"])
        .assert()
        .code(2);
    sb.noisy_xtask(&["bench", "--against", "main", "--min-blocks", "1"])
        .env("HANDOFF_BENCH_BASE_BIN", FAKE)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--min-blocks"));
}

#[test]
fn the_independent_bench_writes_the_job_summary_and_annotations_too() {
    let sb = Sandbox::new();
    sb.noisy_xtask(&[
        "bench",
        "--runs",
        "10",
        "--count",
        "1000",
        "--save-baseline",
        "main",
    ])
    .env_remove("FAKE_BENCH_NOISE")
    .assert()
    .success();
    // The same run against `main`, with floor/spin 50% slower.
    let slower_floor_spin = || {
        let mut cmd = sb.noisy_xtask(&[
            "bench",
            "--runs",
            "10",
            "--count",
            "1000",
            "--baseline",
            "main",
        ]);
        cmd.env_remove("FAKE_BENCH_NOISE")
            .env("FAKE_BENCH_SLOWDOWN", "floor/spin=1.5");
        cmd
    };
    let summary = sb.path("summary.md");
    slower_floor_spin()
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_ACTIONS", "true")
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "::error title=Performance regression%3A floor/spin Wall::",
        ));
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(
        md.contains("Performance regressed in 1 configuration: `floor/spin`"),
        "{md}"
    );
    // Outside Actions: no summary, no workflow commands.
    slower_floor_spin()
        .assert()
        .success()
        .stdout(predicate::str::contains("::error").not());
}

#[test]
fn calibrate_on_the_seeded_fake_gives_exact_figures() {
    let sb = Sandbox::new();
    let out = sb.path("calibration.json");
    sb.noisy_xtask(&[
        "calibrate",
        "--sampling",
        "processes",
        "--estimator",
        "mean",
        "--trials",
        "10",
        "--blocks",
        "6",
        "--effect",
        "5",
        "--effect",
        "20",
        "--count",
        "1000",
        "--json",
    ])
    .arg(&out)
    .env("FAKE_BENCH_NOISE", "0.03")
    .env("FAKE_BENCH_SEED", "1")
    .env("FAKE_BENCH_IDS", "floor/park,tokio-current/dedicated")
    .assert()
    .success()
    .stdout(predicate::str::contains("False regressions in A/A trials"))
    .stdout(predicate::str::contains("Minimum detectable effect"));
    let c = read_json(&out);
    assert_eq!(c["kind"], "handoff-bench-calibration");
    assert_eq!(c["trials"].as_array().unwrap().len(), 30);
    // A/A: no false regression in 10 trials, under either rule.
    assert_eq!(c["false_alarms_significant"]["count"], 0);
    assert_eq!(c["false_alarms_gate"]["count"], 0);
    let detected = |effect: f64, id: &str, rule: &str| {
        c["detection"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["effect_pct"] == effect && d["id"] == id)
            .unwrap()[rule]["count"]
            .as_u64()
            .unwrap()
    };
    // 5% against ~3% run noise over 6 blocks (MDE ~10%): found by significance 3 times in
    // 10, never by the gate (its interval has to clear +5%); 20% always, by both.
    for id in ["floor/park", "tokio-current/dedicated"] {
        assert_eq!(detected(5.0, id, "significant"), 3, "{id}");
        assert_eq!(detected(5.0, id, "gate"), 0, "{id}");
        assert_eq!(detected(20.0, id, "significant"), 10, "{id}");
        assert_eq!(detected(20.0, id, "gate"), 10, "{id}");
    }
    // The injection is 5% / 20% of the pilot's wall time per call, honoured exactly by
    // the fake: 14000 ns nominal for floor/park.
    let park = &c["pilot"][0];
    let wall = park["wall_ns_per_call"].as_f64().unwrap();
    assert_eq!(
        park["inject_ns"][0].as_u64().unwrap(),
        (0.05 * wall).round() as u64
    );
    let mde = &c["mde"][0];
    assert!(mde["pct"].as_f64().unwrap() > 5.0, "{mde}");
    assert_eq!(c["family"]["gated_pairs"], 6);
}

#[test]
fn calibrate_honours_the_workspace_flag_as_bench_does() {
    let sb = Sandbox::new();
    let repo = sb.path("repo");
    std::fs::create_dir(&repo).unwrap();
    std::fs::write(repo.join("README"), "another workspace\n").unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["config", "user.email", "t@example.com"]);
    git(&repo, &["config", "user.name", "t"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-qm", "other"]);
    let rev = std::process::Command::new("git")
        .arg("-C")
        .arg(&repo)
        .args(["rev-parse", "HEAD"])
        .output()
        .unwrap();
    let rev = String::from_utf8(rev.stdout).unwrap().trim().to_owned();
    let out = sb.path("calibration.json");
    sb.noisy_xtask(&[
        "calibrate",
        "--sampling",
        "processes",
        "--estimator",
        "mean",
        "--trials",
        "1",
        "--blocks",
        "2",
        "--pilot-runs",
        "1",
        "--count",
        "100",
        "--only",
        "floor/park",
        "--json",
    ])
    .arg(&out)
    .env("HANDOFF_BENCH_WORKSPACE", &repo)
    .assert()
    .success();
    // The provenance is the given workspace's, not the xtask's own.
    assert_eq!(read_json(&out)["git"]["revision"], rev.as_str());
}

// --- a real worktree: two commits of a tiny crate, both built --------------------------------

/// The tiny benchmark both commits build: it runs the fake benchmark (so its lines are the
/// fake's, serialized from a serde struct and tested against the golden fixture), with
/// `floor/park` slowed down by the factor that replaces `@SLOWDOWN@`, and seeded noise that
/// differs in every run. A tiny crate that serialized lines itself would compile serde (and
/// its derive) for both commits in every test run.
const TINY_MAIN: &str = r#"
fn main() {
    // Invocation counters of the fake, per build (base and head sit in their own target/).
    let state = std::env::current_exe().unwrap().with_file_name("fake-state");
    std::fs::create_dir_all(&state).unwrap();
    let status = std::process::Command::new("@FAKE@")
        .args(std::env::args_os().skip(1))
        .env("FAKE_BENCH_IDS", "floor/park,floor/spin")
        .env("FAKE_BENCH_SLOWDOWN", "floor/park=@SLOWDOWN@")
        .env("FAKE_BENCH_STATE", &state)
        .env("FAKE_BENCH_NOISE", "0.002")
        .env("FAKE_BENCH_SEED", std::process::id().to_string())
        .status()
        .unwrap();
    std::process::exit(status.code().unwrap_or(1));
}
"#;

/// [`TINY_MAIN`] with `floor/park` `slowdown` times the fake's 14 us per call.
fn tiny_main(slowdown: f64) -> String {
    TINY_MAIN
        .replace("@FAKE@", FAKE)
        .replace("@SLOWDOWN@", &slowdown.to_string())
}

fn git(dir: &Path, args: &[&str]) {
    let out = StdCommand::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A repository: `main` with `main_source`, then a branch `feature` (checked out) with the
/// tiny benchmark at `head_slowdown`.
fn tiny_repo(main_source: &str, head_slowdown: f64) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::create_dir(p.join("src")).unwrap();
    std::fs::write(
        p.join("Cargo.toml"),
        "[package]\nname = \"tiny-bench\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[[bin]]\nname = \"handoff-bench\"\npath = \"src/main.rs\"\n\n[workspace]\n",
    )
    .unwrap();
    std::fs::write(p.join(".gitignore"), "/target\n").unwrap();
    std::fs::write(p.join("src/main.rs"), main_source).unwrap();
    git(p, &["init", "-q", "-b", "main"]);
    git(p, &["config", "user.email", "t@example.com"]);
    git(p, &["config", "user.name", "t"]);
    git(p, &["add", "."]);
    git(p, &["commit", "-qm", "base"]);
    git(p, &["checkout", "-qb", "feature"]);
    std::fs::write(p.join("src/main.rs"), tiny_main(head_slowdown)).unwrap();
    git(p, &["commit", "-qam", "head"]);
    dir
}

fn worktree_xtask(repo: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xtask"));
    cmd.args(args)
        .env("HANDOFF_BENCH_WORKSPACE", repo)
        .env("HANDOFF_BENCH_NO_COUNTERS", "true")
        .env("CI", "true")
        .env_remove("HANDOFF_BENCH_BIN")
        .env_remove("HANDOFF_BENCH_BASE_BIN")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("GITHUB_ACTIONS");
    cmd
}

#[test]
fn a_real_base_worktree_is_built_and_a_30_percent_slower_head_regresses() {
    let repo = tiny_repo(&tiny_main(1.0), 1.3);
    let p = repo.path();
    let out = p.join("out.json");
    worktree_xtask(
        p,
        &[
            "bench",
            "--against",
            "main",
            "--sampling",
            "processes",
            "--estimator",
            "mean",
            "--min-blocks",
            "4",
            "--count",
            "1000",
            "--fail-on-regression",
            "--json",
        ],
    )
    .arg(&out)
    .assert()
    .code(3)
    .stderr(predicate::str::contains("merge-base with HEAD"))
    .stdout(predicate::str::contains("floor/park"));
    let report = read_json(&out);
    assert_eq!(
        verdict(&report, "floor/park", "wall_ns_per_call"),
        "regressed"
    );
    assert_ne!(
        verdict(&report, "floor/spin", "wall_ns_per_call"),
        "regressed"
    );
    let base_sha = report["paired"]["base"]["commit"]
        .as_str()
        .unwrap()
        .to_owned();
    let worktree = p.join("target/xtask-against").join(&base_sha);
    assert!(worktree.join("src/main.rs").exists());
    // Built with its own target directory, next to (not inside) the head's.
    assert!(
        p.join("target/xtask-against/target/release/handoff-bench")
            .exists()
    );
    assert!(p.join("target/release/handoff-bench").exists());
    // A second run reuses the worktree (and its build).
    worktree_xtask(
        p,
        &[
            "bench",
            "--against",
            "main",
            "--sampling",
            "processes",
            "--estimator",
            "mean",
            "--min-blocks",
            "2",
            "--count",
            "100",
        ],
    )
    .assert()
    .success();
    assert!(worktree.exists());
}

#[test]
fn a_base_that_does_not_build_exits_1_with_cargo_s_error() {
    let repo = tiny_repo("fn main() { let x: u32 = \"not a number\"; }\n", 1.0);
    worktree_xtask(
        repo.path(),
        &["bench", "--against", "main", "--count", "100"],
    )
    .assert()
    .code(1)
    .stderr(predicate::str::contains("building the base"))
    .stderr(predicate::str::contains("mismatched types"));
    worktree_xtask(repo.path(), &["bench", "--against", "no-such-ref"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no-such-ref"));
}

/// Every sample's `pinned` field, base and head, from a paired result file.
fn pinned_flags(report: &Value) -> Vec<bool> {
    report["paired"]["samples"]
        .as_array()
        .unwrap()
        .iter()
        // A binary from before --pin reports no field: unpinned.
        .map(|s| s["measurement"]["pinned"].as_bool().unwrap_or(false))
        .collect()
}

#[test]
fn both_sides_are_pinned_or_neither_is() {
    let sb = Sandbox::new();
    let paired = |base: &Path, name: &str| {
        let out = sb.path(name);
        let assert = sb
            .noisy_xtask(&[
                "bench",
                "--against",
                "main",
                "--sampling",
                "processes",
                "--estimator",
                "mean",
                "--min-blocks",
                "2",
                "--count",
                "100",
                "--json",
            ])
            .arg(&out)
            .env("HANDOFF_BENCH_BASE_BIN", base)
            .assert()
            .success();
        let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
        (read_json(&out), stderr)
    };

    // Both binaries know --pin: every run of both sides is pinned, and the file says so.
    let (report, stderr) = paired(Path::new(FAKE), "both.json");
    assert_eq!(report["settings"]["pin"], true);
    let flags = pinned_flags(&report);
    assert_eq!(flags.len(), 2 * 2 * 3);
    assert!(flags.iter().all(|&p| p), "{flags:?}");
    assert!(!stderr.contains("unpinned"), "{stderr}");

    // A base from before --pin: neither side is pinned, with a warning, and no run fails.
    let old_base = sb.base_wrapper(&[("FAKE_BENCH_NO_PIN", "1")]);
    let (report, stderr) = paired(&old_base, "old.json");
    assert_eq!(report["settings"]["pin"], false);
    let flags = pinned_flags(&report);
    assert_eq!(flags.len(), 2 * 2 * 3);
    assert!(flags.iter().all(|&p| !p), "{flags:?}");
    assert!(
        stderr.contains(&format!(
            "the base binary {} has no --pin flag; running both sides unpinned",
            old_base.display()
        )),
        "{stderr}"
    );
}

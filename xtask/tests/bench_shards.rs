//! The sharded check as the workflows run it: `bench.yml`'s shard step (its own script,
//! with this build's xtask and the fake benchmark as the binaries its build job hands
//! over) run for shards 1, 2 and 3 of 3 and, apart, as the only shard of 1; then the gate's
//! `xtask merge` and `bench-comment.yml`'s comment step over those artifacts, against the
//! fake GitHub. The merged comparison has the unsharded one's pairs and verdicts, timing
//! and instruction counts alike, and the comment the unsharded one's report.

mod comment_support;
mod sandbox;
mod workflow_support;

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use comment_support::fake_github::{FakeGitHub, OWNER, PR, REPO, TokenKind};
use comment_support::workflow::{BUILT_PROGRAM, comment_step};
use xtask::comparison::Verdict;
use xtask::model::metric::Metric;

const BENCH: &str = "bench.yml";
const SHARD_STEP: &str =
    "Paired benchmark of this shard, base vs head (timing and instruction counts)";
const GATE_STEP: &str = "Merge the shards and judge them once";
const IDS: &str = "floor/park,floor/spin,smol/dedicated,smol/to-thread,tokio-current/dedicated,tokio-current/to-thread,tokio-multi/dedicated";
/// The head: `smol/dedicated` 30% slower; `tokio-current/to-thread` 5% more instructions.
const HEAD_ENV: [(&str, &str); 2] = [
    ("FAKE_BENCH_SLOWDOWN", "smol/dedicated=1.3"),
    ("FAKE_BENCH_INSTRUCTIONS", "tokio-current/to-thread=1.05"),
];

/// A shell script that runs the fake benchmark with `exports` set and the head's
/// variables unset otherwise.
fn wrapper(path: &Path, exports: &[(&str, &str)]) {
    let mut script = String::from("#!/bin/sh\nunset FAKE_BENCH_SLOWDOWN FAKE_BENCH_INSTRUCTIONS\n");
    for (k, v) in exports {
        script.push_str(&format!("export {k}='{v}'\n"));
    }
    script.push_str(&format!("exec '{}' \"$@\"\n", sandbox::FAKE));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, script).unwrap();
    // As an artifact hands them over: without the executable bit (the step sets it).
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).unwrap();
}

/// What the build job hands over: `BINS/xtask`, `BINS/head/handoff-bench`,
/// `BINS/base/handoff-bench`.
fn bins(root: &Path) -> PathBuf {
    let bins = root.join("bench-bins");
    wrapper(&bins.join("head/handoff-bench"), &HEAD_ENV);
    wrapper(&bins.join("base/handoff-bench"), &[]);
    std::fs::copy(env!("CARGO_BIN_EXE_xtask"), bins.join("xtask")).unwrap();
    bins
}

/// Runs the shard step for shard `k` of `n` in its artifact's directory under `results`.
fn run_shard(bins: &Path, results: &Path, k: u32, n: u32) {
    let dir = results.join(format!("bench-results-fake-shard-{k}-of-{n}"));
    std::fs::create_dir_all(&dir).unwrap();
    let mut names = workflow_support::env_names(BENCH, "bench", SHARD_STEP);
    names.sort();
    assert_eq!(names, ["BASE_REF", "BINS", "SHARD", "SHARDS"]);
    let script = workflow_support::script(BENCH, "bench", SHARD_STEP);
    let state = dir.join("fake-state");
    std::fs::create_dir_all(&state).unwrap();
    let (k, n) = (k.to_string(), n.to_string());
    let ran = workflow_support::run_script(
        &dir,
        &script,
        &[
            ("BASE_REF", "main"),
            ("SHARD", &k),
            ("SHARDS", &n),
            ("BINS", bins.to_str().unwrap()),
            ("FAKE_BENCH_IDS", IDS),
            ("FAKE_BENCH_NOISE", "0.01"),
            ("FAKE_BENCH_SEED", "7"),
            ("FAKE_BENCH_STATE", state.to_str().unwrap()),
            ("HANDOFF_BENCH_CALLGRIND_LAUNCH", "env"),
            // Set by the runner; the step must keep both away from the shard's xtask.
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_STEP_SUMMARY", "/nonexistent/summary"),
        ],
    );
    let said = ran.ok();
    assert!(!said.contains("::error"), "a shard annotated: {said}");
    assert!(dir.join("bench.json").is_file());
    std::fs::remove_dir_all(&state).unwrap();
}

/// The gate step over `results`: its exit status and stdout.
fn run_gate(bins: &Path, results: &Path) -> (Option<i32>, String) {
    let script = workflow_support::script(BENCH, "gate", GATE_STEP);
    let summary = results.join("../summary.md");
    let ran = workflow_support::run_script(
        results,
        &script,
        &[
            ("BINS", bins.to_str().unwrap()),
            ("RESULTS_DIR", results.to_str().unwrap()),
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_STEP_SUMMARY", summary.to_str().unwrap()),
        ],
    );
    (
        ran.output.status.code(),
        String::from_utf8_lossy(&ran.output.stdout).into_owned(),
    )
}

/// `bench-comment.yml`'s comment step over `results`, against the fake GitHub; the body.
async fn comment(results: &Path) -> String {
    let fake = FakeGitHub::start(TokenKind::Installation, vec![]).await;
    let step = comment_step();
    let script = step.run.trim_start().replacen(
        BUILT_PROGRAM,
        &format!("'{}'", env!("CARGO_BIN_EXE_xtask")),
        1,
    );
    let mut cmd = Command::new("bash");
    cmd.args(["--noprofile", "--norc", "-eo", "pipefail", "-c", &script])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GITHUB_API_URL", fake.server.uri());
    for (name, _) in &step.env {
        let value = match name.as_str() {
            "GITHUB_TOKEN" => "ghs_token".to_owned(),
            "REPO" => format!("{OWNER}/{REPO}"),
            "PR_NUMBER" => PR.to_string(),
            "HEAD_BRANCH" => "feature".to_owned(),
            "HEAD_SHA" => "0123456789abcdef0123456789abcdef01234567".to_owned(),
            "RUN_URL" => "https://github.com/acme/widgets/actions/runs/1".to_owned(),
            "RESULTS_DIR" => results.to_str().unwrap().to_owned(),
            other => panic!("the comment step sets {other}: give it a test value"),
        };
        cmd.env(name, value);
    }
    let output = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let comments = fake.comments();
    assert_eq!(comments.len(), 1);
    comments[0].body.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_shards_make_the_unsharded_comparison_and_comment() {
    let root = tempfile::tempdir().unwrap();
    let bins = bins(root.path());
    let (sharded, whole) = (root.path().join("sharded"), root.path().join("whole"));
    for k in 1..=3 {
        run_shard(&bins, &sharded, k, 3);
    }
    run_shard(&bins, &whole, 1, 1);

    // Each shard ran its own slice; together, every configuration once.
    let mut slices = Vec::new();
    for k in 1..=3 {
        let file = sandbox::read_json(
            &sharded.join(format!("bench-results-fake-shard-{k}-of-3/bench.json")),
        );
        let ids: Vec<String> = file["configurations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect();
        slices.push(ids);
    }
    assert_eq!(slices.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2, 3]);
    assert_eq!(slices.concat().join(","), IDS);

    // The merged comparison: the unsharded one's pairs, with the same verdicts.
    let merged = xtask::github::sections::from_dir(&sharded).unwrap();
    let unsharded = xtask::github::sections::from_dir(&whole).unwrap();
    assert!(merged.refused.is_empty() && unsharded.refused.is_empty());
    let (m, u) = (&merged.sections[0], &unsharded.sections[0]);
    assert_eq!(m.merged.files.len(), 3);
    let verdicts = |c: &xtask::comparison::Comparison| {
        c.pairs
            .iter()
            .map(|p| (p.id.clone(), p.metric, p.verdict, p.gated))
            .collect::<Vec<_>>()
    };
    let (mc, uc) = (
        m.comparison.as_ref().unwrap(),
        u.comparison.as_ref().unwrap(),
    );
    assert_eq!(verdicts(mc), verdicts(uc));
    // Not vacuous: the injected changes are there, in time and in instructions.
    let verdict = |id: &str, metric: Metric| {
        mc.pairs
            .iter()
            .find(|p| p.id == id && p.metric == metric)
            .unwrap()
            .verdict
    };
    assert_eq!(verdict("smol/dedicated", Metric::Wall), Verdict::Regressed);
    assert_eq!(
        verdict("tokio-current/to-thread", Metric::Instructions),
        Verdict::Regressed
    );
    assert_eq!(
        verdict("floor/park", Metric::Instructions),
        Verdict::Unchanged
    );
    // Holm over every gated pair of the suite at once, as unsharded.
    assert_eq!(mc.gate_tally(), uc.gate_tally());

    // The gate: one verdict over the merged run, the regressions annotated once.
    let (code, said) = run_gate(&bins, &sharded);
    assert_eq!(code, Some(3), "{said}");
    assert!(said.contains("merged 3 file(s)"), "{said}");
    assert_eq!(
        said.matches("::error title=Performance regression").count(),
        3,
        "{said}"
    );
    let summary = std::fs::read_to_string(root.path().join("summary.md")).unwrap();
    assert!(summary.contains("Merged from 3 shards"), "{summary}");

    // The comment: the unsharded run's report, and a line saying it was merged.
    let (sharded_body, whole_body) = (comment(&sharded).await, comment(&whole).await);
    // Line for line the same report (the fake's numbers of a configuration do not depend
    // on the others), but for when each file was written and the line on the merge.
    let note = "Merged from 3 shards of one run (`bench-results-fake-shard-1-of-3/bench.json`, \
                `bench-results-fake-shard-2-of-3/bench.json`, \
                `bench-results-fake-shard-3-of-3/bench.json`): one comparison over all their \
                configurations, with Holm's correction over all their gated pairs at once.";
    assert!(sharded_body.contains(note), "{sharded_body}");
    assert!(!whole_body.contains("Merged from"), "{whole_body}");
    let comparable = |body: &str| -> Vec<String> {
        body.lines()
            .filter(|l| *l != note)
            .map(|l| match l.find(", created `") {
                Some(at) => l[..at].to_owned(),
                None => l.to_owned(),
            })
            .collect()
    };
    let (s, w) = (comparable(&sharded_body), comparable(&whole_body));
    assert_eq!(s[..s.len() - 1], w[..], "{sharded_body}\n---\n{whole_body}");
    assert!(s.iter().any(|l| l.contains("| `smol/dedicated` |")));

    // One hostile shard: the others are still merged and posted, it is named, its slice
    // is said to be missing; the gate refuses to pass what it could not read.
    let spoiled = sharded.join("bench-results-fake-shard-2-of-3/bench.json");
    let mut file = sandbox::read_json(&spoiled);
    file["paired"]["counter_samples"][0]["measurement"]["vcsw_loop"] = u64::MAX.into();
    file["paired"]["counter_samples"][0]["measurement"]["vcsw_worker"] = 1.into();
    std::fs::write(&spoiled, file.to_string()).unwrap();
    let body = comment(&sharded).await;
    assert!(
        body.contains("Merged from 2 shards of one run (`bench-results-fake-shard-1-of-3/bench.json`, `bench-results-fake-shard-3-of-3/bench.json`)"),
        "{body}"
    );
    assert!(
        body.contains("> Shard 2 of 3 of this runner is missing"),
        "{body}"
    );
    let refused = body
        .lines()
        .find(|l| l.starts_with("- `bench-results-fake-shard-2-of-3/bench.json`: "))
        .unwrap_or_else(|| panic!("{body}"));
    assert!(
        refused.contains("`configuration smol/dedicated: paired counter sample 0:"),
        "{refused}"
    );
    assert!(
        refused.contains("voluntary context switches add up to more"),
        "{refused}"
    );
    // Shard 2's slice is `smol/dedicated` and `smol/to-thread`.
    assert!(body.contains("| `floor/park` |"), "{body}");
    assert!(
        !body.contains("`smol/dedicated`") && !body.contains("`smol/to-thread`"),
        "shard 2's slice: {body}"
    );
    let (code, said) = run_gate(&bins, &sharded);
    assert_eq!(code, Some(2), "{said}");
}

const BUILD_STEP: &str = "Build the base, the head and the xtask once";

/// A stand-in for cargo on PATH: `build` writes, as the executable it was asked for, which
/// commit it was built from (and where).
const FAKE_CARGO: &str = r#"#!/bin/sh
case "$*" in
  *"--package xtask"*) out="${CARGO_TARGET_DIR:-target}/debug/xtask" ;;
  *"--bin handoff-bench"*) out="${CARGO_TARGET_DIR:-target}/release/handoff-bench" ;;
  *) echo "unexpected cargo $*" >&2; exit 2 ;;
esac
mkdir -p "$(dirname "$out")"
echo "built from $(git rev-parse HEAD) with: $*" > "$out"
"#;

#[test]
fn the_build_job_builds_the_merge_base_and_the_head_once_and_lays_them_out() {
    let repo = workflow_support::Repo::new();
    std::fs::write(repo.seed.join("Cargo.lock"), "lock of the base\n").unwrap();
    let base = repo.push_main("base");
    // The pull request: one commit on top of the base; main moves on meanwhile.
    let work = repo.checkout("runner");
    std::fs::write(work.join("Cargo.lock"), "lock of the head\n").unwrap();
    repo.git(&work, &["commit", "-qam", "head"]);
    let head = repo.git(&work, &["rev-parse", "HEAD"]);
    repo.push_main("later");
    repo.git(&work, &["fetch", "--quiet", "origin"]);

    let tools = repo.root.join("tools");
    std::fs::create_dir_all(&tools).unwrap();
    std::fs::write(tools.join("cargo"), FAKE_CARGO).unwrap();
    std::fs::set_permissions(tools.join("cargo"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        tools.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let (bins, tree) = (repo.root.join("bins"), repo.root.join("base-tree"));
    // The runner's own target directory (never this test's: the fake cargo writes there).
    let runner_target = repo.root.join("runner-target");
    let mut names = workflow_support::env_names(BENCH, "build", BUILD_STEP);
    names.sort();
    assert_eq!(names, ["BASE_REF", "BASE_TREE", "BINS"]);
    let script = workflow_support::script(BENCH, "build", BUILD_STEP);
    repo.run(
        &work,
        &script,
        &[
            ("PATH", &path),
            ("BASE_REF", "main"),
            ("BINS", bins.to_str().unwrap()),
            ("BASE_TREE", tree.to_str().unwrap()),
            ("CARGO_TARGET_DIR", runner_target.to_str().unwrap()),
        ],
    )
    .ok();
    let read = |p: &str| std::fs::read_to_string(bins.join(p)).unwrap();
    assert!(
        read("base/handoff-bench").starts_with(&format!("built from {base} ")),
        "{}",
        read("base/handoff-bench")
    );
    assert!(read("base/handoff-bench").contains("--release --bin handoff-bench"));
    assert_eq!(read("base/Cargo.lock"), "lock of the base\n");
    assert!(read("head/handoff-bench").starts_with(&format!("built from {head} ")));
    assert!(read("head/handoff-bench").contains("--release --locked --bin handoff-bench"));
    assert!(read("xtask").starts_with(&format!("built from {head} ")));
}

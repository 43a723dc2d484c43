//! The `bench` workflow's choice of runners, its own script run as the runner runs it: a pull
//! request from a fork gets GitHub-hosted labels only (its code never reaches a self-hosted
//! machine), one from a branch of the repository gets the whole `BENCH_RUNNERS` list.

mod workflow_support;

const FILE: &str = "bench.yml";
const STEP: &str = "Choose the runners (GitHub-hosted only for forks)";

fn choose(runners: &str, head_repository: &str) -> workflow_support::Ran {
    let dir = tempfile::tempdir().unwrap();
    let script = workflow_support::script(FILE, "runners", STEP);
    let mut names = workflow_support::env_names(FILE, "runners", STEP);
    names.sort();
    assert_eq!(names, ["HEAD_REPOSITORY", "REPOSITORY", "RUNNERS"]);
    workflow_support::run_script(
        dir.path(),
        &script,
        &[
            ("RUNNERS", runners),
            ("HEAD_REPOSITORY", head_repository),
            ("REPOSITORY", "acme/widgets"),
        ],
    )
}

const MIXED: &str = r#"["ubuntu-24.04", "gpu-box", ["self-hosted", "linux"], "macos-15", "ubuntu-24.04; rm -rf /"]"#;

#[test]
fn a_forks_pull_request_runs_on_github_hosted_runners_only() {
    let ran = choose(MIXED, "mallory/widgets");
    let said = ran.ok();
    assert_eq!(ran.outputs["list"], r#"["ubuntu-24.04","macos-15"]"#);
    assert!(
        said.contains(r#"not on ["gpu-box",["self-hosted","linux"],"ubuntu-24.04; rm -rf /"]"#),
        "{said}"
    );
    // Nothing hosted in the list: the default hosted runner.
    let ran = choose(r#"["gpu-box"]"#, "mallory/widgets");
    ran.ok();
    assert_eq!(ran.outputs["list"], r#"["ubuntu-24.04"]"#);
}

#[test]
fn a_branch_of_the_repository_gets_every_listed_runner() {
    let ran = choose(MIXED, "acme/widgets");
    ran.ok();
    assert_eq!(
        ran.outputs["list"],
        r#"["ubuntu-24.04","gpu-box",["self-hosted","linux"],"macos-15","ubuntu-24.04; rm -rf /"]"#
    );
}

#[test]
fn a_list_that_is_not_one_is_refused() {
    for bad in ["gpu-box", "[]", "{\"a\": 1}"] {
        let ran = choose(bad, "acme/widgets");
        assert!(!ran.output.status.success(), "{bad}");
        let said = String::from_utf8_lossy(&ran.output.stdout).into_owned();
        assert!(
            said.contains("BENCH_RUNNERS is not a non-empty JSON list"),
            "{said}"
        );
    }
}

const SHARDS_STEP: &str = "Split the suite into shards (BENCH_SHARDS)";

/// The shards step with `BENCH_SHARDS` (the workflow gives `1` when it is unset).
fn shards(value: &str, runners: &str) -> workflow_support::Ran {
    let dir = tempfile::tempdir().unwrap();
    let script = workflow_support::script(FILE, "runners", SHARDS_STEP);
    let mut names = workflow_support::env_names(FILE, "runners", SHARDS_STEP);
    names.sort();
    assert_eq!(names, ["RUNNERS", "SHARDS"]);
    workflow_support::run_script(
        dir.path(),
        &script,
        &[("SHARDS", value), ("RUNNERS", runners)],
    )
}

#[test]
fn bench_shards_sets_the_shard_matrix() {
    let ran = shards("1", r#"["ubuntu-24.04"]"#);
    ran.ok();
    assert_eq!(ran.outputs["count"], "1");
    assert_eq!(ran.outputs["shards"], "[1]");
    let ran = shards("3", r#"["ubuntu-24.04","macos-15"]"#);
    ran.ok();
    assert_eq!(ran.outputs["count"], "3");
    assert_eq!(ran.outputs["shards"], "[1,2,3]");
    // At the comment's caps: 4 runners x 8 shards = 32 files.
    let four = r#"["a","b","c","d"]"#;
    assert_eq!(shards("8", four).outputs["shards"], "[1,2,3,4,5,6,7,8]");
}

#[test]
fn a_shard_count_outside_1_to_8_or_beyond_the_comments_caps_is_refused() {
    for bad in ["0", "9", "x", "", "3; rm -rf /", "03", "1.5"] {
        let ran = shards(bad, r#"["ubuntu-24.04"]"#);
        assert!(!ran.output.status.success(), "{bad:?}");
        let said = String::from_utf8_lossy(&ran.output.stdout).into_owned();
        assert!(
            said.contains("BENCH_SHARDS is not a whole number from 1 to 8"),
            "{bad:?}: {said}"
        );
        assert!(ran.outputs.is_empty(), "{bad:?}");
    }
    let nine: Vec<String> = (0..9).map(|i| format!("\"r{i}\"")).collect();
    for (count, runners) in [
        ("1", format!("[{}]", nine.join(","))),
        ("8", r#"["a","b","c","d","e"]"#.to_owned()),
    ] {
        let ran = shards(count, &runners);
        assert!(!ran.output.status.success(), "{count} x {runners}");
        let said = String::from_utf8_lossy(&ran.output.stdout).into_owned();
        assert!(
            said.contains("at most 8 runners and 32 result files"),
            "{said}"
        );
    }
}

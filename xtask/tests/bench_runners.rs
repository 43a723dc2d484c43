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

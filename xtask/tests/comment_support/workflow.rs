//! The comment job's real command line, read from `.github/workflows/bench-comment.yml`, so
//! that the tests run exactly what the workflow runs.

#![allow(
    dead_code,
    reason = "each test binary uses a different part of the support"
)]

use std::path::PathBuf;

use yaml_rust2::{Yaml, YamlLoader};

/// The workflow file.
pub fn path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.github/workflows/bench-comment.yml")
}

/// How the workflow builds the xtask, and where that build puts it.
pub const BUILD_COMMAND: &str = "cargo build --locked --package xtask";
pub const BUILT_PROGRAM: &str = "./target/debug/xtask";

/// One `run:` step: its script and its environment (names and `${{ }}` expressions).
#[derive(Debug, Clone)]
pub struct Step {
    pub name: String,
    pub run: String,
    pub env: Vec<(String, String)>,
}

/// Every `run:` step of the `comment` job, in order.
pub fn comment_job_steps() -> Vec<Step> {
    let text = std::fs::read_to_string(path()).unwrap();
    let docs = YamlLoader::load_from_str(&text).unwrap();
    let steps = docs[0]["jobs"]["comment"]["steps"]
        .as_vec()
        .expect("bench-comment.yml has jobs.comment.steps");
    steps
        .iter()
        .filter_map(|step| {
            let run = step["run"].as_str()?.to_owned();
            let env = match &step["env"] {
                Yaml::Hash(map) => map
                    .iter()
                    .map(|(k, v)| {
                        let value = match v {
                            Yaml::String(s) => s.clone(),
                            other => format!("{other:?}"),
                        };
                        (k.as_str().unwrap().to_owned(), value)
                    })
                    .collect(),
                _ => Vec::new(),
            };
            Some(Step {
                name: step["name"].as_str().unwrap_or("").to_owned(),
                run,
                env,
            })
        })
        .collect()
}

/// The step that runs `xtask comment`, checked to run the xtask the job built (debug build,
/// at [`BUILT_PROGRAM`]).
pub fn comment_step() -> Step {
    let steps = comment_job_steps();
    assert!(
        steps.iter().any(|s| s.run.trim() == BUILD_COMMAND),
        "the comment job no longer builds the xtask with `{BUILD_COMMAND}`: update the test"
    );
    let mut posting = steps
        .into_iter()
        .filter(|s| s.run.contains("xtask comment"));
    let step = posting.next().expect("a step runs `xtask comment`");
    assert!(
        posting.next().is_none(),
        "more than one step runs `xtask comment`"
    );
    assert!(
        step.run
            .trim_start()
            .starts_with(&format!("{BUILT_PROGRAM} comment ")),
        "the comment step no longer starts with `{BUILT_PROGRAM} comment`: {:?}",
        step.run
    );
    step
}

/// The step that draws the report pages (`xtask report`), checked to run the xtask the
/// job built.
pub fn report_step() -> Step {
    let mut drawing = comment_job_steps()
        .into_iter()
        .filter(|s| s.run.contains("xtask report"));
    let step = drawing.next().expect("a step runs `xtask report`");
    assert!(
        drawing.next().is_none(),
        "more than one step runs `xtask report`"
    );
    assert!(
        step.run.contains(&format!("{BUILT_PROGRAM} report ")),
        "the report step no longer runs `{BUILT_PROGRAM} report`: {:?}",
        step.run
    );
    step
}

/// The `with:` of the comment job's step that uses `action` (e.g.
/// `actions/upload-artifact`), as names and values.
pub fn uses_step(action: &str) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(path()).unwrap();
    let docs = YamlLoader::load_from_str(&text).unwrap();
    let steps = docs[0]["jobs"]["comment"]["steps"].as_vec().unwrap();
    let step = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with(&format!("{action}@")))
        })
        .unwrap_or_else(|| panic!("the comment job uses no {action}"));
    match &step["with"] {
        Yaml::Hash(map) => map
            .iter()
            .map(|(k, v)| {
                let value = match v {
                    Yaml::String(s) => s.clone(),
                    Yaml::Integer(i) => i.to_string(),
                    other => format!("{other:?}"),
                };
                (k.as_str().unwrap().to_owned(), value)
            })
            .collect(),
        _ => Vec::new(),
    }
}

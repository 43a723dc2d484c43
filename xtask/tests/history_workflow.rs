//! The history workflow's git-only jobs, run for real: the `run:` scripts of its `plan` and
//! `record` jobs, read from `.github/workflows/history.yml`, in clones of a local bare
//! repository (git's `url.<base>.insteadOf` sends the record job's fetch and push there
//! instead of GitHub), with lines made by this build's `xtask history append` standing in
//! for the `measure` jobs. A burst of pushes ends with one line per commit, in order; a bad
//! line is refused before anything is pushed; a rejected push is retried after fetching.

mod workflow_support;

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};
use workflow_support::{Ran, Repo, TOKEN};

const FILE: &str = "history.yml";

fn workflow() -> yaml_rust2::Yaml {
    workflow_support::workflow(FILE)
}

fn script(job: &str, name: &str) -> String {
    workflow_support::script(FILE, job, name)
}

#[test]
fn only_the_record_job_writes_and_it_runs_no_project_code() {
    let workflow = workflow();
    let jobs = &workflow["jobs"];
    assert_eq!(
        jobs["record"]["permissions"]["contents"].as_str(),
        Some("write")
    );
    assert_eq!(
        jobs["record"]["permissions"]["actions"].as_str(),
        Some("write")
    );
    for job in ["plan", "measure"] {
        assert!(
            jobs[job]["permissions"].is_badvalue(),
            "{job} keeps the workflow's read-only permissions"
        );
    }
    for step in jobs["record"]["steps"].as_vec().unwrap() {
        let run = step["run"].as_str().unwrap_or_default();
        assert!(
            !run.contains("cargo"),
            "the record job runs no project code: {run}"
        );
    }
}

/// The history-specific steps over the local "GitHub".
trait History {
    fn history(&self) -> (Vec<Option<String>>, usize);
    fn plan(&self, name: &str, commit: &str, max: usize) -> (Vec<String>, usize);
    fn record(&self, name: &str, planned: &[String], lines: &[(String, String)]) -> Ran;
    fn record_in(&self, work: &Path, planned: &[String], lines: &[(String, String)]) -> Ran;
}

impl History for Repo {
    /// The history on the bench-history branch, one commit per line (`None` for a line
    /// that names none), and how many commits the branch has.
    fn history(&self) -> (Vec<Option<String>>, usize) {
        self.git(&self.seed, &["fetch", "--quiet", "origin"]);
        let text = self.git(&self.seed, &["show", "origin/bench-history:history.jsonl"]);
        let commits = text
            .lines()
            .map(|l| {
                let line: Option<Value> = serde_json::from_str(l).ok();
                line.and_then(|v| v["commit"].as_str().map(str::to_owned))
            })
            .collect();
        let count = self.git(&self.seed, &["rev-list", "--count", "origin/bench-history"]);
        (commits, count.parse().unwrap())
    }

    /// The plan job for a run at `commit`: the commits to measure and how many are left.
    fn plan(&self, name: &str, commit: &str, max: usize) -> (Vec<String>, usize) {
        let work = self.checkout(name);
        let ran = self.run(
            &work,
            &script("plan", "List the commits the history lacks"),
            &[("COMMIT", commit), ("MAX_COMMITS", &max.to_string())],
        );
        let out = ran.ok();
        let commits: Vec<String> = serde_json::from_str(&ran.outputs["commits"]).unwrap();
        assert!(out.contains("commits to measure"), "{out}");
        (commits, ran.outputs["left"].parse().unwrap())
    }

    /// The record job's append step in a fresh checkout that has `lines` downloaded.
    fn record(&self, name: &str, planned: &[String], lines: &[(String, String)]) -> Ran {
        let work = self.checkout(name);
        self.record_in(&work, planned, lines)
    }

    fn record_in(&self, work: &Path, planned: &[String], lines: &[(String, String)]) -> Ran {
        for (commit, line) in lines {
            let dir = work.join(format!("new-lines/history-line-{commit}"));
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("line.jsonl"), line).unwrap();
        }
        let commits = serde_json::to_string(planned).unwrap();
        self.run(
            work,
            &script("record", "Append the lines once each and push"),
            &[
                ("GH_TOKEN", TOKEN),
                ("REPOSITORY", "acme/widgets"),
                ("COMMITS", &commits),
            ],
        )
    }
}

/// What a measure job uploads for `commit`: this build's `xtask history append` of a result
/// file measured at that commit.
fn measured_line(commit: &str) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    let sample = json!({
        "schema": 1, "id": "floor/park", "runtime": "floor", "handoff": "park",
        "count": 1000, "in_flight": 1, "work": "zero", "wall_ns": 14_000_000,
        "cpu_total_ns": 20_000_000, "cpu_loop_ns": 10_000_000, "cpu_worker_ns": 10_000_000,
        "cpu_other_ns": 0, "vcsw_loop": 1000, "vcsw_worker": 1000, "ivcsw_loop": 0,
        "ivcsw_worker": 0, "pinned": true,
    });
    let results = json!({
        "schema": 1, "kind": "handoff-bench-results", "created": "2026-12-02T00:00:00Z",
        "host": {
            "cpu_model": "Test CPU", "cores": 2, "kernel": "6.1.0-test",
            "rustc": "rustc 1.95.0 (59807616e 2026-04-14)", "crates": {},
        },
        "git": { "revision": commit, "dirty": false },
        "settings": { "runs": 2, "count": 1000, "work": "zero", "in_flight": 1, "pin": true },
        "configurations": [{ "id": "floor/park", "samples": [sample, sample], "summary": {} }],
    });
    let results_path = dir.path().join("results.json");
    std::fs::write(&results_path, results.to_string()).unwrap();
    let line_path = dir.path().join("line.jsonl");
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["history", "append", "--results"])
        .arg(&results_path)
        .arg("--history")
        .arg(&line_path)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    (
        commit.to_owned(),
        std::fs::read_to_string(line_path).unwrap(),
    )
}

/// A repository whose main has one commit, `c0`, already in the history.
fn recorded_main() -> (Repo, String) {
    let repo = Repo::new();
    let c0 = repo.push_main("c0");
    let (planned, _) = repo.plan("plan-0", &c0, 8);
    assert_eq!(planned, one(&c0));
    repo.record("run-0", &planned, &measure_all(&planned)).ok();
    (repo, c0)
}

fn measure_all(commits: &[String]) -> Vec<(String, String)> {
    commits.iter().map(|c| measured_line(c)).collect()
}

fn some(commits: &[&String]) -> Vec<Option<String>> {
    commits.iter().map(|c| Some((*c).clone())).collect()
}

#[test]
fn the_record_job_creates_the_branch_and_appends_each_commit_once() {
    let repo = Repo::new();
    let first = repo.push_main("one");
    let (planned, left) = repo.plan("plan-1", &first, 8);
    assert_eq!(
        (planned.as_slice(), left),
        (std::slice::from_ref(&first), 0)
    );
    repo.record("run-1", &planned, &measure_all(&planned)).ok();
    assert_eq!(repo.history(), (some(&[&first]), 1));
    assert_eq!(
        repo.git(
            &repo.seed,
            &["ls-tree", "--name-only", "origin/bench-history"]
        ),
        "history.jsonl",
        "the branch holds the history only"
    );

    // The same commit again (a re-run): nothing appended, nothing pushed.
    let said = repo
        .record("run-1-again", &planned, &measure_all(&planned))
        .ok();
    assert!(said.contains("already has"), "{said}");
    assert_eq!(repo.history(), (some(&[&first]), 1));
    // And a new run at the same commit plans nothing.
    assert_eq!(repo.plan("plan-1-again", &first, 8), (vec![], 0));

    let second = repo.push_main("two");
    let main_before = repo.git(&repo.seed, &["rev-parse", "origin/main"]);
    let (planned, _) = repo.plan("plan-2", &second, 8);
    repo.record("run-2", &planned, &measure_all(&planned)).ok();
    assert_eq!(repo.history(), (some(&[&first, &second]), 2));
    assert_eq!(
        repo.git(&repo.seed, &["rev-parse", "origin/main"]),
        main_before,
        "main untouched"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_pushes_ends_with_one_line_per_commit_in_order() {
    let (repo, c0) = recorded_main();

    // While c0's run measured, five more pushes; one of them a merge of a side branch,
    // whose own commits are not main's (first-parent) history.
    let c1 = repo.push_main("c1");
    let c2 = repo.push_main("c2");
    repo.git(&repo.seed, &["checkout", "--quiet", "-b", "side", "HEAD~1"]);
    std::fs::write(repo.seed.join("side.txt"), "side").unwrap();
    repo.git(&repo.seed, &["add", "."]);
    repo.git(&repo.seed, &["commit", "--quiet", "-m", "side"]);
    let side = repo.git(&repo.seed, &["rev-parse", "HEAD"]);
    repo.git(&repo.seed, &["checkout", "--quiet", "main"]);
    repo.git(
        &repo.seed,
        &["merge", "--quiet", "--no-ff", "-m", "c3", "side"],
    );
    repo.git(&repo.seed, &["push", "--quiet", "origin", "main"]);
    let c3 = repo.git(&repo.seed, &["rev-parse", "HEAD"]);
    let c4 = repo.push_main("c4");
    let c5 = repo.push_main("c5");

    // GitHub replaced the pending runs of c1..c4 by c5's: one run, at c5, bound 3.
    let (planned, left) = repo.plan("plan-5", &c5, 3);
    assert_eq!(planned, [c1.clone(), c2.clone(), c3.clone()]);
    assert_eq!(left, 2);
    let ran = repo.record("run-5", &planned, &measure_all(&planned));
    ran.ok();
    assert_eq!(ran.outputs["complete"], "true");
    assert_eq!(repo.history(), (some(&[&c0, &c1, &c2, &c3]), 2));

    // Commits were left and the record was complete: the run starts the next one.
    let api = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(
            "/repos/acme/widgets/actions/workflows/history.yml/dispatches",
        ))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(body_json(json!({ "ref": "main" })))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&api)
        .await;
    let work = repo.checkout("dispatch");
    let said = repo
        .run(
            &work,
            &script(
                "record",
                "Start the next run for the commits beyond this run's bound",
            ),
            &[
                ("GH_TOKEN", TOKEN),
                ("REPOSITORY", "acme/widgets"),
                ("DEFAULT_BRANCH", "main"),
                ("GITHUB_API_URL", &api.uri()),
            ],
        )
        .ok();
    assert!(said.contains("started the next history run"), "{said}");
    api.verify().await;

    // The dispatched run (at main's head, c5) measures the rest.
    let (planned, left) = repo.plan("plan-next", &c5, 3);
    assert_eq!((planned.clone(), left), (vec![c4.clone(), c5.clone()], 0));
    repo.record("run-next", &planned, &measure_all(&planned))
        .ok();
    let (lines, _) = repo.history();
    assert_eq!(lines, some(&[&c0, &c1, &c2, &c3, &c4, &c5]));
    assert!(!lines.contains(&Some(side)));
}

#[test]
fn a_bad_line_is_refused_before_anything_is_pushed() {
    let (repo, c0) = recorded_main();
    let c1 = repo.push_main("c1");
    let c2 = repo.push_main("c2");
    let planned = [c1.clone(), c2.clone()];
    let (_, good) = measured_line(&c1);
    let hostile = [
        ("another commit's line", measured_line(&c0).1),
        ("not JSON", "{\"commit\": \"cut sho".to_owned()),
        ("two lines", format!("{good}{good}")),
        (
            "a median that is no number",
            good.replace("\"medians\":{", "\"medians\":{\"x/y\":{\"wall\":\"fast\"},"),
        ),
    ];
    for (what, line) in hostile {
        let ran = repo.record(
            &format!("run-{}", what.replace(' ', "-")),
            &planned,
            &[(c1.clone(), line), measured_line(&c2)],
        );
        assert!(!ran.output.status.success(), "{what}: accepted");
        let said = String::from_utf8_lossy(&ran.output.stdout).into_owned();
        assert!(
            said.contains(&format!(
                "history-line-{c1}/line.jsonl is not one history line"
            )),
            "{what}: {said}"
        );
        assert_eq!(repo.history(), (some(&[&c0]), 1), "{what}: pushed");
    }
    // An "unmeasured" line, as the measure job writes when the commit does not build.
    let work = repo.checkout("unmeasured");
    repo.run(
        &work,
        &script(
            "measure",
            "Mark the commit unmeasured (its build or run failed)",
        ),
        &[("COMMIT", &c1)],
    )
    .ok();
    let unmeasured = std::fs::read_to_string(work.join("line.jsonl")).unwrap();
    repo.record(
        "run-ok",
        &planned,
        &[(c1.clone(), unmeasured), measured_line(&c2)],
    )
    .ok();
    assert_eq!(repo.history(), (some(&[&c0, &c1, &c2]), 2));
}

#[test]
fn a_rejected_push_is_retried_on_top_of_the_fetched_branch() {
    let (repo, c0) = recorded_main();
    let c1 = repo.push_main("c1");
    let c2 = repo.push_main("c2");
    // Two runs checked out before either pushed (a re-run beside the next run, or a
    // maintainer's push to the branch): the second one's bench-history is stale.
    let first = repo.checkout("run-a");
    let second = repo.checkout("run-b");
    repo.record_in(&first, &one(&c1), &measure_all(&one(&c1)))
        .ok();
    let said = repo
        .record_in(&second, &one(&c2), &measure_all(&one(&c2)))
        .ok();
    assert!(said.contains("the push was rejected (attempt 1)"), "{said}");
    assert_eq!(repo.history(), (some(&[&c0, &c1, &c2]), 3));
}

#[test]
fn a_commit_without_a_line_stops_the_record_there_and_is_planned_again() {
    let (repo, c0) = recorded_main();
    let c1 = repo.push_main("c1");
    let c2 = repo.push_main("c2");
    let c3 = repo.push_main("c3");
    let (planned, _) = repo.plan("plan-3", &c3, 8);
    // c2's measure job was cancelled: no artifact.
    let ran = repo.record("run-3", &planned, &measure_all(&[c1.clone(), c3.clone()]));
    let said = ran.ok();
    assert!(said.contains(&format!("no line for {c2}")), "{said}");
    assert_eq!(ran.outputs["complete"], "false");
    assert_eq!(repo.history(), (some(&[&c0, &c1]), 2));
    assert_eq!(repo.plan("plan-again", &c3, 8), (vec![c2, c3], 0));
}

#[test]
fn the_plan_reads_past_a_damaged_last_line() {
    let (repo, c0) = recorded_main();
    // Somebody's hand edit cut the branch's last line short.
    let work = repo.checkout("edit");
    repo.git(&work, &["checkout", "--quiet", "bench-history"]);
    let mut text = std::fs::read_to_string(work.join("history.jsonl")).unwrap();
    text.push_str("{\"commit\":\"cut");
    std::fs::write(work.join("history.jsonl"), text).unwrap();
    repo.git(&work, &["commit", "--quiet", "-am", "edit"]);
    repo.git(&work, &["push", "--quiet", "origin", "bench-history"]);

    let c1 = repo.push_main("c1");
    let (planned, _) = repo.plan("plan-1", &c1, 8);
    assert_eq!(planned, one(&c1));
    repo.record("run-1", &planned, &measure_all(&planned)).ok();
    // The damaged line stays (the history is data), the new one starts on its own line.
    assert_eq!(repo.history(), (vec![Some(c0), None, Some(c1)], 3));
}

/// A plan of one commit.
fn one(commit: &str) -> Vec<String> {
    vec![commit.to_owned()]
}

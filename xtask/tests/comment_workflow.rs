//! The comment job's own command line, read from `.github/workflows/bench-comment.yml` and
//! run as the job runs it (bash, the step's environment), against the fake GitHub, with an
//! artifact holding a hostile `bench.md` next to a results file whose strings are hostile
//! too: the comment holds nothing of that `bench.md` and nothing live from the results
//! file, and is byte for byte what the xtask renders from the results file. The job's
//! report step, run the same way, draws one page per runner from the results files alone
//! (the artifact's own `bench.html` never enters), the step after it uploads exactly that
//! folder as the run's `bench-report` artifact, and the comment's header links the run.

mod comment_support;

use std::path::Path;
use std::process::Command;

use comment_support::fake_github::{FakeGitHub, OWNER, PR, REPO, TokenKind};
use comment_support::live::assert_inert;
use comment_support::results::{self, PAYLOADS, expected_body, hostile_results};
use comment_support::workflow::{BUILT_PROGRAM, Step, comment_step, report_step, uses_step};
use xtask::report::untrusted::MAX_SHOWN_CHARS;

const TOKEN: &str = "ghs_S3cretT0kenThatMustNeverBePrinted";
const RUN_URL: &str = "https://github.com/acme/widgets/actions/runs/99";
const HEAD_SHA: &str = "0123456789abcdef0123456789abcdef01234567";
const HEAD_BRANCH: &str = "fix/@mallory-[x](http://evil.example)";

/// The `bench.md` of the issue: what a pull request's xtask could write (its words differ
/// from the results file's hostile payloads, so that any of them in the body came from it).
const HOSTILE_MD: &str = "<!-- handoff-bench:pr-comment -->\n\
    ## handoff-bench: :white_check_mark: Ship it, @eve approves. \
    [proof](http://bench-md.example/p)\n\n\
    CANARY-from-bench-md <img src=y> #77\n";

/// The value the test gives each variable of the step's `env:` (the workflow sets them
/// from `${{ }}` expressions); an unknown one fails the test, so a change of the step is
/// noticed here.
fn value_of(name: &str, results_dir: &Path) -> String {
    match name {
        "GITHUB_TOKEN" => TOKEN.to_owned(),
        "REPO" => format!("{OWNER}/{REPO}"),
        "PR_NUMBER" => PR.to_string(),
        "HEAD_BRANCH" => HEAD_BRANCH.to_owned(),
        "HEAD_SHA" => HEAD_SHA.to_owned(),
        "RUN_URL" => RUN_URL.to_owned(),
        "RESULTS_DIR" => results_dir.to_str().unwrap().to_owned(),
        "PAGES_DIR" => results_dir.join("pages").to_str().unwrap().to_owned(),
        other => panic!("the comment step sets {other}: give it a test value"),
    }
}

/// Runs `step` with bash as GitHub's runner does (`bash --noprofile --norc -eo pipefail`),
/// the built xtask replaced by this build's binary.
fn run_step(step: &Step, results_dir: &Path, api: &str) -> std::process::Output {
    let program = env!("CARGO_BIN_EXE_xtask");
    let script = step
        .run
        .trim_start()
        .replace(BUILT_PROGRAM, &format!("'{program}'"));
    let mut cmd = Command::new("bash");
    cmd.args(["--noprofile", "--norc", "-eo", "pipefail", "-c", &script]);
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GITHUB_API_URL", api);
    for (name, expression) in &step.env {
        // A `${{ }}` expression gets the test's value; a literal is used as it stands.
        if expression.starts_with("${{") {
            cmd.env(name, value_of(name, results_dir));
        } else {
            cmd.env(name, expression);
        }
    }
    cmd.output().unwrap()
}

#[test]
fn the_comment_step_never_names_bench_md() {
    let step = comment_step();
    assert!(!step.run.contains("bench.md"), "{}", step.run);
    assert!(!step.run.contains("--markdown"), "{}", step.run);
    assert!(
        step.run.contains("--results-dir \"$RESULTS_DIR\""),
        "{}",
        step.run
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_workflows_command_posts_only_what_the_xtask_renders() {
    let fake = FakeGitHub::start(TokenKind::Installation, vec![]).await;
    let dir = tempfile::tempdir().unwrap();
    // download-artifact's layout for a pattern: a directory per artifact (one runner here).
    let artifact = dir.path().join("bench-results-ubuntu-24.04");
    std::fs::create_dir_all(&artifact).unwrap();
    let bench_json = results::write(&artifact, &hostile_results());
    std::fs::write(artifact.join("bench.md"), HOSTILE_MD).unwrap();

    let step = comment_step();
    let api = fake.server.uri();
    let dir_path = dir.path().to_owned();
    let output = tokio::task::spawn_blocking(move || run_step(&step, &dir_path, &api))
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(!stderr.contains(TOKEN) && !String::from_utf8_lossy(&output.stdout).contains(TOKEN));

    let comments = fake.comments();
    assert_eq!(comments.len(), 1, "{comments:?}");
    let body = &comments[0].body;
    // Nothing of bench.md: no line of it, not its canary, not its words.
    assert!(!body.contains("CANARY"), "{body}");
    assert!(
        !body.contains("@eve") && !body.contains("Ship it"),
        "{body}"
    );
    assert!(!body.contains("bench-md.example"), "{body}");
    for line in HOSTILE_MD.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        assert!(!body.contains(line), "{line:?} of bench.md in:\n{body}");
    }
    // Exactly what the xtask renders from bench.json, with the header from the event.
    let header = xtask::github::header::header_line(&xtask::github::header::HeaderInfo {
        head_ref: Some(HEAD_BRANCH),
        head_sha: Some(HEAD_SHA),
        details_url: Some(RUN_URL),
    });
    assert_eq!(
        body,
        &expected_body(&bench_json, header.as_deref(), Some(RUN_URL))
    );
    let shown = assert_inert(body, &[RUN_URL], MAX_SHOWN_CHARS + 1);
    // The results file's hostile strings did reach the comment, as code.
    for payload in PAYLOADS {
        let start: String = xtask::report::untrusted::code(payload)
            .chars()
            .skip(1)
            .take(30)
            .collect();
        assert!(
            shown.code.iter().any(|c| c.contains(&start)),
            "{start:?} not shown:\n{body}"
        );
    }
}

/// The HTML page the bench run's own code wrote (a pull request's could say anything).
const HOSTILE_HTML: &str = "<!DOCTYPE html><script>alert('CANARY-from-bench-html')</script>";

#[test]
fn the_report_step_draws_a_page_per_runner_from_the_results_alone_and_publishes_it() {
    let dir = tempfile::tempdir().unwrap();
    // Two runners' artifacts, and one whose results file the xtask refuses.
    let mut files = Vec::new();
    for (name, value) in [
        (
            "bench-results-a",
            results::paired(&["floor/park", "smol/dedicated"], 6),
        ),
        ("bench-results-b", hostile_results()),
    ] {
        let artifact = dir.path().join(name);
        std::fs::create_dir_all(&artifact).unwrap();
        files.push(results::write(&artifact, &value));
        std::fs::write(artifact.join("bench.html"), HOSTILE_HTML).unwrap();
    }
    let refused = dir.path().join("bench-results-c");
    std::fs::create_dir_all(&refused).unwrap();
    std::fs::write(refused.join("bench.json"), "{\"schema\": 99}").unwrap();

    let step = report_step();
    assert!(!step.run.contains("bench.html"), "{}", step.run);
    let output = run_step(&step, dir.path(), "http://127.0.0.1:9");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    // The refused file is named in a warning, on one line, and gets no page.
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("::warning title=bench-comment::no report page for runner 3"),
        "{stdout}"
    );
    let pages = dir.path().join("pages");
    let mut written: Vec<String> = std::fs::read_dir(&pages)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    written.sort();
    assert_eq!(written, ["report-1.html", "report-2.html"]);
    for (n, file) in files.iter().enumerate() {
        let page = std::fs::read_to_string(pages.join(format!("report-{}.html", n + 1))).unwrap();
        assert!(
            !page.contains("CANARY") && !page.contains("<script"),
            "runner {n}"
        );
        // Exactly what this xtask draws from that results file.
        let checked = xtask::github::artifact::load_results(file).unwrap();
        let comparison = xtask::github::comment_report::comparison(&checked);
        assert_eq!(
            page,
            xtask::report::html::render(&checked.results, comparison.as_ref()),
            "runner {n}"
        );
    }
    // The upload step publishes that folder as this run's artifact.
    let pages_dir = step
        .env
        .iter()
        .find(|(name, _)| name == "PAGES_DIR")
        .map(|(_, expression)| expression.clone())
        .expect("the report step names its folder");
    let with = uses_step("actions/upload-artifact");
    let value = |key: &str| {
        with.iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("upload-artifact has no {key}"))
    };
    assert_eq!(value("path"), pages_dir);
    assert_eq!(value("name"), "bench-report");
    // The comment's header sends readers to this run (its own URL), not the bench run.
    let comment = comment_step();
    let run_url = comment
        .env
        .iter()
        .find(|(name, _)| name == "RUN_URL")
        .map(|(_, expression)| expression.as_str())
        .unwrap();
    assert_eq!(
        run_url,
        "${{ github.server_url }}/${{ github.repository }}/actions/runs/${{ github.run_id }}"
    );
    let header = xtask::github::header::header_line(&xtask::github::header::HeaderInfo {
        head_ref: None,
        head_sha: None,
        details_url: Some(RUN_URL),
    })
    .unwrap();
    assert!(
        header.contains(&format!(
            "[full report]({RUN_URL}): the page in its `bench-report` artifact"
        )),
        "{header}"
    );
    assert!(!header.contains("bench.html"), "{header}");
}

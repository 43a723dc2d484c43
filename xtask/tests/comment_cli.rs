//! End-to-end runs of the real `xtask comment` binary against a fake GitHub on 127.0.0.1:
//! exact requests, sticky behaviour, both kinds of token, retries, error messages, exit
//! statuses, truncation, and that the token never appears in anything the binary prints.
//! Every body is the one the xtask renders from the results file (`--results`).

mod comment_support;

use std::path::Path;
use std::process::Output;

use comment_support::fake_github::{
    Comment, FakeGitHub, OWNER, PR, REPO, REPO_ID, TokenKind, chatter, comments_path,
};
use comment_support::results::{self, expected_body};
use serde_json::{Value, json};
use wiremock::ResponseTemplate;

const TOKEN: &str = "ghs_S3cretT0kenThatMustNeverBePrinted";
const MARKER: &str = "<!-- handoff-bench:pr-comment -->";

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs the binary with `args`, the API pointed at `api` and the token set or not. Every
/// run checks that the token is in neither stdout nor stderr.
async fn xtask(api: Option<&str>, token: Option<&str>, args: Vec<String>) -> Run {
    let api = api.map(str::to_owned);
    let token = token.map(str::to_owned);
    let output: Output = tokio::task::spawn_blocking(move || {
        let mut cmd = assert_cmd::cargo::cargo_bin_cmd!("xtask");
        cmd.arg("comment").args(&args);
        for var in ["GITHUB_TOKEN", "GITHUB_API_URL", "GITHUB_STEP_SUMMARY"] {
            cmd.env_remove(var);
        }
        // Ask for every kind of diagnostic a dependency might print.
        cmd.env("RUST_LOG", "trace").env("RUST_BACKTRACE", "full");
        if let Some(api) = api {
            cmd.env("GITHUB_API_URL", api);
        }
        if let Some(token) = token {
            cmd.env("GITHUB_TOKEN", token);
        }
        cmd.output().unwrap()
    })
    .await
    .unwrap();
    let run = Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    assert!(
        !run.stdout.contains(TOKEN),
        "token in stdout:\n{}",
        run.stdout
    );
    assert!(
        !run.stderr.contains(TOKEN),
        "token in stderr:\n{}",
        run.stderr
    );
    run
}

/// A paired results file of `ids` over `blocks` blocks, written as `dir/bench.json`.
fn results_file(dir: &Path, ids: &[&str], blocks: u32) -> String {
    let path = results::write(dir, &results::paired(ids, blocks));
    path.to_str().unwrap().to_owned()
}

const IDS: [&str; 2] = ["floor/park", "tokio-current/dedicated"];

/// The body the xtask makes from `results` without header.
fn expected(results: &str) -> String {
    expected_body(Path::new(results), None, None)
}

fn args(results: &str, extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = [
        "--repo",
        &format!("{OWNER}/{REPO}"),
        "--pr",
        &PR.to_string(),
        "--results",
        results,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

fn ours(fake: &FakeGitHub) -> Vec<Comment> {
    fake.comments()
        .into_iter()
        .filter(|c| c.body.starts_with(MARKER))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creates_the_comment_with_exact_requests() {
    let fake = FakeGitHub::start(TokenKind::Personal("octocat".into()), vec![]).await;
    let dir = tempfile::tempdir().unwrap();
    let md = results_file(dir.path(), &IDS, 4);
    let run = xtask(Some(&fake.server.uri()), Some(TOKEN), args(&md, &[])).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stdout.contains("created comment 1001"),
        "{}",
        run.stdout
    );

    assert_eq!(
        fake.request_lines().await,
        [
            "GET /user".to_owned(),
            format!("GET {}?per_page=100", comments_path()),
            format!("POST {}", comments_path()),
        ]
    );
    let requests = fake.server.received_requests().await.unwrap();
    for req in &requests {
        let header = |name: &str| {
            req.headers
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        assert_eq!(
            header("authorization").as_deref(),
            Some(format!("Bearer {TOKEN}").as_str())
        );
        assert_eq!(
            header("accept").as_deref(),
            Some("application/vnd.github+json")
        );
        assert_eq!(
            header("x-github-api-version").as_deref(),
            Some("2022-11-28")
        );
        assert!(header("user-agent").is_some_and(|ua| !ua.is_empty()));
    }
    let post = &requests[2];
    assert_eq!(
        post.headers.get("content-type").unwrap(),
        "application/json"
    );
    let body: Value = post.body_json().unwrap();
    let expected = expected(&md);
    assert!(expected.starts_with(&format!("{MARKER}\n## handoff-bench: :x: Performance regressed in 1 configuration: `floor/park`\n")), "{expected}");
    assert_eq!(body, json!({ "body": expected }));
    assert_eq!(ours(&fake).len(), 1);
    assert_eq!(ours(&fake)[0].login, "octocat");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn installation_token_updates_the_bots_comment_on_page_two_of_150() {
    let mut comments = chatter(150);
    comments[119] = Comment {
        id: 120,
        login: "github-actions[bot]".into(),
        kind: "Bot".into(),
        body: format!("{MARKER}\nold report"),
    };
    let fake = FakeGitHub::start(TokenKind::Installation, comments).await;
    let dir = tempfile::tempdir().unwrap();
    let md = results_file(dir.path(), &IDS, 3);
    let run = xtask(Some(&fake.server.uri()), Some(TOKEN), args(&md, &[])).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stderr.contains("github-actions[bot]"), "{}", run.stderr);
    assert!(run.stdout.contains("updated comment 120"), "{}", run.stdout);

    assert_eq!(
        fake.request_lines().await,
        [
            "GET /user".to_owned(),
            format!("GET {}?per_page=100", comments_path()),
            format!("GET /repositories/{REPO_ID}/issues/{PR}/comments?per_page=100&page=2"),
            format!("PATCH /repos/{OWNER}/{REPO}/issues/comments/120"),
        ]
    );
    let patch = fake
        .server
        .received_requests()
        .await
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(
        patch.body_json::<Value>().unwrap(),
        json!({ "body": expected(&md) })
    );
    assert_eq!(fake.comments().len(), 150);
    assert_eq!(ours(&fake)[0].body, expected(&md));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn running_twice_leaves_exactly_one_comment() {
    let fake = FakeGitHub::start(TokenKind::Installation, chatter(5)).await;
    let dir = tempfile::tempdir().unwrap();
    let md = results_file(dir.path(), &IDS, 3);
    let first = xtask(Some(&fake.server.uri()), Some(TOKEN), args(&md, &[])).await;
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    let first_body = expected(&md);
    let md = results_file(dir.path(), &IDS, 5);
    assert_ne!(expected(&md), first_body);
    let second = xtask(Some(&fake.server.uri()), Some(TOKEN), args(&md, &[])).await;
    assert_eq!(second.code, Some(0), "{}", second.stderr);
    assert!(first.stdout.contains("created"), "{}", first.stdout);
    assert!(second.stdout.contains("updated"), "{}", second.stdout);
    let ours = ours(&fake);
    assert_eq!(ours.len(), 1, "{ours:?}");
    assert_eq!(ours[0].body, expected(&md));
    assert_eq!(fake.comments().len(), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn someone_elses_comment_quoting_the_marker_is_never_touched() {
    let impostor = Comment {
        id: 7,
        login: "mallory".into(),
        kind: "User".into(),
        body: format!("{MARKER}\nlooks like the bot's report"),
    };
    let by_other_user = Comment {
        id: 8,
        login: "octocat".into(),
        kind: "User".into(),
        body: format!("{MARKER}\nposted earlier with a personal token"),
    };
    let fake = FakeGitHub::start(
        TokenKind::Installation,
        vec![impostor.clone(), by_other_user.clone()],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let md = results_file(dir.path(), &IDS, 3);
    let run = xtask(Some(&fake.server.uri()), Some(TOKEN), args(&md, &[])).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let comments = fake.comments();
    assert_eq!(comments[0], impostor);
    assert_eq!(comments[1], by_other_user);
    assert_eq!(comments.len(), 3);
    assert_eq!(comments[2].login, "github-actions[bot]");
    assert!(
        fake.request_lines()
            .await
            .iter()
            .all(|l| !l.starts_with("PATCH"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn author_flag_skips_get_user() {
    let fake = FakeGitHub::start(TokenKind::Personal("octocat".into()), vec![]).await;
    let dir = tempfile::tempdir().unwrap();
    let md = results_file(dir.path(), &IDS, 3);
    let run = xtask(
        Some(&fake.server.uri()),
        Some(TOKEN),
        args(&md, &["--author", "octocat"]),
    )
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(!fake.request_lines().await.contains(&"GET /user".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_500_then_200_is_retried() {
    let fake = FakeGitHub::start(TokenKind::Installation, vec![]).await;
    fake.fail_next("GET", &comments_path(), 1, ResponseTemplate::new(500))
        .await;
    let dir = tempfile::tempdir().unwrap();
    let md = results_file(dir.path(), &IDS, 3);
    let run = xtask(Some(&fake.server.uri()), Some(TOKEN), args(&md, &[])).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stderr.contains("GitHub answered 500"), "{}", run.stderr);
    let lists = fake
        .request_lines()
        .await
        .iter()
        .filter(|l| l.starts_with("GET /repos"))
        .count();
    assert_eq!(lists, 2);
    assert_eq!(ours(&fake).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secondary_rate_limit_with_retry_after_is_retried() {
    let fake = FakeGitHub::start(TokenKind::Installation, vec![]).await;
    let limited = ResponseTemplate::new(403)
        .insert_header("retry-after", "1")
        .set_body_json(json!({"message": "You have exceeded a secondary rate limit."}));
    fake.fail_next("POST", &comments_path(), 1, limited).await;
    let dir = tempfile::tempdir().unwrap();
    let md = results_file(dir.path(), &IDS, 3);
    let run = xtask(Some(&fake.server.uri()), Some(TOKEN), args(&md, &[])).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stderr.contains("retrying in 1s"), "{}", run.stderr);
    let posts = fake
        .request_lines()
        .await
        .iter()
        .filter(|l| l.starts_with("POST"))
        .count();
    assert_eq!(posts, 2);
    assert_eq!(ours(&fake).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_401_says_the_token_is_invalid_and_exits_1() {
    let fake = FakeGitHub::start(TokenKind::Installation, vec![]).await;
    let denied = ResponseTemplate::new(401).set_body_json(json!({"message": "Bad credentials"}));
    fake.fail_next("GET", "/user", 1, denied).await;
    let dir = tempfile::tempdir().unwrap();
    let md = results_file(dir.path(), &IDS, 3);
    let run = xtask(Some(&fake.server.uri()), Some(TOKEN), args(&md, &[])).await;
    assert_eq!(run.code, Some(1));
    assert!(run.stderr.contains("401 Unauthorized"), "{}", run.stderr);
    assert!(
        run.stderr.contains("invalid, expired or revoked"),
        "{}",
        run.stderr
    );
    assert_eq!(fake.request_lines().await, ["GET /user"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_403_on_write_names_the_missing_permission() {
    let fake = FakeGitHub::start(TokenKind::Installation, vec![]).await;
    let denied = ResponseTemplate::new(403)
        .set_body_json(json!({"message": "Resource not accessible by integration"}));
    fake.fail_next("POST", &comments_path(), 1, denied).await;
    let dir = tempfile::tempdir().unwrap();
    let md = results_file(dir.path(), &IDS, 3);
    let run = xtask(Some(&fake.server.uri()), Some(TOKEN), args(&md, &[])).await;
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr.contains("pull-requests: write"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_404_says_repo_or_pr_not_found_or_not_visible() {
    let fake = FakeGitHub::start(TokenKind::Installation, vec![]).await;
    let missing = ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"}));
    fake.fail_next("GET", &comments_path(), 1, missing).await;
    let dir = tempfile::tempdir().unwrap();
    let md = results_file(dir.path(), &IDS, 3);
    let run = xtask(Some(&fake.server.uri()), Some(TOKEN), args(&md, &[])).await;
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr
            .contains("does not exist, or the token cannot see it"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_report_is_cut_at_a_row_to_the_comment_limit() {
    let fake = FakeGitHub::start(TokenKind::Installation, vec![]).await;
    let dir = tempfile::tempdir().unwrap();
    let ids: Vec<String> = (0..150)
        .map(|i| format!("tokio-multi/dedicated-{i:03}"))
        .collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let md = results_file(dir.path(), &ids, 3);
    let checked = xtask::github::artifact::load_results(Path::new(&md)).unwrap();
    let report = xtask::github::comment_report::render(&checked);
    assert!(
        report.chars().count() > 100_000,
        "{}",
        report.chars().count()
    );
    let url = "https://github.com/acme/widgets/actions/runs/99";
    let run = xtask(
        Some(&fake.server.uri()),
        Some(TOKEN),
        args(&md, &["--details-url", url]),
    )
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let body = ours(&fake).pop().unwrap().body;
    assert_eq!(
        body,
        expected_body(
            Path::new(&md),
            Some(&format!(
                "**handoff-bench** ([full report]({url}): the page in its `bench-report` artifact, drawn from the results by the default branch's code)"
            )),
            Some(url)
        )
    );
    assert!(body.chars().count() <= 65_536, "{}", body.chars().count());
    let rows: Vec<&str> = body.lines().filter(|l| l.starts_with('|')).collect();
    assert!(rows.len() > 100, "{}", rows.len());
    assert!(rows.iter().all(|r| r.ends_with('|')), "{rows:?}");
    let (kept, note) = body.rsplit_once("\n\n").unwrap();
    let kept = kept
        .strip_prefix(&format!(
            "{MARKER}\n**handoff-bench** ([full report]({url}): the page in its `bench-report` artifact, drawn from the results by the default branch's code)\n\n"
        ))
        .unwrap();
    assert!(
        report.starts_with(&format!("{kept}\n")),
        "not a prefix of the report"
    );
    assert!(note.contains("Report truncated"), "{note}");
    assert!(
        note.contains(&format!(
            "the `bench-report` artifact of [this comment's run]({url})"
        )),
        "{note}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_token_the_report_is_printed_and_nothing_is_sent() {
    let fake = FakeGitHub::start(TokenKind::Installation, vec![]).await;
    let dir = tempfile::tempdir().unwrap();
    let md = results_file(dir.path(), &IDS, 3);
    let run = xtask(Some(&fake.server.uri()), None, args(&md, &[])).await;
    assert_eq!(run.code, Some(0));
    assert_eq!(run.stdout, format!("{}\n", expected(&md)));
    assert!(run.stderr.contains("nothing was posted"), "{}", run.stderr);

    let required = xtask(
        Some(&fake.server.uri()),
        None,
        args(&md, &["--require-post"]),
    )
    .await;
    assert_eq!(required.code, Some(1));
    assert!(
        required.stderr.contains("--require-post"),
        "{}",
        required.stderr
    );
    assert!(fake.request_lines().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_exits_2_before_any_request() {
    let fake = FakeGitHub::start(TokenKind::Installation, vec![]).await;
    let dir = tempfile::tempdir().unwrap();
    let md = results_file(dir.path(), &IDS, 3);
    let api = Some(fake.server.uri());

    let mut bad_repo = args(&md, &[]);
    bad_repo[1] = "not-a-slug".into();
    let run = xtask(api.as_deref(), Some(TOKEN), bad_repo).await;
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("OWNER/NAME"), "{}", run.stderr);

    let missing = dir.path().join("missing.json");
    let run = xtask(
        api.as_deref(),
        Some(TOKEN),
        args(missing.to_str().unwrap(), &[]),
    )
    .await;
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("missing.json"), "{}", run.stderr);

    let other = dir.path().join("other.json");
    std::fs::write(&other, r#"{"schema": 1, "kind": "something-else"}"#).unwrap();
    let run = xtask(
        api.as_deref(),
        Some(TOKEN),
        args(other.to_str().unwrap(), &[]),
    )
    .await;
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr.contains("handoff-bench-results"),
        "{}",
        run.stderr
    );

    let newer = dir.path().join("newer.json");
    let mut value = results::paired(&IDS, 3);
    value["schema"] = json!(2);
    std::fs::write(&newer, value.to_string()).unwrap();
    let run = xtask(
        api.as_deref(),
        Some(TOKEN),
        args(newer.to_str().unwrap(), &[]),
    )
    .await;
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("schema 2"), "{}", run.stderr);

    let run = xtask(Some("ftp://nope"), Some(TOKEN), args(&md, &[])).await;
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("GITHUB_API_URL"), "{}", run.stderr);

    assert!(fake.request_lines().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn markdown_is_refused_without_being_read() {
    let fake = FakeGitHub::start(TokenKind::Installation, vec![]).await;
    let dir = tempfile::tempdir().unwrap();
    let md = results_file(dir.path(), &IDS, 3);
    // A FIFO: opening it for reading would block the command until the test timed out.
    let fifo = dir.path().join("bench.md");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let run = xtask(
        Some(&fake.server.uri()),
        Some(TOKEN),
        args(&md, &["--markdown", fifo.to_str().unwrap()]),
    )
    .await;
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr.contains("--markdown") && run.stderr.contains("is not accepted"),
        "{}",
        run.stderr
    );
    assert!(fake.request_lines().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_branch_in_the_header_is_an_inert_code_span() {
    let fake = FakeGitHub::start(TokenKind::Installation, vec![]).await;
    let dir = tempfile::tempdir().unwrap();
    let md = results_file(dir.path(), &IDS, 3);
    let run = xtask(
        Some(&fake.server.uri()),
        Some(TOKEN),
        args(
            &md,
            &[
                "--head-ref",
                "x](http://evil)<b>@mallory`",
                "--head-sha",
                "0123456789abcdef0123456789abcdef01234567",
            ],
        ),
    )
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let body = ours(&fake).pop().unwrap().body;
    assert!(
        body.contains("branch `x](http://evil)<b>@malloryˋ`, commit 0123456789ab"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_carrying_the_token_is_never_posted() {
    let fake = FakeGitHub::start(TokenKind::Installation, vec![]).await;
    let dir = tempfile::tempdir().unwrap();
    let mut value = results::paired(&IDS, 3);
    value["host"]["cpu_model"] = json!(format!("leaked {TOKEN}"));
    let md = results::write(dir.path(), &value);
    let run = xtask(
        Some(&fake.server.uri()),
        Some(TOKEN),
        args(md.to_str().unwrap(), &[]),
    )
    .await;
    assert_eq!(run.code, Some(1));
    assert!(run.stderr.contains("refusing to post"), "{}", run.stderr);
    assert!(fake.request_lines().await.is_empty());
}

/// `xtask comment --only-on-change` of `results` against `fake`.
async fn post_only_on_change(fake: &FakeGitHub, results: &str) -> Run {
    xtask(
        Some(&fake.server.uri()),
        Some(TOKEN),
        args(results, &["--only-on-change"]),
    )
    .await
}

/// An all-unchanged paired results file of [`IDS`], written as `dir/bench.json`.
fn unchanged_results_file(dir: &Path) -> String {
    let path = results::write(dir, &results::paired_unchanged(&IDS, 8));
    path.to_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_on_change_creates_no_comment_when_everything_is_unchanged() {
    let fake = FakeGitHub::start(TokenKind::Installation, chatter(3)).await;
    let dir = tempfile::tempdir().unwrap();
    let md = unchanged_results_file(dir.path());
    assert!(
        expected(&md).contains("Every gated metric of every configuration is unchanged."),
        "{}",
        expected(&md)
    );
    let run = post_only_on_change(&fake, &md).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stdout.contains("no comment posted"), "{}", run.stdout);
    assert_eq!(
        fake.request_lines().await,
        [
            "GET /user".to_owned(),
            format!("GET {}?per_page=100", comments_path()),
        ],
        "looked for a comment to update, created none"
    );
    assert!(ours(&fake).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_on_change_still_updates_an_existing_comment_and_creates_on_a_regression() {
    // A regression: created as without the flag.
    let fake = FakeGitHub::start(TokenKind::Installation, chatter(3)).await;
    let dir = tempfile::tempdir().unwrap();
    let regressed = results_file(dir.path(), &IDS, 4);
    let run = post_only_on_change(&fake, &regressed).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stdout.contains("created comment"), "{}", run.stdout);
    // Then the regression is fixed: the comment must not keep saying "regressed".
    let md = unchanged_results_file(dir.path());
    let run = post_only_on_change(&fake, &md).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stdout.contains("updated comment"), "{}", run.stdout);
    let ours = ours(&fake);
    assert_eq!(ours.len(), 1, "{ours:?}");
    assert_eq!(ours[0].body, expected(&md));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_runners_make_one_comment_with_a_section_per_host() {
    let fake = FakeGitHub::start(TokenKind::Installation, vec![]).await;
    let dir = tempfile::tempdir().unwrap();
    // As download-artifact lays out a matrix's artifacts: one directory per runner.
    for (runner, cpu) in [
        ("bench-results-a", "Host A CPU"),
        ("bench-results-b", "Host B CPU"),
    ] {
        let mut file = if runner.ends_with('a') {
            results::paired(&IDS, 4)
        } else {
            results::paired_unchanged(&IDS, 8)
        };
        file["host"]["cpu_model"] = serde_json::Value::String(cpu.to_owned());
        let sub = dir.path().join(runner);
        std::fs::create_dir_all(&sub).unwrap();
        results::write(&sub, &file);
    }
    let results_dir = dir.path().to_str().unwrap().to_owned();
    let mut argv = args("unused", &[]);
    // `--results-dir` instead of `--results`.
    let at = argv.iter().position(|a| a == "--results").unwrap();
    argv.splice(at..at + 2, ["--results-dir".to_owned(), results_dir]);
    let run = xtask(Some(&fake.server.uri()), Some(TOKEN), argv).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let ours = ours(&fake);
    assert_eq!(ours.len(), 1, "one comment for both runners");
    let body = &ours[0].body;
    assert!(body.contains("## handoff-bench on 2 runners"), "{body}");
    let first = body
        .find("### Runner 1: `Host A CPU` (2 cores)")
        .expect("runner 1's section");
    let second = body
        .find("### Runner 2: `Host B CPU` (2 cores)")
        .expect("runner 2's section");
    assert!(first < second);
    // Each section carries its own runner's verdict.
    assert!(
        body[first..second].contains(":x: Performance regressed"),
        "{body}"
    );
    assert!(body[second..].contains("Every gated metric of every configuration is unchanged"));
}

//! The comment job's input is untrusted: the real `xtask comment` binary against the fake
//! GitHub, with results files whose strings are hostile (mentions, links, images, HTML, a
//! copy of the sticky marker, very long lines), ids outside the grammar, and files beyond
//! the limits. Also: the comment is byte for byte the report `bench` itself wrote.

mod comment_support;
mod sandbox;

use std::path::Path;
use std::process::Output;

use comment_support::fake_github::{FakeGitHub, OWNER, PR, REPO, TokenKind};
use comment_support::live::assert_inert;
use comment_support::results::{self, PAYLOADS, expected_body, hostile, hostile_results};
use serde_json::{Value, json};
use xtask::report::untrusted::{MAX_SHOWN_CHARS, code};

const TOKEN: &str = "ghs_S3cretT0kenThatMustNeverBePrinted";
const MARKER: &str = "<!-- handoff-bench:pr-comment -->";
const RUN_URL: &str = "https://github.com/acme/widgets/actions/runs/99";
const IDS: [&str; 2] = ["floor/park", "tokio-current/dedicated"];

struct Run {
    code: Option<i32>,
    stderr: String,
}

async fn comment(api: &str, results: &Path, extra: &[&str]) -> Run {
    let mut args: Vec<String> = vec![
        "comment".into(),
        "--repo".into(),
        format!("{OWNER}/{REPO}"),
        "--pr".into(),
        PR.to_string(),
        "--results".into(),
        results.to_str().unwrap().into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let api = api.to_owned();
    let output: Output = tokio::task::spawn_blocking(move || {
        let mut cmd = assert_cmd::cargo::cargo_bin_cmd!("xtask");
        cmd.args(&args)
            .env_remove("GITHUB_STEP_SUMMARY")
            .env("GITHUB_API_URL", api)
            .env("GITHUB_TOKEN", TOKEN);
        cmd.output().unwrap()
    })
    .await
    .unwrap();
    Run {
        code: output.status.code(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn only_body(fake: &FakeGitHub) -> String {
    let comments = fake.comments();
    assert_eq!(comments.len(), 1, "{comments:?}");
    comments[0].body.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_strings_in_the_results_file_reach_the_comment_inert() {
    let fake = FakeGitHub::start(TokenKind::Installation, vec![]).await;
    let dir = tempfile::tempdir().unwrap();
    let path = results::write(dir.path(), &hostile_results());
    let branch = hostile("branch");
    let sha = "0123456789abcdef0123456789abcdef01234567";
    let run = comment(
        &fake.server.uri(),
        &path,
        &[
            "--head-ref",
            &branch,
            "--head-sha",
            sha,
            "--details-url",
            RUN_URL,
        ],
    )
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let body = only_body(&fake);

    // Byte for byte what the renderer makes from the results file, header included.
    let header = xtask::github::header::header_line(&xtask::github::header::HeaderInfo {
        head_ref: Some(&branch),
        head_sha: Some(sha),
        details_url: Some(RUN_URL),
    });
    assert_eq!(body, expected_body(&path, header.as_deref(), Some(RUN_URL)));

    // Nothing live: the only link is the renderer's own, no HTML but its own, no mention,
    // reference or autolink outside code, one HTML comment (the marker), spans capped.
    let shown = assert_inert(&body, &[RUN_URL], MAX_SHOWN_CHARS + 1);
    // ... and the hostile text did arrive, whole and quoted: the test is not vacuous.
    let shown_tags = [
        "branch",
        "long",
        "kernel",
        "rustc",
        "work",
        "created",
        "reason",
        "ref",
        "host-field",
        "host-baseline",
        "host-current",
        "toolchain-field",
        "toolchain-baseline",
        "toolchain-current",
    ];
    let mut payloads_seen = [false; PAYLOADS.len()];
    for tag in shown_tags {
        let text = hostile(tag);
        let pick = PAYLOADS
            .iter()
            .position(|p| text.ends_with(p) || tag == "long")
            .unwrap();
        payloads_seen[pick] = true;
        // How the renderer shows the text: its first 40 characters must be in a code span.
        let start: String = code(&text).chars().skip(1).take(40).collect();
        assert!(
            shown.code.iter().any(|c| c.contains(&start)),
            "{tag}: {start:?} is not shown as code:\n{body}"
        );
    }
    assert!(payloads_seen.iter().all(|s| *s), "{payloads_seen:?}");
    assert!(
        shown.code.iter().any(|c| c == "@mallor-dirty"),
        "{:?}",
        shown.code
    );
    // The stored comparison's label and numbers are not used: the label is rebuilt.
    assert!(!body.contains("label All good"), "{body}");
    // The regression was recomputed from the samples (the stored pairs are empty).
    assert!(
        body.contains("Performance regressed in 1 configuration: `floor/park`"),
        "{body}"
    );
    assert!(
        body.contains("- `floor/park` run 4294967296: `reason <!- - "),
        "{body}"
    );
    // Capped: no line is long, the tail of the hostile strings is not there.
    assert!(!body.contains(&"long-line ".repeat(20)), "{body}");
    let longest = body.lines().map(|l| l.chars().count()).max().unwrap();
    assert!(longest < 1_500, "a line of {longest} characters");
    // The raw text carries no second marker, no line of the file's own (`## heading`), and
    // no bidi override.
    assert_eq!(body.matches(MARKER).count(), 1);
    assert!(!body.contains("\n## heading"), "{body}");
    assert!(!body.contains('\u{202e}'), "{body}");
}

/// `results` with `id` planted where the report shows ids.
fn with_id(place: &str, id: &str) -> Value {
    let mut v = results::paired(&IDS, 3);
    match place {
        "configuration" => {
            v["configurations"][0]["id"] = json!(id);
            for s in v["configurations"][0]["samples"].as_array_mut().unwrap() {
                s["id"] = json!(id);
            }
        }
        "paired sample" => v["paired"]["samples"][0]["measurement"]["id"] = json!(id),
        "failure" => {
            v["failures"] = json!([{ "id": id, "run": 0, "reason": "r", "stderr_tail": "" }]);
        }
        "added" => v["paired"]["added"] = json!([id]),
        "removed" => v["paired"]["removed"] = json!([id]),
        other => panic!("{other}"),
    }
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ids_outside_the_grammar_are_refused_before_any_request() {
    let fake = FakeGitHub::start(TokenKind::Installation, vec![]).await;
    let dir = tempfile::tempdir().unwrap();
    let bad_ids = [
        "@mallory/x",
        "a/[x](http://evil.example)",
        "a/<img src=x>",
        "a/<!-- handoff-bench:pr-comment -->",
        "a/b#12",
        "a/b\n::error::forged annotation",
        "Floor/Park",
        "a/b/c",
        "floor",
    ];
    for place in [
        "configuration",
        "paired sample",
        "failure",
        "added",
        "removed",
    ] {
        for id in bad_ids {
            let path = results::write(dir.path(), &with_id(place, id));
            let run = comment(&fake.server.uri(), &path, &[]).await;
            assert_eq!(run.code, Some(2), "{place} {id:?}: {}", run.stderr);
            assert!(
                run.stderr.contains("is not of the form RUNTIME/HANDOFF"),
                "{place} {id:?}: {}",
                run.stderr
            );
            // The message quotes the id escaped, on one line: no forged workflow command.
            assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
            assert!(run.stderr.starts_with("error: "), "{}", run.stderr);
        }
    }
    let long = format!("a/{}", "b".repeat(200));
    let path = results::write(dir.path(), &with_id("configuration", &long));
    let run = comment(&fake.server.uri(), &path, &[]).await;
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("at most 64 bytes"), "{}", run.stderr);
    assert!(fake.request_lines().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_beyond_the_limits_are_refused_naming_the_limit() {
    let fake = FakeGitHub::start(TokenKind::Installation, vec![]).await;
    let dir = tempfile::tempdir().unwrap();
    let refused = |value: Value, needle: &'static str| {
        let path = results::write(dir.path(), &value);
        let api = fake.server.uri();
        async move {
            let run = comment(&api, &path, &[]).await;
            assert_eq!(run.code, Some(2), "{needle}: {}", run.stderr);
            assert!(run.stderr.contains(needle), "{needle}: {}", run.stderr);
        }
    };

    // Nesting, far below serde_json's own limit of 128 and far above a real file's 6.
    let mut deep = results::paired(&IDS, 3);
    let mut nested = json!(1);
    for _ in 0..20 {
        nested = json!([nested]);
    }
    deep["configurations"][0]["samples"][0]["threads"] = nested;
    refused(deep, "deeper than the limit of 16 levels").await;

    let ids: Vec<String> = (0..201).map(|i| format!("floor/c{i}")).collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    refused(
        results::paired(&ids, 1),
        "201 configurations, more than the limit of 200",
    )
    .await;

    let mut many = results::paired(&IDS, 3);
    let sample = many["configurations"][0]["samples"][0].clone();
    many["configurations"][0]["samples"] = Value::Array(vec![sample; 20_001]);
    refused(many, "more than the limit of 20000").await;

    let mut far = results::paired(&IDS, 3);
    far["paired"]["samples"][0]["block"] = json!(4_000_000_000u64);
    refused(far, "beyond the limit of 100 blocks").await;

    let mut policy = results::paired(&IDS, 3);
    policy["comparison"]["policy"]["alpha"] = json!(7);
    refused(policy, "alpha 7 is not strictly between 0 and 1").await;

    // Larger than the byte limit: refused while reading, before any parsing.
    let big = dir.path().join("big.json");
    let padding = " ".repeat(xtask::github::limits::MAX_BYTES as usize);
    std::fs::write(&big, format!("{{{padding}}}")).unwrap();
    let run = comment(&fake.server.uri(), &big, &[]).await;
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr.contains("larger than the 33554432-byte limit"),
        "{}",
        run.stderr
    );
    assert!(fake.request_lines().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_comment_is_the_report_bench_wrote_for_the_same_results() {
    // A real paired run (the fake benchmark on both sides, the head's first id slower)
    // writes bench.json and bench.md with this xtask; the comment rendered from bench.json
    // alone must be exactly bench.md after the marker.
    let sb = sandbox::Sandbox::new();
    let (json_path, md_path) = (sb.path("bench.json"), sb.path("bench.md"));
    let status = sb
        .xtask(&[
            "bench",
            "--against",
            "main",
            "--min-blocks",
            "4",
            "--count",
            "1000",
            "--json",
        ])
        .arg(&json_path)
        .arg("--markdown")
        .arg(&md_path)
        .env("HANDOFF_BENCH_BASE_BIN", sandbox::FAKE)
        .env(
            "FAKE_BENCH_IDS",
            "floor/park,floor/spin,tokio-current/dedicated",
        )
        .env("FAKE_BENCH_SLOWDOWN", "floor/park=1.3")
        .env("FAKE_BENCH_NOISE", "0.01")
        .env("FAKE_BENCH_SEED", "7")
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let bench_md = std::fs::read_to_string(&md_path).unwrap();
    assert!(bench_md.contains("`floor/park`"), "{bench_md}");

    let fake = FakeGitHub::start(TokenKind::Installation, vec![]).await;
    let run = comment(&fake.server.uri(), &json_path, &[]).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(only_body(&fake), format!("{MARKER}\n{bench_md}"));
}

/// The checker itself must see what it is there to see.
mod the_checker {
    use super::*;

    fn check(body: &str) {
        assert_inert(
            &format!("{MARKER}\n{body}"),
            &[RUN_URL],
            MAX_SHOWN_CHARS + 1,
        );
    }

    #[test]
    fn passes_code_spans_and_own_html() {
        check(
            "`@mallory [x](http://e) <b> <!- - x -->`\n\n<details><summary>Every metric</summary>\n\n</details>\n",
        );
        check(&format!("[the benchmark run]({RUN_URL})"));
    }

    #[test]
    #[should_panic(expected = "a mention or reference")]
    fn sees_a_mention() {
        check(r"please \@mallory");
    }

    #[test]
    #[should_panic(expected = "a mention or reference")]
    fn sees_an_issue_reference() {
        check("see #12");
    }

    #[test]
    #[should_panic(expected = "a would-be autolink")]
    fn sees_a_bare_url() {
        check(r"https\://evil.example");
    }

    #[test]
    #[should_panic(expected = "a link to http://evil")]
    fn sees_a_link() {
        check("[x](http://evil)");
    }

    #[test]
    #[should_panic(expected = "an image")]
    fn sees_an_image() {
        check("![x](http://evil/i.png)");
    }

    #[test]
    #[should_panic(expected = "HTML the renderer did not write")]
    fn sees_html() {
        check("a <img src=x> b");
    }

    #[test]
    #[should_panic(expected = "an HTML comment besides the marker")]
    fn sees_a_second_marker() {
        check(MARKER);
    }

    #[test]
    #[should_panic(expected = "a code span of")]
    fn sees_a_long_code_span() {
        check(&format!("`{}`", "x".repeat(MAX_SHOWN_CHARS + 2)));
    }
}

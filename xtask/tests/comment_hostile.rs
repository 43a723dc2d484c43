//! Hostile numbers and shapes in the comment job's results files, through the real `xtask
//! comment` binary against the fake GitHub: sums that overflow, counting runs beyond the
//! limits or with ids outside the grammar, profiles no counting run could have written,
//! and one hostile runner beside good ones. Each
//! file is refused with exit 2 and a one-line message naming it, or the comment is posted
//! without it; never a panic.

mod comment_support;

use std::path::{Path, PathBuf};
use std::process::Output;

use comment_support::fake_github::{FakeGitHub, OWNER, PR, REPO, TokenKind};
use comment_support::live::assert_inert;
use comment_support::results::{self, with_counters};
use serde_json::{Value, json};
use xtask::report::untrusted::MAX_SHOWN_CHARS;

const TOKEN: &str = "ghs_S3cretT0kenThatMustNeverBePrinted";
const MARKER: &str = "<!-- handoff-bench:pr-comment -->";
const IDS: [&str; 2] = ["floor/park", "tokio-current/dedicated"];

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// `xtask comment` on `input` (`--results FILE` or `--results-dir DIR`), the token set.
async fn comment(api: &str, input: (&str, &Path)) -> Run {
    let args: Vec<String> = vec![
        "comment".into(),
        "--repo".into(),
        format!("{OWNER}/{REPO}"),
        "--pr".into(),
        PR.to_string(),
        input.0.into(),
        input.1.to_str().unwrap().into(),
    ];
    let api = api.to_owned();
    let output: Output = tokio::task::spawn_blocking(move || {
        let mut cmd = assert_cmd::cargo::cargo_bin_cmd!("xtask");
        cmd.args(&args)
            .env_remove("GITHUB_STEP_SUMMARY")
            .env("RUST_BACKTRACE", "1")
            .env("GITHUB_API_URL", api)
            .env("GITHUB_TOKEN", TOKEN);
        cmd.output().unwrap()
    })
    .await
    .unwrap();
    let run = Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert!(!run.stderr.contains(TOKEN) && !run.stdout.contains(TOKEN));
    run
}

/// A paired run of [`IDS`] with counting runs: the kind of file every test here spoils.
fn good() -> Value {
    with_counters(results::paired(&IDS, 4), 2)
}

/// The measurement at `place` of `file`.
fn at<'a>(file: &'a mut Value, place: &str) -> &'a mut Value {
    match place {
        "sample" => &mut file["configurations"][0]["samples"][0],
        "counter sample" => &mut file["configurations"][0]["counter_samples"][0],
        "paired sample" => &mut file["paired"]["samples"][0]["measurement"],
        "paired counter sample" => &mut file["paired"]["counter_samples"][0]["measurement"],
        other => panic!("{other}"),
    }
}

const PLACES: [&str; 4] = [
    "sample",
    "counter sample",
    "paired sample",
    "paired counter sample",
];

/// Asserts a one-line refusal (exit 2) naming `path` and saying `needle`.
fn assert_refused(run: &Run, path: &Path, needle: &str, what: &str) {
    assert_eq!(run.code, Some(2), "{what}: {}", run.stderr);
    assert!(
        run.stderr.contains(path.to_str().unwrap()),
        "{what}: the file is not named: {}",
        run.stderr
    );
    assert!(run.stderr.contains(needle), "{what}: {}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{what}: {}", run.stderr);
    assert!(run.stderr.starts_with("error: "), "{what}: {}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sum_that_overflows_is_refused_wherever_it_is() {
    let fake = FakeGitHub::start(TokenKind::Installation, vec![]).await;
    let dir = tempfile::tempdir().unwrap();
    let sums = [
        ("vcsw_loop", "vcsw_worker", "voluntary context switches"),
        ("ivcsw_loop", "ivcsw_worker", "involuntary context switches"),
        (
            "instructions_loop",
            "instructions_worker",
            "instruction counts",
        ),
    ];
    for place in PLACES {
        for (huge, one, what) in sums {
            let mut file = good();
            let m = at(&mut file, place);
            m[huge] = json!(u64::MAX);
            m[one] = json!(1);
            if huge == "instructions_loop" {
                // Timing runs have no counts: all three make a count.
                m["instructions_other"] = json!(0);
            }
            let path = results::write(dir.path(), &file);
            let run = comment(&fake.server.uri(), ("--results", &path)).await;
            assert_refused(
                &run,
                &path,
                &format!("the {what} add up to more than a 64-bit count can hold"),
                &format!("{place} {huge}"),
            );
        }
    }
    assert!(fake.request_lines().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_count_of_zero_is_refused_wherever_it_is() {
    let fake = FakeGitHub::start(TokenKind::Installation, vec![]).await;
    let dir = tempfile::tempdir().unwrap();
    for place in PLACES {
        let mut file = good();
        at(&mut file, place)["count"] = json!(0);
        let path = results::write(dir.path(), &file);
        let run = comment(&fake.server.uri(), ("--results", &path)).await;
        assert_refused(&run, &path, "has count 0", place);
    }
    assert!(fake.request_lines().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_id_in_counting_runs_is_refused() {
    let fake = FakeGitHub::start(TokenKind::Installation, vec![]).await;
    let dir = tempfile::tempdir().unwrap();
    for place in ["counter sample", "paired counter sample"] {
        for id in [
            "@mallory/x",
            "a/<img src=x>",
            "a/b\n::error::forged annotation",
            "Floor/Park",
        ] {
            let mut file = good();
            let m = at(&mut file, place);
            m["id"] = json!(id);
            let (runtime, handoff) = id.split_once('/').unwrap();
            m["runtime"] = json!(runtime);
            m["handoff"] = json!(handoff);
            let path = results::write(dir.path(), &file);
            let run = comment(&fake.server.uri(), ("--results", &path)).await;
            assert_refused(
                &run,
                &path,
                "is not of the form RUNTIME/HANDOFF",
                &format!("{place} {id:?}"),
            );
        }
    }
    // A counting run without instruction counts is no counting run.
    let mut file = good();
    let m = at(&mut file, "paired counter sample");
    m.as_object_mut().unwrap().remove("instructions_loop");
    let path = results::write(dir.path(), &file);
    let run = comment(&fake.server.uri(), ("--results", &path)).await;
    assert_refused(&run, &path, "is not an instruction count", "no counts");
    assert!(fake.request_lines().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_counting_runs_are_refused_before_parsing() {
    let fake = FakeGitHub::start(TokenKind::Installation, vec![]).await;
    let dir = tempfile::tempdir().unwrap();
    let limit = xtask::github::limits::Part::CounterSamples.limit();
    for place in ["paired", "configuration"] {
        let mut file = good();
        let array = match place {
            "paired" => &mut file["paired"]["counter_samples"],
            _ => &mut file["configurations"][1]["counter_samples"],
        };
        let one = array[0].clone();
        *array = Value::Array(vec![one; limit + 1]);
        let path = results::write(dir.path(), &file);
        let run = comment(&fake.server.uri(), ("--results", &path)).await;
        assert_refused(
            &run,
            &path,
            &format!("counter samples, more than the limit of {limit}"),
            place,
        );
    }
    assert!(fake.request_lines().await.is_empty());
}

/// A worker profile of 1000 calls whose stack of `run;work` claims `stacked` instructions.
fn profile(stacked: u64) -> Value {
    json!({
        "window": 1,
        "roles": { "worker": {
            "count": 1000, "threads": 1, "instructions": 400_000, "inclusive": "stacks",
            "cut_instructions": 0,
            "functions": [
                { "name": "run", "self_instructions": 100_000, "inclusive_instructions": 400_000 },
                { "name": "work", "self_instructions": 300_000, "inclusive_instructions": 300_000 }
            ],
            "stacks": { "names": ["run", "work"], "stacks": [
                { "frames": [0], "instructions": 100_000 },
                { "frames": [0, 1], "instructions": stacked }
            ] }
        } }
    })
}

/// What is spoiled, how, and what the refusal must say.
type Spoiled = (&'static str, fn(&mut Value), &'static str);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_profiles_are_refused_on_either_side() {
    let fake = FakeGitHub::start(TokenKind::Installation, vec![]).await;
    let dir = tempfile::tempdir().unwrap();
    // The same profile is accepted, so that the refusals below are the numbers' doing.
    let mut file = good();
    file["configurations"][1]["profile"] = profile(300_000);
    file["paired"]["base_profiles"][IDS[1]] = profile(300_000);
    let path = results::write(dir.path(), &file);
    let run = comment(&fake.server.uri(), ("--results", &path)).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let spoiled: [Spoiled; 4] = [
        (
            "a stack beyond the total",
            |p| p["roles"]["worker"]["stacks"]["stacks"][1]["instructions"] = json!(u64::MAX),
            "stacks add up to more instructions than its total",
        ),
        (
            "no calls",
            |p| p["roles"]["worker"]["count"] = json!(0),
            "count of calls is 0",
        ),
        (
            "a frame beyond the names",
            |p| p["roles"]["worker"]["stacks"]["stacks"][1]["frames"] = json!([0, 9]),
            "names frame Some(9) of 2",
        ),
        (
            "a billion and one instructions per call",
            |p| p["roles"]["worker"]["instructions"] = json!(1_000_000_001_000_u64),
            "more than 1000000000 per call",
        ),
    ];
    for side in ["head", "base"] {
        for (what, spoil, needle) in spoiled {
            let mut file = good();
            let mut bad = profile(300_000);
            spoil(&mut bad);
            let (good_place, bad_place) = match side {
                "head" => ("base", "head"),
                _ => ("head", "base"),
            };
            for (place, value) in [(good_place, profile(300_000)), (bad_place, bad)] {
                match place {
                    "head" => file["configurations"][1]["profile"] = value,
                    _ => file["paired"]["base_profiles"][IDS[1]] = value,
                }
            }
            let path = results::write(dir.path(), &file);
            let run = comment(&fake.server.uri(), ("--results", &path)).await;
            assert_refused(&run, &path, needle, &format!("{side}: {what}"));
            assert!(
                run.stderr.contains(&format!("{side} profile: role worker")),
                "{side}: {what}: {}",
                run.stderr
            );
        }
    }
    // Profiles beyond the limits are refused before parsing.
    let limit = xtask::github::limits::Part::Functions.limit();
    let mut file = good();
    let mut big = profile(300_000);
    let one = big["roles"]["worker"]["functions"][0].clone();
    big["roles"]["worker"]["functions"] = Value::Array(vec![one; limit + 1]);
    file["paired"]["base_profiles"][IDS[1]] = big;
    let path = results::write(dir.path(), &file);
    let run = comment(&fake.server.uri(), ("--results", &path)).await;
    assert_refused(
        &run,
        &path,
        &format!("profiled function names, more than the limit of {limit}"),
        "functions over the limit",
    );
}

/// `runners` as download-artifact lays them out: `DIR/NAME/bench.json` each.
fn artifacts(dir: &Path, runners: &[(&str, Value)]) -> PathBuf {
    for (name, file) in runners {
        let sub = dir.join(name);
        std::fs::create_dir_all(&sub).unwrap();
        results::write(&sub, file);
    }
    dir.to_owned()
}

fn only_body(fake: &FakeGitHub) -> String {
    let comments = fake.comments();
    assert_eq!(comments.len(), 1, "{comments:?}");
    assert!(comments[0].body.starts_with(MARKER));
    comments[0].body.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_hostile_runner_beside_a_good_one_leaves_the_good_section_posted() {
    let fake = FakeGitHub::start(TokenKind::Installation, vec![]).await;
    let dir = tempfile::tempdir().unwrap();
    let mut evil = good();
    let m = at(&mut evil, "paired counter sample");
    m["instructions_loop"] = json!(u64::MAX);
    m["instructions_worker"] = json!(1);
    let mut marked = good();
    // A refusal quoting the file's text: the id is shown, inert and short.
    let id = format!(
        "a/<!-- handoff-bench:pr-comment --> @mallory [x](http://evil.example) {}",
        "z".repeat(5_000)
    );
    at(&mut marked, "paired counter sample")["id"] = json!(id);
    let dir = artifacts(
        dir.path(),
        &[
            ("bench-results-evil", evil),
            ("bench-results-good", good()),
            ("bench-results-marked", marked),
        ],
    );
    let run = comment(&fake.server.uri(), ("--results-dir", &dir)).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let body = only_body(&fake);

    // The good runner's report, whole, as one runner's comment.
    let good_path = dir.join("bench-results-good/bench.json");
    let report = xtask::github::comment_report::render(
        &xtask::github::artifact::load_results(&good_path).unwrap(),
    );
    assert!(body.contains(&report), "{body}");
    // Each refused file named, with its reason, on one line each.
    let refused: Vec<&str> = body.lines().filter(|l| l.starts_with("- `")).collect();
    let evil_line = refused
        .iter()
        .find(|l| l.contains("`bench-results-evil/bench.json`"))
        .unwrap_or_else(|| panic!("the evil file is not named:\n{body}"));
    assert!(
        evil_line.contains("instruction counts add up to more than a 64-bit count"),
        "{evil_line}"
    );
    let marked_line = refused
        .iter()
        .find(|l| l.contains("`bench-results-marked/bench.json`"))
        .unwrap_or_else(|| panic!("the marked file is not named:\n{body}"));
    assert!(marked_line.contains("RUNTIME/HANDOFF"), "{marked_line}");
    assert!(marked_line.chars().count() < 400, "{marked_line}");
    assert!(!body.contains(&"z".repeat(200)), "{body}");
    // Nothing live, one marker.
    assert_inert(&body, &[], MAX_SHOWN_CHARS + 1);
    assert_eq!(body.matches(MARKER).count(), 1);
    // stderr names both refused files, one line each.
    let warnings: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("warning: refused "))
        .collect();
    assert_eq!(warnings.len(), 2, "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_every_file_is_refused_nothing_is_posted_and_the_exit_is_2() {
    let fake = FakeGitHub::start(TokenKind::Installation, vec![]).await;
    let dir = tempfile::tempdir().unwrap();
    let mut evil = good();
    at(&mut evil, "paired counter sample")["count"] = json!(0);
    let dir = artifacts(
        dir.path(),
        &[("bench-results-a", evil.clone()), ("bench-results-b", evil)],
    );
    let run = comment(&fake.server.uri(), ("--results-dir", &dir)).await;
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    for name in ["bench-results-a", "bench-results-b"] {
        assert!(run.stderr.contains(name), "{}", run.stderr);
    }
    assert!(fake.request_lines().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runners_beyond_the_cap_are_refused_one_by_one() {
    let fake = FakeGitHub::start(TokenKind::Installation, vec![]).await;
    let dir = tempfile::tempdir().unwrap();
    let cap = xtask::github::runners::MAX_RUNNERS;
    let names: Vec<String> = (0..cap + 2)
        .map(|i| format!("bench-results-r{i:02}"))
        .collect();
    let runners: Vec<(&str, Value)> = names
        .iter()
        .map(|n| (n.as_str(), results::paired(&IDS, 3)))
        .collect();
    let dir = artifacts(dir.path(), &runners);
    let run = comment(&fake.server.uri(), ("--results-dir", &dir)).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let body = only_body(&fake);
    assert!(
        body.contains(&format!("## handoff-bench on {cap} runners")),
        "{body}"
    );
    for name in &names[cap..] {
        let line = body
            .lines()
            .find(|l| l.contains(&format!("`{name}/bench.json`")))
            .unwrap_or_else(|| panic!("{name} is not named:\n{body}"));
        assert!(
            line.contains(&format!("beyond the limit of {cap} runners per comment")),
            "{line}"
        );
    }
    assert!(body.contains(&format!("### Runner {cap}:")), "{body}");
    assert!(
        !body.contains(&format!("### Runner {}:", cap + 1)),
        "{body}"
    );
}

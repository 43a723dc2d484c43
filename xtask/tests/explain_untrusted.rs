//! Function names in a results file are the code under test's, chosen by whoever wrote the
//! pull request: in the comment's explanation they stay inert (one code span each, no
//! mention, link, HTML or line break), however they are spelled.

#[path = "comment_support/results.rs"]
mod results;

use serde_json::{Value, json};

const IDS: [&str; 2] = ["tokio-current/dedicated", "floor/park"];

/// A counting run of `id`: `worker` instructions per call on the worker, 2000 on the loop.
fn counted(id: &str, worker: u64) -> Value {
    let mut m = results::measurement(id, 1_000_000);
    m["instructions_loop"] = json!(2000 * 1000);
    m["instructions_worker"] = json!(worker * 1000);
    m["instructions_other"] = json!(0);
    m
}

/// A profile whose worker ran `name` for `own` instructions per call (of 1000 calls).
fn profile(name: &str, own: u64) -> Value {
    json!({
        "window": 1,
        "roles": { "worker": {
            "count": 1000, "threads": 1, "instructions": (300 + own) * 1000,
            "inclusive": "stacks", "cut_instructions": 0,
            "functions": [
                { "name": "std::thread::run", "self_instructions": 300_000,
                  "inclusive_instructions": (300 + own) * 1000 },
                { "name": name, "self_instructions": own * 1000,
                  "inclusive_instructions": own * 1000 },
            ],
        } },
    })
}

/// A paired results file in which the head's worker of the first id runs `name` for 17
/// more instructions per call.
fn with_a_new_function(name: &str) -> Value {
    let mut v = results::paired_unchanged(&IDS, 12);
    let mut counter_samples = Vec::new();
    for run in 0..3 {
        for (position, id) in IDS.iter().enumerate() {
            let head_worker = if position == 0 { 317 } else { 300 };
            for (side, worker) in [("base", 300), ("head", head_worker)] {
                counter_samples.push(json!({
                    "block": run, "side": side, "position": position,
                    "measurement": counted(id, worker),
                }));
            }
        }
    }
    v["paired"]["counter_samples"] = json!(counter_samples);
    v["paired"]["base_profiles"] = json!({ IDS[0]: profile("base::only", 0) });
    v["configurations"][0]["profile"] = profile(name, 17);
    v["comparison"]["policy"]["gates"]["instructions_per_call"] = json!(0.01);
    v
}

fn comment_of(file: &Value) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = results::write(dir.path(), file);
    let checked = xtask::github::artifact::load_results(&path).unwrap();
    xtask::github::comment_report::render(&checked)
}

#[test]
fn a_plain_new_function_is_listed_on_the_worker() {
    let body = comment_of(&with_a_new_function("app::extra_work"));
    assert!(
        body.contains("  - worker: `app::extra_work` +17.0 instr/call (new)"),
        "{body}"
    );
}

#[test]
fn hostile_function_names_stay_inert_in_the_comment() {
    for payload in results::PAYLOADS {
        let body = comment_of(&with_a_new_function(payload));
        let line = body
            .lines()
            .find(|l| l.starts_with("  - worker: `"))
            .unwrap_or_else(|| panic!("no function line for {payload:?}:\n{body}"));
        // One code span from the first backtick to the last, then the renderer's words.
        let (span, rest) = line["  - worker: ".len()..]
            .rsplit_once('`')
            .expect("a closing backtick");
        assert!(span.starts_with('`') && !span[1..].contains('`'), "{line}");
        assert_eq!(rest, " +17.0 instr/call (new)", "{line}");
        // No line break, HTML comment or table cell escaped the span.
        assert!(!span.contains("<!--") && !span.contains('|'), "{line}");
        assert_eq!(body.matches("<!-- handoff-bench").count(), 0, "{body}");
    }
    let long = "x".repeat(10_000);
    let body = comment_of(&with_a_new_function(&long));
    let line = body.lines().find(|l| l.contains("xxxx")).unwrap();
    assert!(line.chars().count() < 200, "{} chars", line.chars().count());
}

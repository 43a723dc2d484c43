//! `cargo xtask history`: result files appended commit by commit, then the change points
//! reported with their commit; bad input named, with exit 2, and the history kept whole.

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

/// A result file of one commit: `floor/park` at `wall_ns` per call over three runs.
fn result_file(dir: &Path, commit: usize, wall_ns: u64, dirty: bool) -> String {
    let sample = |wobble: u64| {
        json!({
            "schema": 1, "id": "floor/park", "runtime": "floor", "handoff": "park",
            "count": 1000, "in_flight": 1, "work": "zero", "wall_ns": (wall_ns + wobble) * 1000,
            "cpu_total_ns": wall_ns * 1500, "cpu_loop_ns": wall_ns * 700,
            "cpu_worker_ns": wall_ns * 800, "cpu_other_ns": 0, "vcsw_loop": 1000,
            "vcsw_worker": 1000, "ivcsw_loop": 0, "ivcsw_worker": 0, "pinned": true,
        })
    };
    let file = json!({
        "schema": 1, "kind": "handoff-bench-results", "created": "2026-12-02T00:00:00Z",
        "host": {
            "cpu_model": "Test CPU", "cores": 2, "kernel": "6.1.0-test",
            "rustc": "rustc 1.95.0 (59807616e 2026-04-14)", "crates": {},
        },
        "git": { "revision": format!("{commit:040x}"), "dirty": dirty },
        "settings": { "runs": 3, "count": 1000, "work": "zero", "in_flight": 1, "pin": true },
        "configurations": [{
            "id": "floor/park",
            "samples": [sample(0), sample(commit as u64 % 3), sample(2)],
            "summary": {},
        }],
    });
    let path = dir.join(format!("results-{commit}.json"));
    std::fs::write(&path, file.to_string()).unwrap();
    path.to_str().unwrap().to_owned()
}

fn xtask(args: &[&str]) -> (Option<i32>, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("history")
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_step_of_main_is_reported_at_its_commit() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history.jsonl");
    let history = history.to_str().unwrap();
    // 40 commits; from commit 25 on, floor/park takes 10% longer.
    for commit in 0..40 {
        let wall = if commit >= 25 { 110_000 } else { 100_000 };
        let results = result_file(dir.path(), commit, wall, false);
        let (code, stdout, stderr) =
            xtask(&["append", "--results", &results, "--history", history]);
        assert_eq!(code, Some(0), "{stderr}");
        assert!(
            stdout.contains(&format!("({} commits)", commit + 1)),
            "{stdout}"
        );
    }
    let (code, stdout, stderr) = xtask(&["report", "--history", history]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.starts_with("history: 40 commits;"), "{stdout}");
    let wall: Vec<&str> = stdout.lines().filter(|l| l.contains(" Wall ")).collect();
    assert_eq!(wall.len(), 1, "{stdout}");
    let commit_25 = format!("{:040x}", 25);
    assert!(
        wall[0].contains(&format!(
            "at {} (commit 26 of 40): +10.0%",
            &commit_25[..12]
        )),
        "{stdout}"
    );
    let lines: Vec<Value> = std::fs::read_to_string(history)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 40);
    assert_eq!(lines[25]["commit"], commit_25.as_str());
}

#[test]
fn bad_input_is_named_exits_2_and_leaves_the_history_whole() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history.jsonl");
    let path = history.to_str().unwrap();
    let clean = result_file(dir.path(), 1, 100_000, false);
    assert_eq!(
        xtask(&["append", "--results", &clean, "--history", path]).0,
        Some(0)
    );
    let before = std::fs::read_to_string(&history).unwrap();
    let dirty = result_file(dir.path(), 2, 100_000, true);
    let (code, _, stderr) = xtask(&["append", "--results", &dirty, "--history", path]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("dirty tree"), "{stderr}");
    let (code, _, stderr) = xtask(&["append", "--results", &clean, "--history", path]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("already has commit"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&history).unwrap(), before);
    let (code, _, stderr) = xtask(&["report", "--history", path, "--alpha", "2"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--alpha 2"), "{stderr}");
}

#[test]
fn a_bad_line_is_skipped_and_named_and_the_rest_reported() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history.jsonl");
    let path = history.to_str().unwrap();
    for commit in 0..3 {
        let results = result_file(dir.path(), commit, 100_000, false);
        let (code, _, stderr) = xtask(&["append", "--results", &results, "--history", path]);
        assert_eq!(code, Some(0), "{stderr}");
    }
    // A line damaged in the middle of the history (a hand edit, a cut write).
    let text = std::fs::read_to_string(&history).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.insert(1, "{\"commit\": \"trunc");
    std::fs::write(&history, lines.join("\n") + "\n").unwrap();

    let (code, stdout, stderr) = xtask(&["report", "--history", path]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.starts_with("history: 3 commits;"), "{stdout}");
    assert!(
        stderr.contains(&format!("{path} line 2: skipped: not a history entry")),
        "{stderr}"
    );
    // Appending goes on after it and keeps the damaged line as it was.
    let results = result_file(dir.path(), 3, 100_000, false);
    let (code, stdout, stderr) = xtask(&["append", "--results", &results, "--history", path]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("(4 commits)"), "{stdout}");
    assert!(stderr.contains("line 2: skipped"), "{stderr}");
    assert!(
        std::fs::read_to_string(&history)
            .unwrap()
            .contains("{\"commit\": \"trunc\n")
    );
}

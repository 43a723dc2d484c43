//! The real `handoff-bench` binary, built by cargo, feeds the xtask's parser: every line it
//! prints for a few configurations (floors included) is a `Measurement` the xtask accepts.
//!
//! The binary is built as `cargo xtask bench` builds it (`support/bench_binary.rs`).

use std::collections::BTreeSet;

#[path = "support/bench_binary.rs"]
mod bench_binary;
use bench_binary::build_handoff_bench;

use std::process::{Command, Stdio};

use serde_json::Value;
use xtask::model::measurement::Measurement;

/// The configurations run: both floors, python-async-bench's dedicated worker, a runtime's own pool.
const IDS: [&str; 4] = [
    "tokio-current/dedicated",
    "smol/to-thread",
    "floor/spin",
    "floor/park",
];
const COUNT: u64 = 200;

#[test]
fn every_line_of_the_real_binary_parses_as_a_measurement() {
    let bench = build_handoff_bench();
    let count = COUNT.to_string();
    let mut cmd = Command::new(&bench);
    cmd.args(["--format", "json", "--count", &count]);
    for id in IDS {
        cmd.args(["--only", id]);
    }
    let output = cmd.stdin(Stdio::null()).output().unwrap();
    assert!(
        output.status.success(),
        "{}: {}\n{}",
        bench.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let measurements: Vec<Measurement> = stdout
        .lines()
        .map(|line| {
            Measurement::parse_line(line)
                .unwrap_or_else(|e| panic!("the xtask cannot read {line}: {e}"))
        })
        .collect();
    let ids: BTreeSet<&str> = measurements.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(
        ids,
        BTreeSet::from(IDS),
        "one line per configuration asked for"
    );
    assert_eq!(measurements.len(), IDS.len());
    for m in &measurements {
        assert_eq!(m.count, COUNT, "{}", m.id);
        assert_eq!(m.id, format!("{}/{}", m.runtime, m.handoff));
        assert!(!m.pinned(), "{}: not asked to pin", m.id);
        assert!(m.wall_ns > 0, "{}: a window that took no time", m.id);
    }
}

/// Whether valgrind can be run here (CI installs it; `.ci/run`).
fn valgrind_installed() -> bool {
    Command::new("valgrind")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

#[test]
fn the_gate_runs_the_real_crates_on_sql_work_with_counters() {
    // The real SQLite crates are configurations like any other: fresh processes, counters
    // under callgrind, a result file. `--only` brings them in (the default suite leaves them
    // out).
    let bench = build_handoff_bench();
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results.json");
    let ids = [
        "tokio-current/tokio-rusqlite",
        "tokio-current/deadpool-sqlite",
    ];
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xtask"));
    cmd.arg("bench")
        .arg("--bench-bin")
        .arg(&bench)
        .args(["--work", "sql-read", "--runs", "2", "--count", "200"])
        .args(["--no-baseline", "--json"])
        .arg(&results);
    let counting = valgrind_installed();
    if counting {
        cmd.args([
            "--counters",
            "--counter-runs",
            "2",
            "--counter-count",
            "100",
        ]);
    } else {
        cmd.arg("--no-counters");
    }
    for id in ids {
        cmd.args(["--only", id]);
    }
    let output = cmd.stdin(Stdio::null()).output().unwrap();
    assert!(
        output.status.success(),
        "{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let file: Value = serde_json::from_str(&std::fs::read_to_string(&results).unwrap()).unwrap();
    let text = file.to_string();
    for id in ids {
        assert!(
            text.contains(&format!("\"{id}\"")),
            "{id} missing from {text}"
        );
    }
    assert!(
        text.contains("\"sql-read\""),
        "the work is recorded: {text}"
    );
    if counting {
        // Instructions attributed to the connection's thread: a point read is thousands.
        let worker: Vec<f64> = file["configurations"]
            .as_array()
            .expect("a configurations array")
            .iter()
            .filter_map(|row| row.pointer("/summary/instructions_worker_per_call/median"))
            .filter_map(Value::as_f64)
            .collect();
        assert_eq!(
            worker.len(),
            ids.len(),
            "counts per configuration in {text}"
        );
        assert!(
            worker.iter().all(|&per_call| per_call > 1_000.0),
            "{worker:?}"
        );
    }
}

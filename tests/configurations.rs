//! Every configuration runs through the real binary with a small count, sequentially and
//! with 8 calls in flight, and reports a complete, self-consistent JSON line.

use assert_cmd::Command;
use serde_json::Value;

const REQUIRED_FIELDS: [&str; 16] = [
    "schema",
    "id",
    "runtime",
    "handoff",
    "count",
    "in_flight",
    "work",
    "wall_ns",
    "cpu_total_ns",
    "cpu_loop_ns",
    "cpu_worker_ns",
    "cpu_other_ns",
    "vcsw_loop",
    "vcsw_worker",
    "ivcsw_loop",
    "ivcsw_worker",
];

fn ids() -> Vec<String> {
    let output = Command::cargo_bin("handoff-bench")
        .unwrap()
        .arg("--list")
        .output()
        .unwrap();
    assert!(output.status.success());
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn run_all(in_flight: u64, work: &str) {
    let count = 300;
    let output = Command::cargo_bin("handoff-bench")
        .unwrap()
        .args(["--format", "json", "--count", &count.to_string()])
        .args(["--in-flight", &in_flight.to_string(), "--work", work])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let reported: Vec<&str> = lines
        .iter()
        .map(|line| line["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        reported,
        ids(),
        "one line per configuration, in --list order"
    );
    for line in &lines {
        let id = line["id"].as_str().unwrap();
        for field in REQUIRED_FIELDS {
            assert!(line.get(field).is_some(), "{id}: missing {field}");
        }
        let number = |field: &str| {
            line[field]
                .as_u64()
                .unwrap_or_else(|| panic!("{id}: {field}"))
        };
        assert_eq!(number("schema"), 1);
        assert_eq!(number("count"), count, "{id}");
        assert_eq!(number("in_flight"), in_flight, "{id}");
        assert_eq!(line["work"], work, "{id}");
        assert_eq!(
            id,
            format!(
                "{}/{}",
                line["runtime"].as_str().unwrap(),
                line["handoff"].as_str().unwrap()
            )
        );
        assert_eq!(
            number("cpu_loop_ns") + number("cpu_worker_ns") + number("cpu_other_ns"),
            number("cpu_total_ns"),
            "{id}: the CPU split adds up to the total"
        );
        assert!(number("wall_ns") > 0, "{id}: a window that took no time");
        // Every configuration really ran calls on a worker thread.
        assert!(
            number("cpu_worker_ns") > 0,
            "{id}: no CPU on a worker thread"
        );
    }
}

#[test]
fn every_configuration_reports_a_consistent_line_sequentially() {
    run_all(1, "zero");
}

#[test]
fn every_configuration_reports_a_consistent_line_with_eight_in_flight() {
    run_all(8, "spin:1000");
}

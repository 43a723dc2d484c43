//! The binary's side of the JSON-line contract: what it prints, and what its `Measurement`
//! serializes to, has exactly the golden fixture's fields and value types.

use assert_cmd::Command;
use handoff_bench::line::Measurement;
use serde_json::Value;

mod golden;

#[test]
fn the_binary_prints_lines_of_the_golden_shape() {
    // The fixture's own command (`tests/fixtures/json-line/regenerate`), with fewer calls.
    let output = Command::cargo_bin("handoff-bench")
        .unwrap()
        .args(["--format", "json", "--count", "100", "--pin"])
        .args(["--only", "tokio-current/dedicated", "--only", "floor/park"])
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
    let ids: Vec<&str> = lines.iter().map(|l| l["id"].as_str().unwrap()).collect();
    assert_eq!(ids, golden::ids(), "the fixture's configurations, in order");
    for line in &lines {
        golden::assert_golden_shape(line, line["id"].as_str().unwrap());
    }
}

#[test]
fn a_measurement_reads_and_writes_the_fixture_unchanged() {
    // Every field, its name, type and position: a field the struct lacks would be dropped,
    // one the fixture lacks would be added, a renamed one would do both.
    for line in golden::FIXTURE.lines() {
        let measurement: Measurement = serde_json::from_str(line).unwrap();
        assert_eq!(serde_json::to_string(&measurement).unwrap(), line);
    }
}

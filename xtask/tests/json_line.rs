//! The xtask's side of the JSON-line contract (`tests/fixtures/json-line/`): its parser reads
//! the real binary's golden lines, the same lines as an older binary printed them (without
//! the fields added since the first contract) and as a newer one may (with fields it does
//! not know); and the fake benchmark prints lines of the golden shape.

use assert_cmd::Command;
use serde_json::{Value, json};
use xtask::model::measurement::Measurement;

#[path = "../../tests/golden/mod.rs"]
mod golden;

/// The fields the JSON line gained after its first version: a paired run's older base binary
/// may print none of them, so the xtask must not need them.
const LATER_FIELDS: [&str; 7] = [
    "gap_us",
    "inject_ns",
    "pinned",
    "cpu_process_ns",
    "vcsw_other",
    "ivcsw_other",
    "threads",
];

fn parse(line: &Value) -> Measurement {
    Measurement::parse_line(&line.to_string())
        .unwrap_or_else(|e| panic!("the xtask cannot read {line}: {e}"))
}

#[test]
fn the_golden_lines_parse_and_round_trip_unchanged() {
    for line in golden::lines() {
        let m = parse(&line);
        assert_eq!(m.id, line["id"]);
        assert_eq!(m.count, line["count"]);
        assert_eq!(m.wall_ns, line["wall_ns"]);
        assert_eq!(m.pinned(), line["pinned"] == true);
        let vcsw = ["vcsw_loop", "vcsw_worker", "vcsw_other"]
            .iter()
            .map(|field| line[field].as_u64().unwrap())
            .sum::<u64>();
        assert_eq!(m.vcsw_total(), vcsw);
        // A stored sample keeps every field of the line, known or not.
        assert_eq!(serde_json::to_value(&m).unwrap(), line);
    }
}

#[test]
fn an_older_line_without_the_later_fields_parses() {
    for mut line in golden::lines() {
        let object = line.as_object_mut().unwrap();
        for field in LATER_FIELDS {
            assert!(object.remove(field).is_some(), "the fixture lacks {field}");
        }
        let m = parse(&line);
        assert!(!m.pinned(), "no `pinned` field reads as unpinned");
        assert_eq!(m.vcsw_total(), m.vcsw_loop + m.vcsw_worker);
        assert!(m.unknown.is_empty(), "{:?}", m.unknown);
    }
}

#[test]
fn a_newer_line_with_unknown_fields_parses_and_they_change_nothing() {
    for line in golden::lines() {
        let mut newer = line.clone();
        let object = newer.as_object_mut().unwrap();
        object.insert("instructions_loop".into(), json!(123_456_789));
        object.insert("slices".into(), json!([{ "wall_ns": 1 }, { "wall_ns": 2 }]));
        object.insert("host_note".into(), json!("a field from the future"));
        let known = parse(&line);
        let m = parse(&newer);
        // A field this version knows is typed; the others ride along unread.
        assert_eq!(m.instructions_loop, Some(123_456_789));
        let mut without = m.clone();
        without.instructions_loop = None;
        for field in ["slices", "host_note"] {
            assert!(without.unknown.remove(field).is_some(), "{field}");
        }
        assert_eq!(without, known, "unknown fields only ride along");
        assert_eq!(
            serde_json::to_value(&m).unwrap(),
            newer,
            "and are written back"
        );
    }
}

#[test]
fn a_line_missing_a_field_of_the_first_contract_is_refused_by_name() {
    let mut line = golden::lines().remove(0);
    line.as_object_mut().unwrap().remove("cpu_worker_ns");
    let err = Measurement::parse_line(&line.to_string())
        .unwrap_err()
        .to_string();
    assert!(err.contains("missing field `cpu_worker_ns`"), "{err}");
}

/// The lines the fake benchmark prints with `args` and `env`.
fn fake_lines(args: &[&str], env: &[(&str, &str)]) -> Vec<Value> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_fake-handoff-bench"));
    cmd.args(["--format", "json", "--count", "10"]).args(args);
    for variable in ["FAKE_BENCH_IDS", "FAKE_BENCH_FAIL", "FAKE_BENCH_NO_PIN"] {
        cmd.env_remove(variable);
    }
    for (name, value) in env {
        cmd.env(name, value);
    }
    let output = cmd.output().unwrap();
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[test]
fn the_fake_benchmark_prints_lines_of_the_golden_shape() {
    let lines = fake_lines(&["--pin"], &[]);
    assert_eq!(lines.len(), 3, "the fake's three default ids");
    for line in &lines {
        golden::assert_golden_shape(line, "the fake benchmark");
        parse(line);
    }
}

#[test]
fn the_fake_playing_a_binary_from_before_pin_only_lacks_pinned() {
    let mut golden = golden::golden_shape();
    golden.remove("pinned");
    for line in fake_lines(&[], &[("FAKE_BENCH_NO_PIN", "1")]) {
        assert_eq!(golden::shape(&line), golden, "{line}");
        assert!(!parse(&line).pinned());
    }
}

//! The golden JSON line of the benchmark (`tests/fixtures/json-line/`): its lines, and the
//! shape of a line (field name -> JSON value type) to compare others with. Shared by the
//! binary's tests and, through `#[path]`, the xtask's, so both sides test against one file.
// Each test binary compiles its own copy of this module and uses only part of it.
#![allow(dead_code)]

use std::collections::BTreeMap;

use serde_json::Value;

/// The fixture, captured from the real binary by `tests/fixtures/json-line/regenerate`.
pub const FIXTURE: &str = include_str!("../fixtures/json-line/handoff-bench.jsonl");

/// The fixture's lines, parsed.
pub fn lines() -> Vec<Value> {
    FIXTURE
        .lines()
        .enumerate()
        .map(|(index, line)| {
            serde_json::from_str(line).unwrap_or_else(|e| panic!("fixture line {}: {e}", index + 1))
        })
        .collect()
}

/// The configuration ids of the fixture's lines, in order.
pub fn ids() -> Vec<String> {
    lines()
        .iter()
        .map(|line| line["id"].as_str().expect("an id").to_owned())
        .collect()
}

/// The JSON type of a value, as the contract distinguishes them (counters and times are
/// unsigned integers, never floats).
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_u64() => "unsigned integer",
        Value::Number(n) if n.is_i64() => "negative integer",
        Value::Number(_) => "float",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A line's field names and value types.
pub fn shape(line: &Value) -> BTreeMap<String, &'static str> {
    line.as_object()
        .unwrap_or_else(|| panic!("not a JSON object: {line}"))
        .iter()
        .map(|(name, value)| (name.clone(), kind(value)))
        .collect()
}

/// The shape every fixture line has (checked to be one shape).
pub fn golden_shape() -> BTreeMap<String, &'static str> {
    let lines = lines();
    let first = shape(&lines[0]);
    for line in &lines[1..] {
        assert_eq!(shape(line), first, "the fixture's lines differ in shape");
    }
    first
}

/// Panics, naming each difference, unless `line` has exactly the golden fields and types.
pub fn assert_golden_shape(line: &Value, what: &str) {
    let golden = golden_shape();
    let actual = shape(line);
    let mut differences = Vec::new();
    for (name, kind) in &golden {
        match actual.get(name) {
            None => differences.push(format!("missing `{name}` ({kind})")),
            Some(found) if found != kind => {
                differences.push(format!("`{name}` is a {found}, the fixture's a {kind}"));
            }
            Some(_) => {}
        }
    }
    for (name, kind) in &actual {
        if !golden.contains_key(name) {
            differences.push(format!("`{name}` ({kind}) is not in the fixture"));
        }
    }
    assert!(
        differences.is_empty(),
        "{what}: its line differs from tests/fixtures/json-line/handoff-bench.jsonl: {}\n{line}",
        differences.join("; ")
    );
}

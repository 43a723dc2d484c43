//! Property tests of the reader of untrusted results files (`github::artifact`, `limits`,
//! `checked_results`, `model::results`), over hostile numbers, ids and shapes: every file
//! is either refused with an error naming it, or accepted with every measurement in it
//! valid and its comment rendered; nothing panics, nothing wraps. The cases are few and
//! small (a bounded number each), so the suite stays fast.

mod comment_support;

use std::path::{Path, PathBuf};

use comment_support::results::{self, with_counters};
use proptest::prelude::*;
use serde_json::{Value, json};
use xtask::github::artifact::{InputError, load_results};
use xtask::github::checked_results::{CheckedResults, is_configuration_id};
use xtask::github::comment_report;
use xtask::github::limits;

const IDS: [&str; 2] = ["floor/park", "tokio-current/dedicated"];

/// A paired run with counting runs: every kind of sample the gate reads.
fn good() -> Value {
    with_counters(results::paired(&IDS, 3), 2)
}

/// Writes `file` and reads it as the comment job does.
fn load(
    file: &Value,
) -> (
    tempfile::TempDir,
    PathBuf,
    Result<CheckedResults, InputError>,
) {
    let dir = tempfile::tempdir().unwrap();
    let path = results::write(dir.path(), file);
    let loaded = load_results(&path);
    (dir, path, loaded)
}

/// Every measurement of an accepted file validates, and its comment renders.
fn accepted_is_sound(checked: &CheckedResults) -> Result<(), TestCaseError> {
    let r = &checked.results;
    let mut all: Vec<&xtask::model::measurement::Measurement> = Vec::new();
    for c in &r.configurations {
        all.extend(&c.samples);
        all.extend(&c.counter_samples);
    }
    if let Some(p) = &r.paired {
        all.extend(p.samples.iter().map(|s| &s.measurement));
        all.extend(p.counter_samples.iter().map(|s| &s.measurement));
    }
    for m in all {
        prop_assert!(
            m.validate().is_ok(),
            "accepted an invalid measurement: {:?}",
            m.validate()
        );
    }
    let report = comment_report::render(checked);
    prop_assert!(report.starts_with("## handoff-bench"), "{}", report);
    Ok(())
}

/// A refusal names the file and stays on one line once printed (`comment` escapes control
/// characters; the text itself must be short).
fn refusal_is_sound(path: &Path, error: &InputError) -> Result<(), TestCaseError> {
    let text = error.to_string();
    prop_assert!(text.contains(path.to_str().unwrap()), "{}", text);
    prop_assert!(text.len() < 1_000, "a refusal of {} bytes", text.len());
    Ok(())
}

/// Where a measurement sits in a results file.
fn places() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "/configurations/0/samples/0",
        "/configurations/1/samples/2",
        "/configurations/0/counter_samples/1",
        "/paired/samples/3/measurement",
        "/paired/counter_samples/0/measurement",
        "/paired/counter_samples/5/measurement",
    ])
}

/// The numeric fields of a measurement.
fn fields() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "count",
        "in_flight",
        "wall_ns",
        "cpu_total_ns",
        "cpu_loop_ns",
        "cpu_worker_ns",
        "cpu_other_ns",
        "vcsw_loop",
        "vcsw_worker",
        "vcsw_other",
        "ivcsw_loop",
        "ivcsw_worker",
        "ivcsw_other",
        "instructions_loop",
        "instructions_worker",
        "instructions_other",
        "threads",
        "schema",
    ])
}

/// Numbers and not-numbers a stranger might write.
fn hostile_values() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!(0)),
        Just(json!(1)),
        Just(json!(u64::MAX)),
        Just(json!(u64::MAX - 1)),
        Just(json!(1u64 << 63)),
        Just(json!((1u64 << 53) + 1)),
        any::<u64>().prop_map(|v| json!(v)),
        (u64::MAX / 2..=u64::MAX).prop_map(|v| json!(v)),
        Just(json!(-1)),
        Just(json!(1e300)),
        Just(json!(0.5)),
        Just(json!("12")),
        Just(Value::Null),
        Just(json!(true)),
        Just(json!([])),
        Just(json!({})),
    ]
}

/// Ids: some of the grammar, most not.
fn ids() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9-]{1,8}/[a-z0-9-]{1,8}",
        "[a-z/]{0,12}",
        ".{0,40}",
        Just("a/<img src=x>".to_owned()),
        Just("@mallory/x".to_owned()),
        Just(format!("a/{}", "b".repeat(200))),
        Just("a/b\n::error::forged".to_owned()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Up to three hostile numbers anywhere in the samples.
    #[test]
    fn hostile_numbers_are_refused_or_rendered_never_wrapped(
        edits in prop::collection::vec((places(), fields(), hostile_values()), 1..4)
    ) {
        let mut file = good();
        for (place, field, value) in &edits {
            file.pointer_mut(place).unwrap()[*field] = value.clone();
        }
        let (_dir, path, loaded) = load(&file);
        match loaded {
            Ok(checked) => accepted_is_sound(&checked)?,
            Err(error) => refusal_is_sound(&path, &error)?,
        }
    }

    /// An id anywhere the gate reads one, counting runs included.
    #[test]
    fn ids_outside_the_grammar_are_refused_wherever_they_are(
        place in prop::sample::select(vec![
            "/configurations/0",
            "/configurations/0/counter_samples/0",
            "/paired/samples/1/measurement",
            "/paired/counter_samples/2/measurement",
            "/failures",
            "/paired/added",
            "/paired/removed",
        ]),
        id in ids(),
    ) {
        let mut file = good();
        if place == "/failures" {
            file["failures"] = json!([]);
        }
        let target = file.pointer_mut(place).unwrap();
        match place {
            "/failures" => {
                *target = json!([{ "id": id, "run": 0, "reason": "r", "stderr_tail": "" }]);
            }
            "/paired/added" | "/paired/removed" => *target = json!([id]),
            _ => {
                let (runtime, handoff) = id.split_once('/').unwrap_or((&id, ""));
                target["id"] = json!(id);
                target["runtime"] = json!(runtime);
                target["handoff"] = json!(handoff);
            }
        }
        let (_dir, path, loaded) = load(&file);
        match loaded {
            Ok(checked) => {
                prop_assert!(is_configuration_id(&id), "accepted the id {:?}", id);
                accepted_is_sound(&checked)?;
            }
            Err(error) => {
                refusal_is_sound(&path, &error)?;
                if !is_configuration_id(&id) {
                    prop_assert!(
                        error.to_string().contains("is not of the form RUNTIME/HANDOFF"),
                        "{}", error
                    );
                }
            }
        }
    }

    /// Any node of a good file replaced by any small JSON value, or removed.
    #[test]
    fn any_mutated_shape_is_refused_or_rendered(
        pick in any::<prop::sample::Index>(),
        replacement in prop_oneof![
            hostile_values().prop_map(Some),
            Just(None),
            Just(Some(json!([[[[1]]]]))),
            Just(Some(json!({"schema": 1}))),
            Just(Some(json!("x".repeat(3_000)))),
        ],
    ) {
        let mut file = good();
        let mut pointers = Vec::new();
        collect_pointers(&file, String::new(), &mut pointers);
        let pointer = pick.get(&pointers).clone();
        replace_or_remove(&mut file, &pointer, replacement);
        let (_dir, path, loaded) = load(&file);
        match loaded {
            Ok(checked) => accepted_is_sound(&checked)?,
            Err(error) => refusal_is_sound(&path, &error)?,
        }
    }
}

/// Every JSON pointer of `value` but the root's.
fn collect_pointers(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let p = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                out.push(p.clone());
                collect_pointers(v, p, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                let p = format!("{at}/{i}");
                out.push(p.clone());
                collect_pointers(v, p, out);
            }
        }
        _ => {}
    }
}

/// Replaces the node at `pointer`, or removes it (from its object or array).
fn replace_or_remove(file: &mut Value, pointer: &str, replacement: Option<Value>) {
    match replacement {
        Some(v) => *file.pointer_mut(pointer).unwrap() = v,
        None => {
            let (parent, last) = pointer.rsplit_once('/').unwrap();
            let parent = if parent.is_empty() {
                &mut *file
            } else {
                file.pointer_mut(parent).unwrap()
            };
            match parent {
                Value::Object(map) => {
                    map.remove(&last.replace("~1", "/").replace("~0", "~"));
                }
                Value::Array(items) => {
                    items.remove(last.parse::<usize>().unwrap());
                }
                _ => unreachable!(),
            }
        }
    }
}

/// A file of the given counts, its elements as cheap as the limits pass allows (the shape
/// pass never looks inside a sample); samples and counting runs split between the
/// configurations and the paired record.
fn counted_file(
    configurations: usize,
    samples: [usize; 2],
    counters: [usize; 2],
    failures: usize,
) -> String {
    let list = |n: usize| format!("[{}]", vec!["{}"; n].join(","));
    let mut configs: Vec<String> = (0..configurations)
        .map(|_| r#"{"samples": [], "counter_samples": []}"#.to_owned())
        .collect();
    if let Some(first) = configs.first_mut() {
        *first = format!(
            r#"{{"samples": {}, "counter_samples": {}}}"#,
            list(samples[0]),
            list(counters[0])
        );
    }
    format!(
        r#"{{"configurations": [{}], "failures": {}, "paired": {{"samples": {}, "counter_samples": {}}}}}"#,
        configs.join(","),
        list(failures),
        list(samples[1]),
        list(counters[1]),
    )
}

/// A count near its limit: well below, at, or just over.
fn near(limit: usize) -> impl Strategy<Value = usize> {
    prop_oneof![
        0..4usize,
        Just(limit),
        Just(limit + 1),
        (limit - 3)..=(limit + 3)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// The limits count every array the gate reads, wherever its elements sit, and refuse a
    /// file exactly when one count is over its limit.
    #[test]
    fn the_limits_count_every_array_the_gate_reads(
        configurations in near(limits::MAX_CONFIGURATIONS),
        samples in near(limits::MAX_SAMPLES),
        counters in near(COUNTER_LIMIT),
        failures in near(limits::MAX_FAILURES),
        sample_split in 0.0..=1.0f64,
        counter_split in 0.0..=1.0f64,
    ) {
        let split = |n: usize, at: f64| {
            let first = (n as f64 * at) as usize;
            [first, n - first]
        };
        // Elements in the first configuration need one to exist.
        let configurations = configurations.max(1);
        let text = counted_file(
            configurations,
            split(samples, sample_split),
            split(counters, counter_split),
            failures,
        );
        let path = Path::new("bench.json");
        let over = configurations > limits::MAX_CONFIGURATIONS
            || samples > limits::MAX_SAMPLES
            || counters > COUNTER_LIMIT
            || failures > limits::MAX_FAILURES;
        let checked = limits::check(path, &text);
        prop_assert_eq!(checked.is_err(), over, "{:?}", checked.err().map(|e| e.to_string()));
        if let Err(e) = checked {
            let message = e.to_string();
            prop_assert!(message.contains("bench.json") && message.contains("more than the limit"), "{}", message);
        }
    }
}

/// The limit of counting runs (configurations' and paired record's together).
const COUNTER_LIMIT: usize = limits::Part::CounterSamples.limit();

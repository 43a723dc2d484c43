//! Limits on a results file from an artifact, checked before it is parsed into a tree.
//!
//! The comment job reads a file that a pull request's code wrote. Its size is capped while
//! it is read ([`super::artifact::read_capped`]); this module then checks, in two passes that
//! build nothing but counters, what the size alone does not bound:
//!
//! 1. **Nesting**: a byte scan counts `[`/`{` outside strings ([`check_depth`]). It runs
//!    before serde_json sees the text, so no parser recursion is ever deeper than
//!    [`MAX_DEPTH`] (serde_json's own limit, 128, would be reached first otherwise). The scan
//!    does not validate JSON; serde_json does that afterwards.
//! 2. **Counts**: serde_json's streaming deserialiser walks the text into a shape of
//!    counters ([`count`]): configurations, samples, failures. Everything else is skipped
//!    with `IgnoredAny`, which allocates nothing.
//!
//! The limits are far above what the gate writes (34 configurations; a paired run of 40
//! blocks holds about 4,000 samples in some 4 MB, nested 6 deep) and low enough that the
//! comment job's recomputation of the paired comparison, which walks every block count
//! for every configuration, stays short: about 10 s of CPU in the job's debug build for the
//! costliest file within them (100 configurations over 66 blocks whose verdicts never
//! settle early).

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::{Deserializer, IgnoredAny, SeqAccess, Visitor};

/// The largest results file accepted, in bytes.
pub const MAX_BYTES: u64 = 32 * 1024 * 1024;
/// The deepest nesting of arrays and objects accepted (a results file nests 6 deep).
pub const MAX_DEPTH: usize = 16;
/// The most configurations (and distinct configuration ids) accepted.
pub const MAX_CONFIGURATIONS: usize = 200;
/// The most samples accepted, over the configurations and the paired record together.
pub const MAX_SAMPLES: usize = 20_000;
/// The most failed runs accepted.
pub const MAX_FAILURES: usize = 1_000;
/// The most blocks of a paired run accepted (every sample's block lies below it).
pub const MAX_BLOCKS: u32 = 200;

/// A limit the file exceeds. Every message names the file and the limit.
#[derive(Debug, thiserror::Error)]
pub enum LimitError {
    #[error(
        "{path} nests arrays and objects deeper than the limit of {MAX_DEPTH} levels \
         (at line {line}, column {column}); a results file nests 6 deep"
    )]
    TooDeep {
        path: PathBuf,
        line: usize,
        column: usize,
    },
    #[error("{path} does not match the results schema: {source}")]
    Shape {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{path} has {found} configurations, more than the limit of {MAX_CONFIGURATIONS}")]
    Configurations { path: PathBuf, found: usize },
    #[error(
        "{path} has {found} samples (configurations and paired record), more than the limit \
         of {MAX_SAMPLES}"
    )]
    Samples { path: PathBuf, found: usize },
    #[error("{path} has {found} failed runs, more than the limit of {MAX_FAILURES}")]
    Failures { path: PathBuf, found: usize },
}

/// Checks the nesting depth, then the counts; see the module docs.
pub fn check(path: &Path, text: &str) -> Result<(), LimitError> {
    check_depth(path, text)?;
    let counts = count(path, text)?;
    let path = path.to_owned();
    if counts.configurations > MAX_CONFIGURATIONS {
        return Err(LimitError::Configurations {
            path,
            found: counts.configurations,
        });
    }
    if counts.samples > MAX_SAMPLES {
        return Err(LimitError::Samples {
            path,
            found: counts.samples,
        });
    }
    if counts.failures > MAX_FAILURES {
        return Err(LimitError::Failures {
            path,
            found: counts.failures,
        });
    }
    Ok(())
}

/// Fails when arrays and objects nest deeper than [`MAX_DEPTH`] anywhere in `text`.
pub fn check_depth(path: &Path, text: &str) -> Result<(), LimitError> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut line = 1;
    let mut line_start = 0;
    // Bytes, not chars: every structural character is ASCII, and no byte of a multi-byte
    // UTF-8 sequence is.
    for (i, b) in text.bytes().enumerate() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            // A raw line break inside a string is invalid JSON; serde reports it later.
        } else {
            match b {
                b'"' => in_string = true,
                b'[' | b'{' => {
                    depth += 1;
                    if depth > MAX_DEPTH {
                        return Err(LimitError::TooDeep {
                            path: path.to_owned(),
                            line,
                            column: text[line_start..i].chars().count() + 1,
                        });
                    }
                }
                b']' | b'}' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        if b == b'\n' {
            line += 1;
            line_start = i + 1;
        }
    }
    Ok(())
}

/// What [`count`] found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub configurations: usize,
    /// Samples of every configuration plus those of the paired record.
    pub samples: usize,
    pub failures: usize,
}

/// Counts configurations, samples and failures without building the file's tree. Call
/// [`check_depth`] first: this pass recurses as deep as the file nests.
pub fn count(path: &Path, text: &str) -> Result<Counts, LimitError> {
    let shape: Shape = serde_json::from_str(text).map_err(|source| LimitError::Shape {
        path: path.to_owned(),
        source,
    })?;
    Ok(Counts {
        configurations: shape.configurations.count,
        samples: shape.configurations.samples + shape.paired.map_or(0, |p| p.samples.0),
        failures: shape.failures.0,
    })
}

/// The parts of a results file that are counted; every other field is skipped.
#[derive(Deserialize)]
struct Shape {
    #[serde(default)]
    configurations: Configurations,
    #[serde(default)]
    failures: Count,
    #[serde(default)]
    paired: Option<PairedShape>,
}

#[derive(Deserialize)]
struct PairedShape {
    #[serde(default)]
    samples: Count,
}

#[derive(Deserialize)]
struct ConfigurationShape {
    #[serde(default)]
    samples: Count,
}

/// The length of a JSON array whose elements are skipped.
#[derive(Default)]
struct Count(usize);

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CountVisitor;
        impl<'de> Visitor<'de> for CountVisitor {
            type Value = Count;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Count, A::Error> {
                let mut n = 0;
                while seq.next_element::<IgnoredAny>()?.is_some() {
                    n += 1;
                }
                Ok(Count(n))
            }
        }
        deserializer.deserialize_seq(CountVisitor)
    }
}

/// The configurations array: how many, and their samples together.
#[derive(Default)]
struct Configurations {
    count: usize,
    samples: usize,
}

impl<'de> Deserialize<'de> for Configurations {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ConfigurationsVisitor;
        impl<'de> Visitor<'de> for ConfigurationsVisitor {
            type Value = Configurations;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array of configurations")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Configurations, A::Error> {
                let mut out = Configurations::default();
                while let Some(config) = seq.next_element::<ConfigurationShape>()? {
                    out.count += 1;
                    out.samples += config.samples.0;
                }
                Ok(out)
            }
        }
        deserializer.deserialize_seq(ConfigurationsVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path() -> &'static Path {
        Path::new("bench.json")
    }

    fn nested(depth: usize) -> String {
        format!("{}{}", "[".repeat(depth), "]".repeat(depth))
    }

    #[test]
    fn depth_is_counted_outside_strings_only() {
        check_depth(path(), &nested(MAX_DEPTH)).unwrap();
        let err = check_depth(path(), &nested(MAX_DEPTH + 1)).unwrap_err();
        assert!(
            matches!(
                err,
                LimitError::TooDeep {
                    line: 1,
                    column: 17,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("limit of 16 levels"), "{err}");
        // Brackets inside strings, also after escaped quotes, do not count.
        let text = format!(
            r#"{{"a": "{}\"{}", "b": [[1]]}}"#,
            "[".repeat(50),
            "{".repeat(50)
        );
        check_depth(path(), &text).unwrap();
        // Lines and columns point at the bracket that went too deep.
        let text = format!("{{\n  \"é\": {}", nested(MAX_DEPTH));
        let err = check_depth(path(), &text).unwrap_err();
        assert!(
            matches!(
                err,
                LimitError::TooDeep {
                    line: 2,
                    column: 23,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn far_deeper_than_serde_json_allows_is_refused_by_us_first() {
        let text = nested(100_000);
        let err = check(path(), &text).unwrap_err();
        assert!(matches!(err, LimitError::TooDeep { .. }), "{err}");
    }

    #[test]
    fn counts_configurations_samples_and_failures() {
        let text = r#"{"kind": "x", "configurations": [
            {"id": "a/b", "samples": [{}, {}, {"nested": [[1]]}], "summary": {}},
            {"id": "c/d", "samples": [{}]}],
            "failures": [{}, {}],
            "paired": {"samples": [1, 2, 3, 4, 5], "blocks": 2}}"#;
        assert_eq!(
            count(path(), text).unwrap(),
            Counts {
                configurations: 2,
                samples: 9,
                failures: 2
            }
        );
        assert_eq!(count(path(), "{}").unwrap(), Counts::default());
    }

    #[test]
    fn each_count_has_its_limit() {
        let configs = format!(
            r#"{{"configurations": [{}{{}}]}}"#,
            "{},".repeat(MAX_CONFIGURATIONS)
        );
        let err = check(path(), &configs).unwrap_err();
        assert!(
            matches!(err, LimitError::Configurations { found: 201, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("limit of 200"), "{err}");

        let samples = format!(
            r#"{{"paired": {{"samples": [{}0]}}}}"#,
            "0,".repeat(MAX_SAMPLES)
        );
        let err = check(path(), &samples).unwrap_err();
        assert!(
            matches!(err, LimitError::Samples { found: 20_001, .. }),
            "{err}"
        );

        let failures = format!(r#"{{"failures": [{}0]}}"#, "0,".repeat(MAX_FAILURES));
        let err = check(path(), &failures).unwrap_err();
        assert!(
            matches!(err, LimitError::Failures { found: 1_001, .. }),
            "{err}"
        );
    }

    #[test]
    fn a_wrong_shape_is_refused_with_its_position() {
        let err = check(path(), "{\n\"configurations\": 3}").unwrap_err();
        assert!(matches!(err, LimitError::Shape { .. }), "{err}");
        assert!(err.to_string().contains("line 2"), "{err}");
        let dup = r#"{"configurations": [], "configurations": []}"#;
        assert!(matches!(check(path(), dup), Err(LimitError::Shape { .. })));
    }
}

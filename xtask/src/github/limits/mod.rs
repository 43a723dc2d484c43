//! Limits on a results file from an artifact, checked before it is parsed into a tree.
//!
//! The comment job reads a file that a pull request's code wrote. Its size is capped while
//! it is read ([`super::artifact::read_capped`]); this module then checks, in two passes that
//! build nothing but counters, what the size alone does not bound:
//!
//! 1. **Nesting and values**: a byte scan counts `[`/`{` outside strings ([`scan`]), so no
//!    parser recursion is ever deeper than [`MAX_DEPTH`] (serde_json's own limit, 128, would
//!    be reached first otherwise), and bounds the number of values the file holds
//!    ([`MAX_VALUES`]), which bounds the tree every later pass builds, whatever field the
//!    values are in. The scan does not validate JSON; serde_json does that afterwards.
//! 2. **Counts**: serde_json's streaming deserialiser walks the text into a shape of
//!    counters ([`count`]): every array whose length sets the gate's work, one [`Part`]
//!    each, with its own limit. Everything else is skipped with `IgnoredAny`, which
//!    allocates nothing.
//!
//! The limits are far above what the gate writes (34 configurations; a paired run of 30
//! lock-step blocks holds about 12,000 samples in some 6 MB, nested 6 deep) and low enough
//! that the comment job's recomputation of the paired comparison, which walks every block
//! count for every configuration, stays short (`docs/book/src/github/trust.md` quotes its
//! time on the costliest file within them). The merge of a sharded run's files checks the
//! same limits on their sum ([`Counts::plus`]), so a merged section costs no more than one
//! file.
//!
//! # Adding a field the gate reads
//!
//! A new array in the result file whose length costs the comment job work (as the
//! profiles' functions and stacks and the dependency diff did) gets, in this module only:
//!
//! 1. a variant of [`Part`], with its limit, its name and the places it is counted;
//! 2. a `Count` field in the text pass's shapes (`shape`: `ConfigurationShape`,
//!    `PairedShape` or `Shape`), see `count`;
//! 3. its lengths in [`Counts::of`], the same count from the parsed file.
//!
//! `every_part_is_counted_in_the_text_and_in_the_parsed_file` then checks both passes agree.
//! Until then such an array is bounded only by [`MAX_VALUES`].

use std::path::{Path, PathBuf};

use strum::{EnumCount, IntoEnumIterator};

use crate::model::profile::RoleProfiles;
use crate::model::results::ResultFile;

mod shape;
pub use self::shape::count;
use crate::model::shown::JsonError;

/// The largest results file accepted, in bytes.
pub const MAX_BYTES: u64 = 32 * 1024 * 1024;
/// The deepest nesting of arrays and objects accepted (a results file nests 6 deep).
pub const MAX_DEPTH: usize = 16;
/// The most values (numbers, strings, booleans, nulls, arrays and objects) accepted in one
/// file: about three times a gate run's 12,000 samples of some 30 values each, and a bound
/// of about 100 MB on the parsed tree.
pub const MAX_VALUES: usize = 2_000_000;
/// The most blocks of a paired run accepted (every sample's block lies below it): the
/// comparison is recomputed at every block count, each time over every block so far, so its
/// cost grows faster than the blocks. `bench.yml` runs 30, a local run 60 by default; at
/// 200 the costliest file within the other limits held the comment job's debug build for
/// minutes (`docs/book/src/notes/2026-12-04-sharded-check.md`).
pub const MAX_BLOCKS: u32 = 100;

/// Every counted array of a results file: its limit, its name in messages, and where its
/// elements are counted. See the module docs for adding one.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, strum::EnumIter, strum::EnumCount,
)]
pub enum Part {
    /// `configurations` (and, after parsing, distinct configuration ids).
    Configurations,
    /// The timing runs: `configurations[].samples` and `paired.samples`.
    Samples,
    /// The counting runs under callgrind: `configurations[].counter_samples` and
    /// `paired.counter_samples`.
    CounterSamples,
    /// `failures`.
    Failures,
    /// One role's profile: `configurations[].profile.roles` and
    /// `paired.base_profiles.*.roles`, every entry.
    RoleProfiles,
    /// Function names of the profiles: every role profile's `functions` and
    /// `stacks.names`.
    Functions,
    /// Call stacks of the profiles: every role profile's `stacks.stacks`.
    Stacks,
    /// `paired.dependencies.changes`.
    DependencyChanges,
}

impl Part {
    /// The most elements accepted, over all the part's places together.
    pub const fn limit(self) -> usize {
        match self {
            Part::Configurations => 200,
            Part::Samples => 20_000,
            // 200 configurations x 10 counting runs x 2 sides; a gate run has 34 x 2 x 2.
            Part::CounterSamples => 4_000,
            Part::Failures => 1_000,
            // 200 configurations x 2 sides x 3 roles (loop, worker, other).
            Part::RoleProfiles => 1_200,
            // A gate run of 34 configurations keeps at most 60 functions and about 80 stack
            // names per role: 34 x 2 x 3 x 140, about 29,000.
            Part::Functions => 60_000,
            // At most 120 stacks per role (`model::profile::Caps`): 34 x 2 x 3 x 120.
            Part::Stacks => 60_000,
            // A whole lock file's worth: this workspace locks about 300 crates.
            Part::DependencyChanges => 2_000,
        }
    }

    /// How messages name the elements (plural).
    pub const fn name(self) -> &'static str {
        match self {
            Part::Configurations => "configurations",
            Part::Samples => "samples",
            Part::CounterSamples => "counter samples",
            Part::Failures => "failed runs",
            Part::RoleProfiles => "role profiles",
            Part::Functions => "profiled function names",
            Part::Stacks => "profiled call stacks",
            Part::DependencyChanges => "dependency changes",
        }
    }

    /// Where they are counted.
    pub const fn places(self) -> &'static str {
        match self {
            Part::Configurations => "configurations",
            Part::Samples => "configurations[].samples and paired.samples together",
            Part::CounterSamples => {
                "configurations[].counter_samples and paired.counter_samples together"
            }
            Part::Failures => "failures",
            Part::RoleProfiles => {
                "configurations[].profile.roles and paired.base_profiles.*.roles together"
            }
            Part::Functions => "every role profile's functions and stacks.names together",
            Part::Stacks => "every role profile's stacks.stacks together",
            Part::DependencyChanges => "paired.dependencies.changes",
        }
    }
}

/// The most configurations (and distinct configuration ids) accepted.
pub const MAX_CONFIGURATIONS: usize = Part::Configurations.limit();
/// The most samples accepted, over the configurations and the paired record together.
pub const MAX_SAMPLES: usize = Part::Samples.limit();
/// The most failed runs accepted.
pub const MAX_FAILURES: usize = Part::Failures.limit();

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
    #[error("{path} holds {found} or more JSON values, more than the limit of {MAX_VALUES}")]
    TooManyValues { path: PathBuf, found: usize },
    #[error("{path} does not match the results schema: {source}")]
    Shape { path: PathBuf, source: JsonError },
    #[error(
        "{path} has {found} {}, more than the limit of {} ({})",
        part.name(),
        part.limit(),
        part.places()
    )]
    Over {
        path: PathBuf,
        part: Part,
        found: usize,
    },
}

/// Checks the nesting depth and the number of values, then the counts; see the module docs.
pub fn check(path: &Path, text: &str) -> Result<Counts, LimitError> {
    scan(path, text)?;
    let counts = count(path, text)?;
    counts.within(path)?;
    Ok(counts)
}

/// What [`scan`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scanned {
    /// An upper bound of the values in the text: one, plus one per `,` and per `[` or `{`
    /// outside strings.
    pub values: usize,
}

/// Fails when arrays and objects nest deeper than [`MAX_DEPTH`] anywhere in `text`, or when
/// it holds more than [`MAX_VALUES`] values.
pub fn scan(path: &Path, text: &str) -> Result<Scanned, LimitError> {
    let mut depth = 0usize;
    let mut values = 1usize;
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
                    values += 1;
                    if depth > MAX_DEPTH {
                        return Err(LimitError::TooDeep {
                            path: path.to_owned(),
                            line,
                            column: text[line_start..i].chars().count() + 1,
                        });
                    }
                }
                b']' | b'}' => depth = depth.saturating_sub(1),
                b',' => values += 1,
                _ => {}
            }
            if values > MAX_VALUES {
                return Err(LimitError::TooManyValues {
                    path: path.to_owned(),
                    found: values,
                });
            }
        }
        if b == b'\n' {
            line += 1;
            line_start = i + 1;
        }
    }
    Ok(Scanned { values })
}

/// The length of every counted array, by [`Part`], summed over its places.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts([usize; Part::COUNT]);

impl Counts {
    /// The count of `part`.
    pub fn get(&self, part: Part) -> usize {
        self.0[part as usize]
    }

    /// Adds `n` elements of `part`.
    pub fn add(&mut self, part: Part, n: usize) {
        self.0[part as usize] = self.0[part as usize].saturating_add(n);
    }

    /// Both counts together (the files of a sharded run, merged).
    pub fn plus(mut self, other: Counts) -> Counts {
        for part in Part::iter() {
            self.add(part, other.get(part));
        }
        self
    }

    /// The first part over its limit, with its count.
    pub fn first_over(&self) -> Option<(Part, usize)> {
        Part::iter()
            .map(|part| (part, self.get(part)))
            .find(|(part, n)| *n > part.limit())
    }

    /// `Ok` when every part is within its limit; the first one over names `path`.
    pub fn within(&self, path: &Path) -> Result<(), LimitError> {
        match self.first_over() {
            None => Ok(()),
            Some((part, found)) => Err(LimitError::Over {
                path: path.to_owned(),
                part,
                found,
            }),
        }
    }

    /// The role profiles, functions and stacks of one configuration's profiles.
    fn add_profiles(&mut self, profiles: &RoleProfiles) {
        for profile in profiles.roles.values() {
            self.add(Part::RoleProfiles, 1);
            self.add(Part::Functions, profile.functions.len());
            if let Some(stacks) = &profile.stacks {
                self.add(Part::Functions, stacks.names.len());
                self.add(Part::Stacks, stacks.stacks.len());
            }
        }
    }

    /// The same counts, of a parsed file.
    pub fn of(results: &ResultFile) -> Counts {
        let mut counts = Counts::default();
        counts.add(Part::Configurations, results.configurations.len());
        for config in &results.configurations {
            counts.add(Part::Samples, config.samples.len());
            counts.add(Part::CounterSamples, config.counter_samples.len());
            if let Some(profiles) = &config.profile {
                counts.add_profiles(profiles);
            }
        }
        if let Some(paired) = &results.paired {
            counts.add(Part::Samples, paired.samples.len());
            counts.add(Part::CounterSamples, paired.counter_samples.len());
            for profiles in paired.base_profiles.values() {
                counts.add_profiles(profiles);
            }
            if let Some(dependencies) = &paired.dependencies {
                counts.add(Part::DependencyChanges, dependencies.changes.len());
            }
        }
        counts.add(Part::Failures, results.failures.len());
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::results::tests::result_file;

    fn path() -> &'static Path {
        Path::new("bench.json")
    }

    fn nested(depth: usize) -> String {
        format!("{}{}", "[".repeat(depth), "]".repeat(depth))
    }

    fn counts(pairs: &[(Part, usize)]) -> Counts {
        let mut counts = Counts::default();
        for (part, n) in pairs {
            counts.add(*part, *n);
        }
        counts
    }

    #[test]
    fn depth_is_counted_outside_strings_only() {
        scan(path(), &nested(MAX_DEPTH)).unwrap();
        let err = scan(path(), &nested(MAX_DEPTH + 1)).unwrap_err();
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
        scan(path(), &text).unwrap();
        // Lines and columns point at the bracket that went too deep.
        let text = format!("{{\n  \"é\": {}", nested(MAX_DEPTH));
        let err = scan(path(), &text).unwrap_err();
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
    fn values_are_bounded_in_any_field_and_commas_in_strings_do_not_count() {
        assert_eq!(scan(path(), "1").unwrap().values, 1);
        // An upper bound: one, plus the object and the array, plus two commas (four values).
        assert_eq!(scan(path(), r#"{"a": [1, 2, 3]}"#).unwrap().values, 5);
        assert_eq!(scan(path(), r#"["a,b,c", "{["]"#).unwrap().values, 3);
        // A field no limit knows (a later version's, or a stranger's) is bounded too.
        let many = format!(r#"{{"profile": [{}0]}}"#, "0,".repeat(MAX_VALUES));
        let err = check(path(), &many).unwrap_err();
        assert!(matches!(err, LimitError::TooManyValues { .. }), "{err}");
        assert!(
            err.to_string().contains("more than the limit of 2000000"),
            "{err}"
        );
    }

    #[test]
    fn counts_every_part_wherever_it_sits() {
        let text = r#"{"kind": "x", "configurations": [
            {"id": "a/b", "samples": [{}, {}, {"nested": [[1]]}], "summary": {},
             "counter_samples": [{}, {}]},
            {"id": "c/d", "samples": [{}]}],
            "failures": [{}, {}],
            "paired": {"samples": [1, 2, 3, 4, 5], "counter_samples": [1, 2, 3], "blocks": 2}}"#;
        assert_eq!(
            count(path(), text).unwrap(),
            counts(&[
                (Part::Configurations, 2),
                (Part::Samples, 9),
                (Part::CounterSamples, 5),
                (Part::Failures, 2),
            ])
        );
        assert_eq!(count(path(), "{}").unwrap(), Counts::default());
    }

    #[test]
    fn each_part_has_its_limit_and_its_message() {
        let configs = format!(
            r#"{{"configurations": [{}{{}}]}}"#,
            "{},".repeat(MAX_CONFIGURATIONS)
        );
        let err = check(path(), &configs).unwrap_err();
        assert!(
            matches!(
                err,
                LimitError::Over {
                    part: Part::Configurations,
                    found: 201,
                    ..
                }
            ),
            "{err}"
        );
        assert!(
            err.to_string()
                .starts_with("bench.json has 201 configurations, more than the limit of 200"),
            "{err}"
        );
        let array = |n: usize| format!("[{}0]", "0,".repeat(n - 1));
        for (part, text) in [
            (
                Part::Samples,
                format!(r#"{{"paired": {{"samples": {}}}}}"#, array(MAX_SAMPLES + 1)),
            ),
            (
                Part::CounterSamples,
                format!(
                    r#"{{"paired": {{"counter_samples": {}}}}}"#,
                    array(Part::CounterSamples.limit() + 1)
                ),
            ),
            (
                Part::CounterSamples,
                format!(
                    r#"{{"configurations": [{{"counter_samples": {}}}]}}"#,
                    array(Part::CounterSamples.limit() + 1)
                ),
            ),
            (
                Part::Failures,
                format!(r#"{{"failures": {}}}"#, array(MAX_FAILURES + 1)),
            ),
        ] {
            let err = check(path(), &text).unwrap_err();
            let found = part.limit() + 1;
            assert!(
                matches!(err, LimitError::Over { part: p, found: f, .. } if p == part && f == found),
                "{part:?}: {err}"
            );
            let message = err.to_string();
            assert!(message.contains(part.name()), "{message}");
            assert!(message.contains(part.places()), "{message}");
        }
    }

    /// A worker role with two functions and one stack of both, a loop role with one
    /// function and no stacks.
    fn profiles() -> RoleProfiles {
        let function = |name: &str, own: u64, all: u64| {
            serde_json::json!({"name": name, "self_instructions": own,
                               "inclusive_instructions": all})
        };
        serde_json::from_value(serde_json::json!({
            "window": 1,
            "roles": {
                "worker": {
                    "count": 10, "threads": 1, "instructions": 100, "inclusive": "stacks",
                    "cut_instructions": 0,
                    "functions": [function("run", 40, 100), function("work", 60, 60)],
                    "stacks": {"names": ["run", "work"],
                               "stacks": [{"frames": [0, 1], "instructions": 60}]}
                },
                "loop": {
                    "count": 10, "threads": 1, "instructions": 5, "inclusive": "calls",
                    "cut_instructions": 0, "functions": [function("poll", 5, 5)]
                }
            }
        }))
        .unwrap()
    }

    #[test]
    fn every_part_is_counted_in_the_text_and_in_the_parsed_file() {
        // Every part present at least once in each of its places, so that a part counted
        // in one pass only shows here.
        let mut file = result_file(&[("floor/park", &[1.0, 2.0]), ("floor/spin", &[3.0])]);
        let with_counts = |mut m: crate::model::measurement::Measurement| {
            m.instructions_loop = Some(1);
            m.instructions_worker = Some(2);
            m.instructions_other = Some(3);
            m
        };
        file.configurations[0].counter_samples =
            vec![with_counts(file.configurations[0].samples[0].clone())];
        file.failures = vec![crate::model::results::RunFailure {
            id: "floor/park".to_owned(),
            run: 0,
            side: None,
            reason: "r".to_owned(),
            stderr_tail: String::new(),
        }];
        let sample = |block, measurement| crate::model::paired_record::PairedSample {
            block,
            side: crate::model::paired_record::Side::Base,
            position: 0,
            slice: None,
            measurement,
        };
        let m = file.configurations[0].samples[0].clone();
        file.paired = Some(crate::model::paired_record::PairedRecord {
            base: crate::model::paired_record::BaseRevision {
                requested: "main".to_owned(),
                commit: "0".repeat(40),
                merge_base: true,
            },
            min_blocks: 2,
            max_time_s: None,
            blocks: 1,
            stop_reason: crate::model::paired_record::StopReason::FixedBlocks,
            added: vec![],
            removed: vec![],
            samples: vec![sample(0, m.clone()), sample(0, m.clone())],
            counter_samples: vec![sample(0, with_counts(m.clone())); 3],
            sampling: None,
            estimator: Default::default(),
            base_profiles: [("floor/park".to_owned(), profiles())].into(),
            dependencies: Some(crate::model::lockfile::LockDiff {
                changes: vec![crate::model::lockfile::CrateChange {
                    name: "flume".to_owned(),
                    base: Some("0.11.0".to_owned()),
                    head: Some("0.11.1".to_owned()),
                    direct: true,
                }],
            }),
        });
        file.configurations[1].profile = Some(profiles());
        let parsed = Counts::of(&file);
        for part in Part::iter() {
            assert!(parsed.get(part) > 0, "{part:?} is not in the fixture");
        }
        assert_eq!(count(path(), &file.to_json()).unwrap(), parsed);
        assert_eq!(parsed.get(Part::Samples), 5);
        assert_eq!(parsed.get(Part::CounterSamples), 4);
        // Two roles on each side: the worker's 2 functions and 2 stack names, the loop's 1.
        assert_eq!(parsed.get(Part::RoleProfiles), 4);
        assert_eq!(parsed.get(Part::Functions), 10);
        assert_eq!(parsed.get(Part::Stacks), 2);
        assert_eq!(parsed.get(Part::DependencyChanges), 1);
    }

    #[test]
    fn sums_of_counts_meet_the_same_limits() {
        let half = counts(&[(Part::Samples, MAX_SAMPLES / 2 + 1)]);
        assert_eq!(half.within(path()).ok(), Some(()));
        let both = half.plus(half);
        assert_eq!(both.first_over(), Some((Part::Samples, MAX_SAMPLES + 2)));
        let err = both.within(Path::new("shards")).unwrap_err();
        assert!(
            err.to_string().starts_with("shards has 20002 samples"),
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

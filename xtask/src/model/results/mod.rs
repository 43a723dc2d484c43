//! The result file (`docs/book/src/formats/result-file.md`): one schema for `--json` output
//! and every file in `baselines/`.
//!
//! Raw samples (the binary's JSON lines) are the source of truth: summaries are written for
//! readers, but recomputed from the samples on every load, so a later version of the
//! statistics never trusts an older one's numbers.

use std::collections::BTreeMap;
use std::path::PathBuf;

use handoff_protocol::id::IdError;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::model::git::GitRevision;
use crate::model::host::HostFingerprint;
use crate::model::measurement::Measurement;
use crate::model::metric::Metric;
use crate::model::profile::{Caps, RoleProfiles};
use crate::model::shown::JsonError;
use crate::stats::{Samples, SamplesError, Summary};

mod read;

pub const RESULTS_SCHEMA: u64 = 1;
pub const RESULTS_KIND: &str = "handoff-bench-results";

/// How the samples were taken (the flags of `cargo xtask bench`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// Fresh processes per configuration.
    pub runs: u32,
    /// Calls per process (`--count` of the binary).
    pub count: u64,
    pub work: String,
    pub in_flight: u64,
    /// `--only` globs; empty means every configuration.
    #[serde(default)]
    pub only: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gap_us: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inject_ns: Option<u64>,
    /// Paired runs: `GLOB=NS` busy work injected into the head's runs only
    /// (`bench --inject-head`), so a report can say the regression was made on purpose.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inject_head: Vec<HeadInjection>,
    /// Threads pinned by role (the binary's `--pin`); absent in files from before it.
    #[serde(default)]
    pub pin: bool,
    /// How instructions were counted, when they were (`bench --counters`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counters: Option<CountingSettings>,
}

/// `--inject-head GLOB=NS`: busy work injected into the head's runs of the configurations
/// matching `GLOB`; stored as its `GLOB=NS` text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct HeadInjection {
    pub glob: String,
    pub inject_ns: u64,
}

impl std::str::FromStr for HeadInjection {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        // Messages show at most 80 characters of what may be a hostile file's text.
        let shown: String = text.chars().take(80).collect();
        let (glob, ns) = text.split_once('=').ok_or_else(|| {
            format!("`{shown}`: expected GLOB=NS, e.g. 'tokio-current/dedicated=500'")
        })?;
        let inject_ns = ns.parse::<u64>().map_err(|_| {
            let ns: String = ns.chars().take(20).collect();
            format!("`{shown}`: `{ns}` is not a whole number of nanoseconds")
        })?;
        if glob.is_empty() {
            return Err(format!("`{shown}`: the configuration glob is empty"));
        }
        Ok(HeadInjection {
            glob: glob.to_owned(),
            inject_ns,
        })
    }
}

impl std::fmt::Display for HeadInjection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}={}", self.glob, self.inject_ns)
    }
}

impl TryFrom<String> for HeadInjection {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        text.parse()
    }
}

impl From<HeadInjection> for String {
    fn from(injection: HeadInjection) -> String {
        injection.to_string()
    }
}

/// The counting runs under callgrind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountingSettings {
    /// Runs per configuration (per side, when paired).
    pub runs: u32,
    /// Calls per run.
    pub count: u64,
    /// `valgrind --version`.
    pub valgrind: String,
    /// Whether the runs had FIFO priority on one CPU (`chrt -f 1`): counts reproduce to
    /// 0.001% with it, to a few percent without.
    pub realtime: bool,
}

/// One configuration: its raw samples in run order and their summary per metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigurationResult {
    pub id: String,
    pub samples: Vec<Measurement>,
    /// The runs under callgrind (`bench --counters`), in run order: the source of the
    /// instruction metrics. Absent from files without counters.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub counter_samples: Vec<Measurement>,
    pub summary: BTreeMap<Metric, Summary>,
    /// Where one counting run's instructions went, per role and function, bounded
    /// (`model::profile::Caps`); absent without counters, or from a binary that does not tag
    /// its dumps with thread roles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<RoleProfiles>,
}

/// A configuration run that produced no sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunFailure {
    pub id: String,
    /// 0-based run index (the block, in a paired run).
    pub run: u32,
    /// In a paired run: which build failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub side: Option<crate::model::paired_record::Side>,
    pub reason: String,
    /// Last lines of the child's stderr.
    pub stderr_tail: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultFile {
    pub schema: u64,
    pub kind: String,
    /// RFC 3339, UTC.
    pub created: String,
    pub host: HostFingerprint,
    pub git: GitRevision,
    pub settings: Settings,
    pub configurations: Vec<ConfigurationResult>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<RunFailure>,
    /// A paired run (`bench --against`): both sides' raw samples by block; `configurations`
    /// then holds the head's samples, so the file also serves as a baseline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paired: Option<crate::model::paired_record::PairedRecord>,
}

/// Why a result file cannot be used. Every case names the file; text quoted from it is cut
/// short (`model::shown`), since the file may come from a stranger.
#[derive(Debug, Error)]
pub enum ResultsError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not valid JSON: {source}", path.display())]
    Json { path: PathBuf, source: JsonError },
    #[error("{} is not a handoff-bench result file (expected \"kind\": \"{RESULTS_KIND}\")", path.display())]
    NotResults { path: PathBuf },
    #[error(
        "{} has result schema {found}, this xtask reads schema {RESULTS_SCHEMA} \
         (re-run the benchmark, or use the xtask version that wrote it)",
        path.display()
    )]
    UnsupportedSchema { path: PathBuf, found: String },
    #[error("{} does not match the result schema: {source}", path.display())]
    Shape { path: PathBuf, source: JsonError },
    #[error("{}: {source}", path.display())]
    BadId { path: PathBuf, source: IdError },
    #[error("{}: configuration {id}: {problem}", path.display())]
    Invalid {
        path: PathBuf,
        id: String,
        problem: String,
    },
}

/// Whether a run asked to pin (`requested`) really was: every sample reports its threads
/// pinned. Prints a warning when it asked and some run was not (a machine with one CPU).
pub fn confirm_pinned<'a>(
    requested: bool,
    samples: impl IntoIterator<Item = &'a Measurement>,
) -> bool {
    if !requested {
        return false;
    }
    let (mut total, mut unpinned) = (0usize, 0usize);
    for sample in samples {
        total += 1;
        if !sample.pinned() {
            unpinned += 1;
        }
    }
    if unpinned > 0 {
        eprintln!(
            "warning: {unpinned} of {total} runs report their threads not pinned \
             (fewer than two CPUs, or the binary predates --pin); the result is marked unpinned"
        );
    }
    unpinned == 0
}

/// The warning for comparing runs of different pinning, if they differ.
pub fn pin_mismatch(baseline_label: &str, baseline_pin: bool, current_pin: bool) -> Option<String> {
    let pinned = |pin: bool| if pin { "pinned" } else { "unpinned" };
    (baseline_pin != current_pin).then(|| {
        format!(
            "WARNING: {baseline_label} ran {}, this run {}: wall times differ by thread \
             placement, not only by code; compare runs with the same setting (`--no-pin` or not).",
            pinned(baseline_pin),
            pinned(current_pin),
        )
    })
}

impl ConfigurationResult {
    /// Summarises the samples of one configuration (at least one sample).
    pub fn from_samples(id: String, samples: Vec<Measurement>) -> Result<Self, SamplesError> {
        Self::with_counters(id, samples, Vec::new())
    }

    /// [`Self::from_samples`] plus the runs under callgrind (may be empty).
    pub fn with_counters(
        id: String,
        samples: Vec<Measurement>,
        counter_samples: Vec<Measurement>,
    ) -> Result<Self, SamplesError> {
        let mut result = ConfigurationResult {
            id,
            samples,
            counter_samples,
            summary: BTreeMap::new(),
            profile: None,
        };
        result.recompute_summary()?;
        Ok(result)
    }

    /// This result with the (bounded) profile of one of its counting runs.
    pub fn with_profile(mut self, profile: Option<RoleProfiles>) -> Self {
        self.profile = profile.map(|p| p.bounded(&Caps::default()));
        self
    }

    /// The per-call values of one metric, in run order: instruction metrics from the runs
    /// under callgrind, the others from the timing runs.
    pub fn samples_of(&self, metric: Metric) -> Result<Samples, SamplesError> {
        let runs = if metric.is_counter() {
            &self.counter_samples
        } else {
            &self.samples
        };
        Samples::new(runs.iter().map(|m| metric.per_call(m)).collect())
    }

    /// Whether the configuration has instruction counts.
    pub fn has_counters(&self) -> bool {
        !self.counter_samples.is_empty()
    }

    fn recompute_summary(&mut self) -> Result<(), SamplesError> {
        let counters: &[Metric] = if self.has_counters() {
            &Metric::COUNTERS
        } else {
            &[]
        };
        self.summary = Metric::TIMING
            .iter()
            .chain(counters)
            .map(|&metric| Ok((metric, Summary::of(&self.samples_of(metric)?))))
            .collect::<Result<_, SamplesError>>()?;
        Ok(())
    }
}

impl ResultFile {
    pub fn find(&self, id: &str) -> Option<&ConfigurationResult> {
        self.configurations.iter().find(|c| c.id == id)
    }

    /// Serialises as pretty JSON with a trailing newline.
    pub fn to_json(&self) -> String {
        crate::model::files::pretty_json(self)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::Value;
    use std::path::Path;

    /// A measurement with the given per-call wall time (ns) and everything else derived.
    pub(crate) fn measurement(id: &str, wall_ns_per_call: f64) -> Measurement {
        let count = 10_000_u64;
        let wall = (wall_ns_per_call * count as f64) as u64;
        // Built, not parsed: the calibration tests name their configurations `a`, `b`, ...
        Measurement {
            schema: 1,
            id: id.to_owned(),
            runtime: id.split('/').next().unwrap().to_owned(),
            handoff: id.split('/').nth(1).unwrap_or("").to_owned(),
            count,
            in_flight: 1,
            work: "zero".to_owned(),
            gap_us: None,
            inject_ns: None,
            pinned: None,
            wall_ns: wall,
            cpu_total_ns: wall * 2,
            cpu_loop_ns: wall,
            cpu_worker_ns: wall - wall / 10,
            cpu_other_ns: wall / 10,
            cpu_process_ns: None,
            vcsw_loop: count,
            vcsw_worker: count,
            vcsw_other: None,
            ivcsw_loop: 3,
            ivcsw_worker: 4,
            ivcsw_other: None,
            threads: None,
            inject_loops: None,
            instructions_loop: None,
            instructions_worker: None,
            instructions_other: None,
            slice: None,
            unknown: Default::default(),
        }
    }

    pub(crate) fn result_file(configs: &[(&str, &[f64])]) -> ResultFile {
        ResultFile {
            schema: RESULTS_SCHEMA,
            kind: RESULTS_KIND.to_owned(),
            created: "2026-01-01T00:00:00Z".to_owned(),
            host: HostFingerprint {
                cpu_model: "Test CPU @ 2.0GHz".to_owned(),
                cores: 2,
                kernel: "6.1.0-test".to_owned(),
                rustc: "rustc 1.95.0 (59807616e 2026-04-14)".to_owned(),
                crates: [("tokio".to_owned(), "1.54.0".to_owned())].into(),
                ..HostFingerprint::default()
            },
            git: GitRevision {
                revision: Some("0123456789abcdef0123456789abcdef01234567".to_owned()),
                dirty: Some(false),
            },
            settings: Settings {
                runs: configs
                    .iter()
                    .map(|(_, w)| w.len() as u32)
                    .max()
                    .unwrap_or(0),
                count: 10_000,
                work: "zero".to_owned(),
                in_flight: 1,
                only: vec![],
                gap_us: None,
                inject_ns: None,
                inject_head: vec![],
                pin: true,
                counters: None,
            },
            configurations: configs
                .iter()
                .map(|(id, walls)| {
                    let samples = walls.iter().map(|w| measurement(id, *w)).collect();
                    ConfigurationResult::from_samples((*id).to_owned(), samples).unwrap()
                })
                .collect(),
            failures: vec![],
            paired: None,
        }
    }

    #[test]
    fn a_run_counts_as_pinned_only_when_asked_and_every_sample_says_so() {
        let with = |pinned: Option<bool>| {
            let mut m = measurement("floor/park", 1000.0);
            m.pinned = pinned;
            m
        };
        let all = [with(Some(true)), with(Some(true))];
        assert!(confirm_pinned(true, &all));
        assert!(!confirm_pinned(false, &all));
        assert!(!confirm_pinned(
            true,
            &[with(Some(true)), with(Some(false))]
        ));
        // A binary from before --pin reports nothing.
        assert!(!confirm_pinned(true, &[with(Some(true)), with(None)]));
    }

    #[test]
    fn only_runs_of_different_pinning_get_a_warning() {
        assert_eq!(pin_mismatch("baseline x", true, true), None);
        let warning = pin_mismatch("baseline x", false, true).unwrap();
        assert!(
            warning.starts_with("WARNING: baseline x ran unpinned, this run pinned"),
            "{warning}"
        );
    }

    #[test]
    fn an_injection_is_glob_equals_nanoseconds_and_errors_name_the_input() {
        let parse = |text: &str| text.parse::<HeadInjection>();
        assert_eq!(
            parse("tokio-current/dedicated*=500"),
            Ok(HeadInjection {
                glob: "tokio-current/dedicated*".to_owned(),
                inject_ns: 500,
            })
        );
        let error = parse("floor/park").unwrap_err();
        assert!(error.contains("`floor/park`: expected GLOB=NS"), "{error}");
        let error = parse("floor/park=fast").unwrap_err();
        assert!(error.contains("`fast` is not a whole number"), "{error}");
        assert!(parse("=5").unwrap_err().contains("glob is empty"));
        let stored = serde_json::to_value(parse("a/*=7").unwrap()).unwrap();
        assert_eq!(stored, "a/*=7");
        let hostile: Result<HeadInjection, _> = serde_json::from_value("x".repeat(10_000).into());
        assert!(hostile.unwrap_err().to_string().len() < 200);
    }

    #[test]
    fn round_trips_and_recomputes_summaries() {
        let file = result_file(&[("floor/park", &[14_000.0, 14_500.0, 13_900.0])]);
        let mut value: Value = serde_json::from_str(&file.to_json()).unwrap();
        // Tamper with a stored summary: loading must ignore it.
        value["configurations"][0]["summary"]["wall_ns_per_call"]["median"] = 1.0.into();
        let loaded = ResultFile::parse(&value.to_string(), Path::new("x.json")).unwrap();
        assert_eq!(loaded, file);
        assert_eq!(
            loaded.configurations[0].summary[&Metric::Wall].median,
            14_000.0
        );
    }

    #[test]
    fn errors_name_the_file_and_the_problem() {
        let p = Path::new("baselines/old.json");
        let err = ResultFile::parse("{\"schema\": 1,\n \"kind\": ", p).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("baselines/old.json") && msg.contains("line 2"),
            "{msg}"
        );

        let file = result_file(&[("floor/park", &[1.0])]);
        let v2 = file.to_json().replacen("\"schema\": 1", "\"schema\": 2", 1);
        let err = ResultFile::parse(&v2, p).unwrap_err();
        assert!(matches!(err, ResultsError::UnsupportedSchema { ref found, .. } if found == "2"));
        assert!(err.to_string().contains("schema 2"));

        let err = ResultFile::parse("[1, 2]", p).unwrap_err();
        assert!(matches!(err, ResultsError::NotResults { .. }));

        let mut value: Value = serde_json::from_str(&file.to_json()).unwrap();
        value["configurations"][0]["samples"] = Value::Array(vec![]);
        let err = ResultFile::parse(&value.to_string(), p).unwrap_err();
        assert!(err.to_string().contains("floor/park: no samples"), "{err}");
    }
}

//! What a results file from an artifact must satisfy beyond its schema before the comment
//! job renders it: configuration ids of the id grammar, paired blocks within bounds, and a
//! sane verdict policy.
//!
//! Ids are refused rather than escaped: they are the one kind of string the report shows in
//! every table row, and a well-formed file only ever holds ids of the `RUNTIME/HANDOFF`
//! grammar, so anything else is a broken or hostile file. Every other string
//! (host fields, refs, failure reasons, ...) is shown escaped (`report::untrusted`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::limits::{MAX_BLOCKS, MAX_CONFIGURATIONS};
use crate::comparison::VerdictPolicy;
use crate::model::host::FingerprintDiff;
use crate::model::results::ResultFile;
use crate::model::shown::JsonError;

/// The longest configuration id accepted, in bytes (the protocol's grammar).
pub const MAX_ID_LEN: usize = handoff_protocol::id::MAX_LEN;

/// The most host and toolchain differences accepted in the stored comparison.
pub const MAX_FINGERPRINT_DIFFERENCES: usize = 64;

/// Whether `id` is `RUNTIME/HANDOFF` (the protocol's id grammar).
pub fn is_configuration_id(id: &str) -> bool {
    handoff_protocol::id::is_valid(id)
}

/// A results file that passed every check, with what the comment takes from its stored
/// comparison (the numbers of which are never used: the comparison is recomputed).
#[derive(Debug, Clone)]
pub struct CheckedResults {
    pub results: ResultFile,
    /// The verdict policy the run used (`--gate`, `--threshold`, `--alpha`), when the file
    /// holds a comparison.
    pub policy: Option<VerdictPolicy>,
    /// How the base's machine and toolchain differed from the head's, as the run saw it.
    pub fingerprint: FingerprintDiff,
}

/// Why a parsed results file is refused. Every message names the file.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(
        "{path}: configuration id {id:?} ({place}) is not of the form RUNTIME/HANDOFF \
         (lower-case letters, digits and '-', one '/', at most {MAX_ID_LEN} bytes)"
    )]
    BadId {
        path: PathBuf,
        id: String,
        place: &'static str,
    },
    #[error(
        "{path} names {found} distinct configuration ids, more than the limit of \
         {MAX_CONFIGURATIONS}"
    )]
    TooManyIds { path: PathBuf, found: usize },
    #[error("{path} lists configuration {id} more than once")]
    DuplicateConfiguration { path: PathBuf, id: String },
    #[error("{path}: {what} is {found}, beyond the limit of {MAX_BLOCKS} blocks of a paired run")]
    Blocks {
        path: PathBuf,
        what: &'static str,
        found: u32,
    },
    #[error("{path}: the stored comparison's policy or fingerprint does not parse: {source}")]
    Comparison { path: PathBuf, source: JsonError },
    #[error("{path}: the stored verdict policy is unusable: {problem}")]
    Policy { path: PathBuf, problem: String },
    #[error(
        "{path}: the stored comparison lists {found} host and toolchain differences, more \
         than the limit of {MAX_FINGERPRINT_DIFFERENCES}"
    )]
    Fingerprint { path: PathBuf, found: usize },
    #[error(
        "{path} holds a paired run but no comparison with its verdict policy; it was not \
         written by `cargo xtask bench --against ... --json`"
    )]
    NoPolicy { path: PathBuf },
}

/// The part of the stored comparison the comment uses.
#[derive(Deserialize)]
struct Stored {
    #[serde(default)]
    comparison: Option<StoredComparison>,
}

#[derive(Deserialize)]
struct StoredComparison {
    policy: VerdictPolicy,
    #[serde(default)]
    fingerprint: FingerprintDiff,
}

impl CheckedResults {
    /// Checks `results`, parsed from `text` (read from `path`, which names it in errors).
    pub fn check(path: &Path, text: &str, results: ResultFile) -> Result<Self, CheckError> {
        check_ids(path, &results)?;
        check_blocks(path, &results)?;
        let stored: Stored =
            serde_json::from_str(text).map_err(|source| CheckError::Comparison {
                path: path.to_owned(),
                source: source.into(),
            })?;
        let (policy, fingerprint) = match stored.comparison {
            Some(c) => (Some(c.policy), c.fingerprint),
            None => (None, FingerprintDiff::default()),
        };
        if let Some(policy) = &policy {
            check_policy(policy).map_err(|problem| CheckError::Policy {
                path: path.to_owned(),
                problem,
            })?;
        }
        if results.paired.is_some() && policy.is_none() {
            return Err(CheckError::NoPolicy {
                path: path.to_owned(),
            });
        }
        let differences = fingerprint.host.len() + fingerprint.toolchain.len();
        if differences > MAX_FINGERPRINT_DIFFERENCES {
            return Err(CheckError::Fingerprint {
                path: path.to_owned(),
                found: differences,
            });
        }
        Ok(CheckedResults {
            results,
            policy,
            fingerprint,
        })
    }
}

/// Every id the file holds: configurations, their failures, both sides' paired samples and
/// counting runs, and the added and removed lists (the configurations' own samples and
/// counting runs are of their configuration's id, `ResultFile::parse` checks).
fn check_ids(path: &Path, results: &ResultFile) -> Result<(), CheckError> {
    let mut ids: Vec<(&str, &'static str)> = Vec::new();
    ids.extend(
        results
            .configurations
            .iter()
            .map(|c| (c.id.as_str(), "a configuration")),
    );
    ids.extend(
        results
            .failures
            .iter()
            .map(|f| (f.id.as_str(), "a failed run")),
    );
    if let Some(paired) = &results.paired {
        ids.extend(
            paired
                .samples
                .iter()
                .map(|s| (s.measurement.id.as_str(), "a paired sample")),
        );
        ids.extend(
            paired
                .counter_samples
                .iter()
                .map(|s| (s.measurement.id.as_str(), "a paired counter sample")),
        );
        ids.extend(
            paired
                .added
                .iter()
                .map(|id| (id.as_str(), "the added list")),
        );
        ids.extend(
            paired
                .removed
                .iter()
                .map(|id| (id.as_str(), "the removed list")),
        );
    }
    let mut distinct = BTreeSet::new();
    for (id, place) in ids {
        if !is_configuration_id(id) {
            return Err(CheckError::BadId {
                path: path.to_owned(),
                id: id.chars().take(80).collect(),
                place,
            });
        }
        distinct.insert(id);
    }
    let mut configurations = BTreeSet::new();
    if let Some(c) = results
        .configurations
        .iter()
        .find(|c| !configurations.insert(c.id.as_str()))
    {
        return Err(CheckError::DuplicateConfiguration {
            path: path.to_owned(),
            id: c.id.clone(),
        });
    }
    if distinct.len() > MAX_CONFIGURATIONS {
        return Err(CheckError::TooManyIds {
            path: path.to_owned(),
            found: distinct.len(),
        });
    }
    Ok(())
}

/// The paired comparison walks every block count up to the last block: bound it.
fn check_blocks(path: &Path, results: &ResultFile) -> Result<(), CheckError> {
    let Some(paired) = &results.paired else {
        return Ok(());
    };
    let beyond = |what: &'static str, found: u32| CheckError::Blocks {
        path: path.to_owned(),
        what,
        found,
    };
    if paired.blocks > MAX_BLOCKS {
        return Err(beyond("the number of blocks", paired.blocks));
    }
    if paired.min_blocks > MAX_BLOCKS {
        return Err(beyond("--min-blocks", paired.min_blocks));
    }
    if let Some(s) = paired.samples.iter().find(|s| s.block >= MAX_BLOCKS) {
        return Err(beyond("a paired sample's block index", s.block));
    }
    Ok(())
}

/// The same bounds as the command-line flags (`options::PolicyArgs`), as fractions.
fn check_policy(policy: &VerdictPolicy) -> Result<(), String> {
    let fraction = |v: f64| v.is_finite() && (0.0..1.0).contains(&v);
    if !(policy.alpha.is_finite() && policy.alpha > 0.0 && policy.alpha < 1.0) {
        return Err(format!(
            "alpha {} is not strictly between 0 and 1",
            policy.alpha
        ));
    }
    if !fraction(policy.threshold) {
        return Err(format!("threshold {} is not in [0, 1)", policy.threshold));
    }
    if let Some((metric, t)) = policy.gates.iter().find(|(_, t)| !fraction(**t)) {
        return Err(format!(
            "the {} gate's threshold {t} is not in [0, 1)",
            metric.label()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_grammar() {
        for good in [
            "floor/park",
            "tokio-current/dedicated-busypoll",
            "a/b",
            "x1/2-y",
        ] {
            assert!(is_configuration_id(good), "{good}");
        }
        for bad in [
            "",
            "floor",
            "floor/",
            "/park",
            "a/b/c",
            "Floor/park",
            "floor/park ",
            "floor/pa_rk",
            "@mallory/x",
            "a/b#1",
            "a/[x](http://e)",
            "a/<b>",
            "a/b\n",
            "a/é",
        ] {
            assert!(!is_configuration_id(bad), "{bad:?}");
        }
        let long = format!("a/{}", "b".repeat(MAX_ID_LEN - 2));
        assert!(is_configuration_id(&long));
        assert!(!is_configuration_id(&format!("{long}b")));
    }

    #[test]
    fn policies_outside_the_flag_bounds_are_refused() {
        let ok = VerdictPolicy::ungated(0.05, 0.05);
        assert_eq!(check_policy(&ok), Ok(()));
        for (alpha, threshold) in [(0.0, 0.05), (1.0, 0.05), (f64::NAN, 0.05), (0.05, 1.0)] {
            let p = VerdictPolicy::ungated(alpha, threshold);
            assert!(check_policy(&p).is_err(), "{p:?}");
        }
        let mut p = ok.clone();
        p.gates
            .insert(crate::model::metric::Metric::Wall, f64::INFINITY);
        let problem = check_policy(&p).unwrap_err();
        assert!(problem.contains("Wall gate"), "{problem}");
    }
}

//! A result file read: parsed, and checked before anything computes with it: ids that
//! parse, measurements that validate (`Measurement::validate`: a count above 0, sums that
//! fit), counting runs that hold counts, each sample of the configuration it is filed
//! under, and profiles a counting run could have written (`Profile::check`). Timing and
//! counting runs, head and base, configurations and the paired record alike: a file from
//! a pull request's run is untrusted, and the comment job's debug build panics on an
//! overflow.

use std::path::Path;

use handoff_protocol::id::ConfigId;
use serde_json::Value;

use super::{RESULTS_KIND, RESULTS_SCHEMA, ResultFile, ResultsError};
use crate::model::profile::RoleProfiles;
use crate::model::shown;
use crate::model::shown::cut;

impl ResultFile {
    /// Reads, checks and re-summarises a result file.
    pub fn load(path: &Path) -> Result<Self, ResultsError> {
        let text = std::fs::read_to_string(path).map_err(|source| ResultsError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Parses the text of a result file; `path` is only used in errors. Everything in it
    /// that later code computes with is validated first (see the module docs), so that nothing
    /// after this can overflow on it.
    pub fn parse(text: &str, path: &Path) -> Result<Self, ResultsError> {
        let value: Value = serde_json::from_str(text).map_err(|source| ResultsError::Json {
            path: path.to_owned(),
            source: source.into(),
        })?;
        if value.get("kind").and_then(Value::as_str) != Some(RESULTS_KIND) {
            return Err(ResultsError::NotResults {
                path: path.to_owned(),
            });
        }
        match value.get("schema") {
            Some(v) if v.as_u64() == Some(RESULTS_SCHEMA) => {}
            other => {
                return Err(ResultsError::UnsupportedSchema {
                    path: path.to_owned(),
                    found: other.map_or_else(|| "(missing)".to_owned(), |v| cut(&v.to_string())),
                });
            }
        }
        // Deserialise from the text (not the Value) so errors carry line and column.
        let mut file: ResultFile =
            serde_json::from_str(text).map_err(|source| ResultsError::Shape {
                path: path.to_owned(),
                source: source.into(),
            })?;
        validate(&mut file, path)?;
        Ok(file)
    }
}

/// Validates `file` (read from `path`, which names it in errors) and recomputes each
/// configuration's summary from its samples.
fn validate(file: &mut ResultFile, path: &Path) -> Result<(), ResultsError> {
    for config in &mut file.configurations {
        config
            .id
            .parse::<ConfigId>()
            .map_err(|source| ResultsError::BadId {
                path: path.to_owned(),
                source,
            })?;
        let id = config.id.clone();
        let invalid = |problem: String| ResultsError::Invalid {
            path: path.to_owned(),
            id: id.clone(),
            problem,
        };
        for (run, sample) in config.samples.iter().enumerate() {
            sample
                .validate()
                .map_err(|e| invalid(format!("sample {run}: {e}")))?;
            if sample.id != id {
                return Err(invalid(format!(
                    "sample {run} is of configuration {}",
                    sample.id
                )));
            }
        }
        for (run, sample) in config.counter_samples.iter().enumerate() {
            sample
                .validate()
                .map_err(|e| invalid(format!("counter sample {run}: {e}")))?;
            if sample.id != id || sample.instructions().is_none() {
                return Err(invalid(format!(
                    "counter sample {run} is not an instruction count of {id}"
                )));
            }
        }
        config
            .recompute_summary()
            .map_err(|e| invalid(e.to_string()))?;
        if let Some(profiles) = &config.profile {
            check_profiles(profiles).map_err(|e| invalid(format!("head profile: {e}")))?;
        }
    }
    if let Some(paired) = &file.paired {
        let invalid = |id: &str, problem: String| ResultsError::Invalid {
            path: path.to_owned(),
            id: shown::id(id),
            problem,
        };
        for (i, sample) in paired.samples.iter().enumerate() {
            let m = &sample.measurement;
            m.validate()
                .map_err(|e| invalid(&m.id, format!("paired sample {i}: {e}")))?;
        }
        for (i, sample) in paired.counter_samples.iter().enumerate() {
            let m = &sample.measurement;
            m.validate()
                .map_err(|e| invalid(&m.id, format!("paired counter sample {i}: {e}")))?;
            if m.instructions().is_none() {
                return Err(invalid(
                    &m.id,
                    format!("paired counter sample {i} is not an instruction count"),
                ));
            }
        }
        for (id, profiles) in &paired.base_profiles {
            check_profiles(profiles).map_err(|e| invalid(id, format!("base profile: {e}")))?;
        }
    }
    Ok(())
}

/// Every role's profile checked; the first problem named with its role.
fn check_profiles(profiles: &RoleProfiles) -> Result<(), String> {
    for (role, profile) in &profiles.roles {
        profile.check().map_err(|e| format!("role {role}: {e}"))?;
    }
    Ok(())
}

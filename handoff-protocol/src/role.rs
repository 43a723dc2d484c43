//! Thread roles: every per-thread figure (CPU time, context switches, instructions) is summed
//! by the role of its thread.

use serde::{Deserialize, Serialize};

/// What a thread does in a configuration.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    strum::Display,
    strum::EnumString,
    strum::EnumIter,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Role {
    /// Polls futures: runtime threads; for the floors, the calling thread.
    Loop,
    /// Executes the synchronous calls: the dedicated thread or blocking-pool threads.
    Worker,
    /// Every other thread of the process (reactor or timer helpers).
    Other,
}

#[cfg(test)]
mod tests {
    use strum::IntoEnumIterator as _;

    use super::*;

    #[test]
    fn names_round_trip_in_text_and_json() {
        let names: Vec<String> = Role::iter().map(|r| r.to_string()).collect();
        assert_eq!(names, ["loop", "worker", "other"]);
        for role in Role::iter() {
            assert_eq!(role.to_string().parse::<Role>(), Ok(role));
            let json = serde_json::to_string(&role).unwrap();
            assert_eq!(json, format!("\"{role}\""));
        }
    }
}

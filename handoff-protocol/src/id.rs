//! Configuration ids: `RUNTIME/HANDOFF`, two non-empty parts of lower-case ASCII letters,
//! digits and `-`, joined by one `/`, at most [`MAX_LEN`] bytes (`floor` is the runtime part
//! of the floors). The binary names its configurations this way; the gate refuses any other
//! id in a file it did not write itself.

use std::fmt;
use std::str::FromStr;

/// The longest configuration id accepted, in bytes (today's longest has 33).
pub const MAX_LEN: usize = 64;

/// A configuration id, checked against the grammar.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConfigId {
    text: String,
    slash: usize,
}

/// Why a text is not a configuration id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "configuration id {id:?} is not of the form RUNTIME/HANDOFF (lower-case letters, digits \
     and '-', one '/', at most {MAX_LEN} bytes)"
)]
pub struct IdError {
    /// The refused text, cut to 80 characters.
    pub id: String,
}

/// Whether `text` is one part of an id.
fn is_part(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Whether `text` follows the grammar (see the module docs).
pub fn is_valid(text: &str) -> bool {
    text.len() <= MAX_LEN
        && text
            .split_once('/')
            .is_some_and(|(runtime, handoff)| is_part(runtime) && is_part(handoff))
}

impl ConfigId {
    /// The id of `handoff` on `runtime`.
    pub fn new(runtime: &str, handoff: &str) -> Result<Self, IdError> {
        format!("{runtime}/{handoff}").parse()
    }

    /// The runtime part (`floor` for the floors).
    pub fn runtime(&self) -> &str {
        &self.text[..self.slash]
    }

    /// The handoff part.
    pub fn handoff(&self) -> &str {
        &self.text[self.slash + 1..]
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl FromStr for ConfigId {
    type Err = IdError;

    fn from_str(text: &str) -> Result<Self, IdError> {
        if !is_valid(text) {
            return Err(IdError {
                id: text.chars().take(80).collect(),
            });
        }
        let slash = text.find('/').unwrap_or_default();
        Ok(ConfigId {
            text: text.to_owned(),
            slash,
        })
    }
}

impl fmt::Display for ConfigId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grammar() {
        for good in [
            "floor/park",
            "tokio-current/dedicated-busypoll",
            "a/b",
            "x1/y-2",
        ] {
            let id: ConfigId = good.parse().unwrap();
            assert_eq!(id.to_string(), good);
        }
        let id = ConfigId::new("tokio-multi", "to-thread").unwrap();
        assert_eq!((id.runtime(), id.handoff()), ("tokio-multi", "to-thread"));
        let long = format!("a/{}", "b".repeat(MAX_LEN - 1));
        for bad in [
            "",
            "floor",
            "/park",
            "floor/",
            "a/b/c",
            "Tokio/x",
            "a b/c",
            "a/<b>",
            "a/`b`",
            "a/@b",
            long.as_str(),
        ] {
            let err = bad.parse::<ConfigId>().unwrap_err();
            assert!(err.to_string().contains("RUNTIME/HANDOFF"), "{bad}: {err}");
        }
        assert!(is_valid(&long[..MAX_LEN]));
    }
}

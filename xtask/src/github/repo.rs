//! `OWNER/NAME` and the pull request it names, validated once at the edge.

use std::fmt;
use std::str::FromStr;

/// A repository `OWNER/NAME` whose parts are safe to put in an API path unescaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoSlug {
    owner: String,
    name: String,
}

/// Why a `--repo` value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "--repo {0:?} is not of the form OWNER/NAME (letters, digits, '-' in OWNER; also '_' and '.' in NAME)"
)]
pub struct BadRepo(pub String);

impl FromStr for RepoSlug {
    type Err = BadRepo;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadRepo(s.to_owned());
        let (owner, name) = s.split_once('/').ok_or_else(bad)?;
        let owner_ok = !owner.is_empty()
            && owner.len() <= 39
            && owner
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-');
        let name_ok = !name.is_empty()
            && name.len() <= 100
            && name != "."
            && name != ".."
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if owner_ok && name_ok {
            Ok(Self {
                owner: owner.to_owned(),
                name: name.to_owned(),
            })
        } else {
            Err(bad())
        }
    }
}

impl fmt::Display for RepoSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

/// A pull request: repository and number (≥ 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequest {
    pub repo: RepoSlug,
    pub number: u64,
}

impl PullRequest {
    /// `/repos/{o}/{r}/issues/{n}/comments?per_page=100`.
    pub fn comments_path(&self) -> String {
        format!("/repos/{}/issues/{}/comments", self.repo, self.number)
    }
}

impl fmt::Display for PullRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}", self.repo, self.number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_slugs() {
        let slug: RepoSlug = "handoff-bench/handoff-bench".parse().unwrap();
        assert_eq!(slug.to_string(), "handoff-bench/handoff-bench");
        assert!("a/b.c_d-e".parse::<RepoSlug>().is_ok());
    }

    #[test]
    fn refuses_what_could_escape_the_path() {
        for bad in [
            "", "o", "o/", "/r", "o/r/x", "o/..", "o r/x", "o/r?x=1", "o/r#1", "ö/r",
        ] {
            assert!(bad.parse::<RepoSlug>().is_err(), "{bad}");
        }
    }
}

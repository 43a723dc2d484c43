//! Which account's comments are ours: the token's owner, found with `GET /user`.
//!
//! A personal token: `GET /user` answers 200 and names the account. A GitHub Actions
//! `GITHUB_TOKEN` is an installation token: `GET /user` answers 403 "Resource not
//! accessible by integration", and its comments are authored by `github-actions[bot]`.
//! Another GitHub App's installation token also gets a 403; its bot login (`SLUG[bot]`)
//! cannot be learnt with that token, so it must be given with `--author`.

use http::Method;
use serde::Deserialize;

use super::client::{Client, Repeat};
use super::error::{ApiError, Operation};

/// The login that GitHub Actions' `GITHUB_TOKEN` writes comments as.
pub const ACTIONS_BOT: &str = "github-actions[bot]";

/// How the author was decided (for the log line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthorSource {
    /// `--author`.
    Flag,
    /// `GET /user` named the token's account.
    TokenOwner,
    /// `GET /user` answered 403: an installation token, assumed to be Actions'.
    Installation,
}

/// The login whose marked comment is updated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Author {
    pub login: String,
    pub source: AuthorSource,
}

impl Author {
    /// Whether a comment by `login` is by this author (GitHub logins are case-insensitive).
    pub fn is(&self, login: &str) -> bool {
        self.login.eq_ignore_ascii_case(login)
    }
}

/// Whether `login` looks like a GitHub login (`name` or `app-slug[bot]`).
pub fn is_valid_login(login: &str) -> bool {
    let name = login.strip_suffix("[bot]").unwrap_or(login);
    !name.is_empty()
        && name.len() <= 100
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

#[derive(Deserialize)]
struct User {
    login: String,
}

/// The author: `override_login` when given, else asked of GitHub.
pub async fn resolve_author(
    client: &Client,
    override_login: Option<&str>,
) -> Result<Author, ApiError> {
    if let Some(login) = override_login {
        return Ok(Author {
            login: login.to_owned(),
            source: AuthorSource::Flag,
        });
    }
    let op = Operation::WhoAmI;
    match client
        .send(&op, Method::GET, "/user", None, Repeat::Safe)
        .await
    {
        Ok(resp) => {
            let user: User = resp.json(&op)?;
            Ok(Author {
                login: user.login,
                source: AuthorSource::TokenOwner,
            })
        }
        Err(ApiError::Forbidden { .. }) => Ok(Author {
            login: ACTIONS_BOT.to_owned(),
            source: AuthorSource::Installation,
        }),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logins() {
        assert!(is_valid_login("octocat"));
        assert!(is_valid_login("github-actions[bot]"));
        assert!(!is_valid_login("[bot]"));
        assert!(!is_valid_login("a b"));
        assert!(!is_valid_login(""));
    }

    #[test]
    fn author_match_ignores_case() {
        let a = Author {
            login: "OctoCat".into(),
            source: AuthorSource::Flag,
        };
        assert!(a.is("octocat"));
        assert!(!a.is("octocat2"));
    }
}

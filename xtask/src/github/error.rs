//! What can go wrong talking to GitHub, with messages that name the missing permission.

use std::fmt;
use std::time::Duration;

use super::repo::RepoSlug;

/// The API call an error belongs to; its `Display` says it in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    /// `GET /user`: which account owns the token.
    WhoAmI,
    /// `GET /repos/{o}/{r}/issues/{n}/comments`.
    ListComments { repo: RepoSlug, pr: u64 },
    /// `POST /repos/{o}/{r}/issues/{n}/comments`.
    CreateComment { repo: RepoSlug, pr: u64 },
    /// `PATCH /repos/{o}/{r}/issues/comments/{id}`.
    UpdateComment { repo: RepoSlug, id: u64 },
}

impl Operation {
    /// Whether the call writes (needs `pull-requests: write`).
    pub fn is_write(&self) -> bool {
        matches!(
            self,
            Operation::CreateComment { .. } | Operation::UpdateComment { .. }
        )
    }

    fn forbidden_hint(&self) -> &'static str {
        if self.is_write() {
            "the token may not write pull-request comments. In a workflow, give the job \
             `permissions: pull-requests: write` (a `pull_request` run from a fork always gets a \
             read-only token: post from a `workflow_run` workflow instead); a fine-grained \
             personal token needs \"Pull requests: Read and write\" on this repository, a classic \
             one the `repo` (or `public_repo`) scope"
        } else {
            "the token may not read this repository's pull requests. In a workflow, give the job \
             `permissions: pull-requests: read` (or write); a fine-grained personal token needs \
             \"Pull requests: Read\" on this repository"
        }
    }

    fn not_found_hint(&self) -> String {
        match self {
            Operation::WhoAmI => "the API base URL (GITHUB_API_URL) may be wrong".to_owned(),
            Operation::ListComments { repo, pr } | Operation::CreateComment { repo, pr } => {
                format!(
                    "repository {repo} or pull request #{pr} does not exist, or the token cannot \
                     see it (GitHub answers 404, not 403, for private repositories a token has no \
                     access to; check --repo, --pr and the token's repository access)"
                )
            }
            Operation::UpdateComment { repo, id } => format!(
                "comment {id} in {repo} was deleted meanwhile, or the token cannot see {repo}"
            ),
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Operation::WhoAmI => {
                f.write_str("asking GitHub which account owns the token (GET /user)")
            }
            Operation::ListComments { repo, pr } => {
                write!(f, "listing the comments of {repo}#{pr}")
            }
            Operation::CreateComment { repo, pr } => {
                write!(f, "creating the benchmark comment on {repo}#{pr}")
            }
            Operation::UpdateComment { repo, id } => {
                write!(f, "updating benchmark comment {id} in {repo}")
            }
        }
    }
}

/// A failed API call. Callers branch on the case (e.g. 403 on `GET /user` means an
/// installation token); `Display` explains the fix.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(
        "{op}: GitHub answered 401 Unauthorized: the token (GITHUB_TOKEN) is invalid, expired or \
         revoked, or was made for another GitHub host than GITHUB_API_URL"
    )]
    Unauthorized { op: Operation },

    #[error("{op}: GitHub answered 403 Forbidden ({message}): {hint}", hint = .op.forbidden_hint())]
    Forbidden { op: Operation, message: String },

    #[error("{op}: GitHub answered 404 Not Found: {hint}", hint = .op.not_found_hint())]
    NotFound { op: Operation },

    #[error("{op}: still rate limited by GitHub after {attempts} attempts; try again later")]
    RateLimited { op: Operation, attempts: u32 },

    #[error(
        "{op}: GitHub asked to wait {}s before retrying, longer than --max-retry-wait ({}s); \
         try again later",
        .wait.as_secs(), .max_wait.as_secs()
    )]
    WaitTooLong {
        op: Operation,
        wait: Duration,
        max_wait: Duration,
    },

    #[error("{op}: GitHub answered {status} (server error) after {attempts} attempt(s)")]
    Server {
        op: Operation,
        status: u16,
        attempts: u32,
    },

    #[error("{op}: no answer from the GitHub API after {attempts} attempt(s): {detail}")]
    Transport {
        op: Operation,
        attempts: u32,
        detail: String,
    },

    #[error("{op}: GitHub answered {status}: {message}")]
    Unexpected {
        op: Operation,
        status: u16,
        message: String,
    },

    #[error("{op}: GitHub's answer could not be read: {detail}")]
    BadAnswer { op: Operation, detail: String },

    #[error(
        "{op}: refusing to follow a pagination link to {link}: it is not on the API host {base}"
    )]
    ForeignLink {
        op: Operation,
        link: String,
        base: String,
    },

    #[error("{op}: more than {pages} pages of comments; giving up")]
    TooManyPages { op: Operation, pages: usize },
}

impl ApiError {
    /// A failed write whose effect is unknown (a 5xx or no answer): the request may have been
    /// applied, so the caller should look again before repeating it.
    pub fn outcome_unknown(&self) -> bool {
        matches!(self, ApiError::Server { .. } | ApiError::Transport { .. })
    }
}

/// GitHub's `message` field from an error body, shortened; the raw body when it is not JSON.
pub fn github_message(body: &str) -> String {
    let message = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_owned))
        .unwrap_or_else(|| body.trim().to_owned());
    let message = if message.is_empty() {
        "no message".to_owned()
    } else {
        message
    };
    let mut short: String = message.chars().take(300).collect();
    if short.len() < message.len() {
        short.push('…');
    }
    short
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo() -> RepoSlug {
        "o/r".parse().unwrap()
    }

    #[test]
    fn forbidden_on_write_names_the_permission() {
        let e = ApiError::Forbidden {
            op: Operation::CreateComment {
                repo: repo(),
                pr: 7,
            },
            message: "Resource not accessible by integration".into(),
        };
        let text = e.to_string();
        assert!(text.contains("pull-requests: write"), "{text}");
        assert!(text.contains("o/r#7"), "{text}");
    }

    #[test]
    fn not_found_names_repo_and_pr() {
        let e = ApiError::NotFound {
            op: Operation::ListComments {
                repo: repo(),
                pr: 7,
            },
        };
        assert!(e.to_string().contains("repository o/r or pull request #7"));
    }

    #[test]
    fn github_message_prefers_json_message() {
        assert_eq!(
            github_message(r#"{"message":"Bad credentials"}"#),
            "Bad credentials"
        );
        assert_eq!(github_message("  plain "), "plain");
        assert_eq!(github_message(""), "no message");
        assert_eq!(github_message(&"x".repeat(500)).chars().count(), 301);
    }
}

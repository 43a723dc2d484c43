//! The sticky comment: find our marked comment on the pull request and update it, or create
//! it when there is none, so that a pull request carries exactly one benchmark comment.
//!
//! # How it works
//!
//! 1. List every issue comment of the pull request, 100 a page, following the `Link:
//!    rel="next"` header (only to the API host; at most [`MAX_PAGES`] pages).
//! 2. Ours is the first comment whose body starts with [`MARKER`] and whose author is the
//!    token's account. A comment by anyone else is never touched, even if it quotes the
//!    marker; a comment by us that only quotes it (not as its first line) is not ours either.
//! 3. Found: `PATCH` it (safe to retry). Not found: `POST` a new one (unless the caller
//!    asked for updates only: [`Create::No`]). A `POST` is retried
//!    at once only when GitHub refused it (rate limit); after a 5xx or a lost answer it may
//!    have been applied, so we wait, list again and update what we find: never two comments.

use http::Method;
use serde::Deserialize;
use serde_json::json;

use super::client::{Client, Repeat};
use super::error::{ApiError, Operation};
use super::identity::Author;
use super::pagination::next_link;
use super::repo::PullRequest;

/// The hidden first line that marks the benchmark comment.
pub const MARKER: &str = "<!-- handoff-bench:pr-comment -->";

/// Upper bound on comment pages followed (100 comments each).
pub const MAX_PAGES: usize = 300;

/// An issue comment as the list endpoint returns it (only what we use).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct IssueComment {
    pub id: u64,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub user: Option<CommentUser>,
    #[serde(default)]
    pub html_url: Option<String>,
}

/// A comment's author.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct CommentUser {
    pub login: String,
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
}

/// What [`upsert`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Posted {
    Created {
        id: u64,
        url: Option<String>,
    },
    Updated {
        id: u64,
        url: Option<String>,
    },
    /// There was no comment to update, and [`Create::No`] was asked.
    NothingToUpdate,
}

/// Whether [`upsert`] may create the comment when the pull request has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Create {
    Yes,
    /// Only update an existing comment (`comment --only-on-change` with nothing changed).
    No,
}

/// Whether `comment` is the benchmark comment written by `author`.
pub fn is_ours(comment: &IssueComment, author: &Author) -> bool {
    let by_author = comment.user.as_ref().is_some_and(|u| author.is(&u.login));
    let marked = comment
        .body
        .as_deref()
        .is_some_and(|b| b.trim_start().starts_with(MARKER));
    by_author && marked
}

/// Every comment of the pull request, all pages.
pub async fn list_comments(
    client: &Client,
    pr: &PullRequest,
) -> Result<Vec<IssueComment>, ApiError> {
    let op = Operation::ListComments {
        repo: pr.repo.clone(),
        pr: pr.number,
    };
    let mut target = format!("{}?per_page=100", pr.comments_path());
    let mut all = Vec::new();
    for _ in 0..MAX_PAGES {
        let resp = client
            .send(&op, Method::GET, &target, None, Repeat::Safe)
            .await?;
        let page: Vec<IssueComment> = resp.json(&op)?;
        all.extend(page);
        match next_link(&resp.headers) {
            None => return Ok(all),
            Some(next) => {
                let on_host = next
                    .parse::<http::Uri>()
                    .is_ok_and(|uri| client.base().same_origin(&uri));
                if !on_host {
                    return Err(ApiError::ForeignLink {
                        op,
                        link: next,
                        base: client.base().to_string(),
                    });
                }
                target = next;
            }
        }
    }
    Err(ApiError::TooManyPages {
        op,
        pages: MAX_PAGES,
    })
}

/// Updates our comment on `pr` to `body`, or creates it when `create` allows; see the
/// module docs.
pub async fn upsert(
    client: &Client,
    pr: &PullRequest,
    author: &Author,
    body: &str,
    create: Create,
) -> Result<Posted, ApiError> {
    let payload = json!({ "body": body });
    let policy = client.policy();
    let mut round = 0;
    loop {
        let comments = list_comments(client, pr).await?;
        let mut ours = comments.iter().filter(|c| is_ours(c, author));
        if let Some(existing) = ours.next() {
            let extra = ours.count();
            if extra > 0 {
                eprintln!(
                    "warning: {extra} more benchmark comment(s) by {} on {pr}; updating the oldest \
                     (id {}) and leaving the others",
                    author.login, existing.id
                );
            }
            let op = Operation::UpdateComment {
                repo: pr.repo.clone(),
                id: existing.id,
            };
            let path = format!("/repos/{}/issues/comments/{}", pr.repo, existing.id);
            let resp = client
                .send(&op, Method::PATCH, &path, Some(&payload), Repeat::Safe)
                .await?;
            let updated: IssueComment = resp.json(&op)?;
            return Ok(Posted::Updated {
                id: updated.id,
                url: updated.html_url,
            });
        }
        if create == Create::No {
            return Ok(Posted::NothingToUpdate);
        }
        let op = Operation::CreateComment {
            repo: pr.repo.clone(),
            pr: pr.number,
        };
        match client
            .send(
                &op,
                Method::POST,
                &pr.comments_path(),
                Some(&payload),
                Repeat::OnlyIfRefused,
            )
            .await
        {
            Ok(resp) => {
                let created: IssueComment = resp.json(&op)?;
                return Ok(Posted::Created {
                    id: created.id,
                    url: created.html_url,
                });
            }
            Err(e) if e.outcome_unknown() && round < policy.max_retries => {
                let wait = policy.backoff(round);
                eprintln!(
                    "note: {e}; looking for the comment again in {}s before retrying",
                    wait.as_secs_f64()
                );
                client.sleep(wait).await;
                round += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::github::identity::AuthorSource;

    fn comment(id: u64, login: &str, body: &str) -> IssueComment {
        IssueComment {
            id,
            body: Some(body.to_owned()),
            user: Some(CommentUser {
                login: login.to_owned(),
                kind: None,
            }),
            html_url: None,
        }
    }

    fn bot() -> Author {
        Author {
            login: "github-actions[bot]".into(),
            source: AuthorSource::Installation,
        }
    }

    #[test]
    fn ours_needs_marker_first_and_our_author() {
        let ours = comment(1, "github-actions[bot]", &format!("{MARKER}\nreport"));
        let quoted = comment(2, "mallory", &format!("{MARKER}\nfake report"));
        let we_quote = comment(3, "github-actions[bot]", &format!("> {MARKER}\n"));
        let unmarked = comment(4, "github-actions[bot]", "other bot output");
        assert!(is_ours(&ours, &bot()));
        assert!(!is_ours(&quoted, &bot()));
        assert!(!is_ours(&we_quote, &bot()));
        assert!(!is_ours(&unmarked, &bot()));
    }

    #[test]
    fn deleted_user_or_empty_body_is_not_ours() {
        let mut c = comment(1, "x", MARKER);
        c.user = None;
        assert!(!is_ours(&c, &bot()));
        let mut c = comment(1, "github-actions[bot]", "");
        c.body = None;
        assert!(!is_ours(&c, &bot()));
    }
}

//! The HTTP door to the GitHub REST API: octocrab's client, one request at a time, with
//! status and headers handled here (retry, errors) rather than hidden behind typed models.
//!
//! # What of octocrab is used, and why not the rest
//!
//! Octocrab builds and sends each request: its base-URI layer (a GitHub Enterprise base
//! with a path), its auth layer (the token goes to the API host only), rustls and its
//! connect and read timeouts. Its retry is not built (the workspace does not enable its
//! `retry` feature) and its pagination is not used, because each would break a rule the
//! tests hold this client to (`xtask/tests/comment_cli.rs`, `github/tests.rs`); octocrab
//! 0.54 read for this:
//!
//! - Retry (`service::middleware::retry::RetryConfig`, a tower retry layer under the
//!   client). Its default, `Simple(3)`, retries a 5xx, a 429 or a transport error at once
//!   and never reads `Retry-After`. `HandleRateLimits` does wait `Retry-After` (or until
//!   `x-ratelimit-reset`) on a 403/429, but retries a 5xx at once, without back-off. Both
//!   resend every request whatever its method: a `POST` whose answer was a 500 or was lost
//!   after GitHub created the comment would create a second one. Here a `POST` is resent
//!   only when GitHub refused it ([`Repeat::OnlyIfRefused`]); otherwise the sticky logic
//!   lists the comments again before it creates one (never two comments). Its waits sleep on tokio's timer inside
//!   the layer: uncapped (a `Retry-After: 3600` would hold the job an hour instead of
//!   failing against `--max-retry-wait`), silent (no "retrying in" note in the log) and
//!   real in tests (no [`Sleeper`] to record them). So [`Client::send`] retries, by the
//!   rules in [`super::retry`].
//! - Pagination (`Page`, `get_page`, `all_pages`): `all_pages` follows `next` to whatever
//!   host it names and for as many pages as it names; `Page` parses only the first `Link`
//!   header, splits it at every comma and prints an `INFO` line to stderr for a `rel` it does
//!   not know; and a page fetched through `Octocrab::get` would fail as an
//!   `octocrab::Error` outside [`Client::send`]'s retry. So the sticky comment's listing
//!   follows `Link: rel="next"` itself ([`super::pagination`]), on the API host only and
//!   for at most `sticky::MAX_PAGES` pages.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use http::header::ACCEPT;
use http::{HeaderMap, Method, StatusCode, Uri};
use octocrab::Octocrab;
use serde_json::Value;

use super::error::{ApiError, Operation, github_message};
use super::retry::{Class, RetryPolicy, Sleeper, classify};
use super::token::Token;

/// Where the API lives when `GITHUB_API_URL` is unset.
pub const DEFAULT_API_URL: &str = "https://api.github.com";

/// The variable GitHub Actions sets to the API base (differs on GitHub Enterprise Server).
pub const API_URL_ENV: &str = "GITHUB_API_URL";

/// The media type GitHub recommends for the REST API.
pub const ACCEPT_GITHUB_JSON: &str = "application/vnd.github+json";

/// A validated API base URL (`http(s)://host[:port][/path]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiBase(Uri);

/// Why an API base URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{API_URL_ENV}={0:?} is not an http(s) URL such as https://api.github.com")]
pub struct BadApiBase(pub String);

impl ApiBase {
    /// Parses and checks an API base URL.
    pub fn parse(text: &str) -> Result<Self, BadApiBase> {
        let bad = || BadApiBase(text.to_owned());
        let uri: Uri = text.trim().parse().map_err(|_| bad())?;
        let scheme_ok = matches!(uri.scheme_str(), Some("http" | "https"));
        if !scheme_ok || uri.authority().is_none() || uri.query().is_some() {
            return Err(bad());
        }
        Ok(Self(uri))
    }

    /// `GITHUB_API_URL`, or the public API when it is unset or empty.
    pub fn from_env() -> Result<Self, BadApiBase> {
        match std::env::var(API_URL_ENV) {
            Ok(url) if !url.trim().is_empty() => Self::parse(&url),
            _ => Self::parse(DEFAULT_API_URL),
        }
    }

    /// Whether an absolute link (from a `Link` header) points at this API host.
    pub fn same_origin(&self, link: &Uri) -> bool {
        link.scheme() == self.0.scheme() && link.authority() == self.0.authority()
    }
}

impl std::fmt::Display for ApiBase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Whether repeating a request is harmless.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repeat {
    /// GET, PATCH with the same body: retried on 5xx, rate limits and transport errors.
    Safe,
    /// POST: retried only on rate limits (GitHub refused it, so nothing was created); a 5xx
    /// or a lost answer is returned at once so the caller can look before creating again.
    OnlyIfRefused,
}

/// One answer: status, headers, body text.
#[derive(Debug, Clone)]
pub struct ApiResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl ApiResponse {
    /// The body parsed as JSON of type `T`.
    pub fn json<T: serde::de::DeserializeOwned>(&self, op: &Operation) -> Result<T, ApiError> {
        serde_json::from_str(&self.body).map_err(|e| ApiError::BadAnswer {
            op: op.clone(),
            detail: e.to_string(),
        })
    }
}

/// The client: octocrab configured for one API base and token, plus our retry policy.
#[derive(Debug)]
pub struct Client {
    octo: Octocrab,
    base: ApiBase,
    policy: RetryPolicy,
    sleeper: Arc<dyn Sleeper>,
}

impl Client {
    /// A client for `base`, authenticating with `token` (sent as `Authorization: Bearer`
    /// only to `base`'s host). Octocrab has no retry layer here (see the module docs):
    /// [`Client::send`] retries.
    pub fn new(
        base: ApiBase,
        token: &Token,
        policy: RetryPolicy,
        sleeper: Arc<dyn Sleeper>,
    ) -> Result<Self, octocrab::Error> {
        let octo = Octocrab::builder()
            .base_uri(base.0.clone())?
            .personal_token(token.expose().to_owned())
            .set_connect_timeout(Some(Duration::from_secs(15)))
            .set_read_timeout(Some(Duration::from_secs(60)))
            .build()?;
        Ok(Self {
            octo,
            base,
            policy,
            sleeper,
        })
    }

    /// The API base this client talks to.
    pub fn base(&self) -> &ApiBase {
        &self.base
    }

    /// The retry policy (the sticky logic uses it for its own look-again loop).
    pub fn policy(&self) -> RetryPolicy {
        self.policy
    }

    /// Waits through the injected sleeper.
    pub async fn sleep(&self, duration: Duration) {
        self.sleeper.sleep(duration).await;
    }

    /// Sends `method target` (a path, or an absolute URL on the API host) with an optional
    /// JSON body; retries as the module docs of [`super::retry`] describe; turns a final
    /// failure into an [`ApiError`] that explains it.
    pub async fn send(
        &self,
        op: &Operation,
        method: Method,
        target: &str,
        body: Option<&Value>,
        repeat: Repeat,
    ) -> Result<ApiResponse, ApiError> {
        let mut attempt: u32 = 0;
        loop {
            let attempts = attempt + 1;
            let (wait, give_up) = match self.send_once(method.clone(), target, body).await {
                Err(detail) => {
                    let err = ApiError::Transport {
                        op: op.clone(),
                        attempts,
                        detail,
                    };
                    if repeat == Repeat::OnlyIfRefused {
                        return Err(err);
                    }
                    (self.policy.backoff(attempt), err)
                }
                Ok(resp) => {
                    match classify(resp.status, &resp.headers, &resp.body, SystemTime::now()) {
                        Class::Success => return Ok(resp),
                        Class::Final => return Err(final_error(op, &resp)),
                        Class::ServerError { retry_after } => {
                            let err = ApiError::Server {
                                op: op.clone(),
                                status: resp.status.as_u16(),
                                attempts,
                            };
                            if repeat == Repeat::OnlyIfRefused {
                                return Err(err);
                            }
                            (retry_after.unwrap_or(self.policy.backoff(attempt)), err)
                        }
                        Class::RateLimited { wait } => (
                            wait,
                            ApiError::RateLimited {
                                op: op.clone(),
                                attempts,
                            },
                        ),
                    }
                }
            };
            if attempt >= self.policy.max_retries {
                return Err(give_up);
            }
            if wait > self.policy.max_wait {
                return Err(ApiError::WaitTooLong {
                    op: op.clone(),
                    wait,
                    max_wait: self.policy.max_wait,
                });
            }
            eprintln!(
                "note: {op}: {give_up_short}; retrying in {secs}s (retry {n} of {max})",
                give_up_short = short_reason(&give_up),
                secs = wait.as_secs_f64(),
                n = attempt + 1,
                max = self.policy.max_retries,
            );
            self.sleeper.sleep(wait).await;
            attempt += 1;
        }
    }

    /// One attempt; `Err` carries a transport failure's description.
    async fn send_once(
        &self,
        method: Method,
        target: &str,
        body: Option<&Value>,
    ) -> Result<ApiResponse, String> {
        let uri: Uri = target
            .parse()
            .map_err(|e| format!("bad request URI {target:?}: {e}"))?;
        let builder = http::Request::builder()
            .method(method)
            .uri(uri)
            .header(ACCEPT, ACCEPT_GITHUB_JSON);
        let request = self
            .octo
            .build_request(builder, body)
            .map_err(|e| error_chain(&e))?;
        let response = self
            .octo
            .execute(request)
            .await
            .map_err(|e| error_chain(&e))?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = self
            .octo
            .body_to_string(response)
            .await
            .map_err(|e| error_chain(&e))?;
        Ok(ApiResponse {
            status,
            headers,
            body,
        })
    }
}

fn short_reason(err: &ApiError) -> String {
    match err {
        ApiError::Server { status, .. } => format!("GitHub answered {status}"),
        ApiError::RateLimited { .. } => "rate limited by GitHub".to_owned(),
        ApiError::Transport { detail, .. } => format!("no answer ({detail})"),
        other => other.to_string(),
    }
}

fn final_error(op: &Operation, resp: &ApiResponse) -> ApiError {
    let op = op.clone();
    match resp.status {
        StatusCode::UNAUTHORIZED => ApiError::Unauthorized { op },
        StatusCode::FORBIDDEN => ApiError::Forbidden {
            op,
            message: github_message(&resp.body),
        },
        StatusCode::NOT_FOUND => ApiError::NotFound { op },
        status => ApiError::Unexpected {
            op,
            status: status.as_u16(),
            message: github_message(&resp.body),
        },
    }
}

/// An error and its sources on one line (octocrab's `Display` omits the cause).
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_base_accepts_http_urls_with_a_path() {
        assert!(ApiBase::parse("https://api.github.com").is_ok());
        assert!(ApiBase::parse("https://ghe.example.com/api/v3").is_ok());
        assert!(ApiBase::parse("http://127.0.0.1:8080").is_ok());
        for bad in [
            "",
            "api.github.com",
            "ftp://x",
            "https://x/?a=1",
            "not a url",
        ] {
            assert!(ApiBase::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn same_origin_compares_scheme_and_host() {
        let base = ApiBase::parse("https://ghe.example.com/api/v3").unwrap();
        let ok: Uri = "https://ghe.example.com/api/v3/repositories/1/issues/2/comments?page=2"
            .parse()
            .unwrap();
        let other: Uri = "https://evil.example.com/x".parse().unwrap();
        let downgrade: Uri = "http://ghe.example.com/x".parse().unwrap();
        assert!(base.same_origin(&ok));
        assert!(!base.same_origin(&other));
        assert!(!base.same_origin(&downgrade));
    }
}

//! When to retry a GitHub API answer, and how long to wait first.
//!
//! Ours rather than octocrab's retry layer, which cannot tell a `POST` from a `GET`, retries a
//! 5xx at once and sleeps uncapped and unrecorded (the reasons in full: [`super::client`]).
//!
//! # How it works
//!
//! 1. Each answer is classified by [`classify`] from its status, headers and body:
//!    success, a server error (5xx), a rate limit (403/429 with `Retry-After`,
//!    `x-ratelimit-remaining: 0`, or a body that says "rate limit"), or a final failure.
//! 2. A rate limit waits what GitHub asked: `Retry-After` seconds, else until
//!    `x-ratelimit-reset`, else one minute (GitHub's advice for secondary limits).
//!    A server error waits `Retry-After` if given, else an exponential back-off
//!    (`base_delay * 2^attempt`).
//! 3. A wait longer than `max_wait` is not shortened (GitHub would refuse again): the
//!    caller gives up with an error that says how long GitHub asked to wait.
//! 4. At most `max_retries` retries per request; the waiting goes through a [`Sleeper`]
//!    so that tests record the waits instead of sleeping.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
#[cfg(test)]
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, StatusCode};

/// Bounds on retrying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// First back-off step for server errors without `Retry-After`.
    pub base_delay: Duration,
    /// The longest wait accepted; a longer one requested by GitHub ends the retrying.
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 4,
            base_delay: Duration::from_secs(1),
            max_wait: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// Exponential back-off for the `attempt`-th retry (0-based), capped at `max_wait`.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.min(16)).unwrap_or(u32::MAX);
        self.base_delay.saturating_mul(factor).min(self.max_wait)
    }
}

/// What an answer means for the request that got it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// 2xx.
    Success,
    /// 5xx: the server failed; the wait is `Retry-After` if it gave one.
    ServerError { retry_after: Option<Duration> },
    /// A primary or secondary rate limit; the wait GitHub asked for.
    RateLimited { wait: Duration },
    /// Anything else (401, plain 403, 404, 422...): retrying cannot help.
    Final,
}

/// Classifies an answer; `now` is injected for the `x-ratelimit-reset` arithmetic.
pub fn classify(status: StatusCode, headers: &HeaderMap, body: &str, now: SystemTime) -> Class {
    if status.is_success() {
        return Class::Success;
    }
    let retry_after = header_u64(headers, "retry-after").map(Duration::from_secs);
    if status.is_server_error() {
        return Class::ServerError { retry_after };
    }
    if status != StatusCode::FORBIDDEN && status != StatusCode::TOO_MANY_REQUESTS {
        return Class::Final;
    }
    if let Some(wait) = retry_after {
        return Class::RateLimited { wait };
    }
    if header_u64(headers, "x-ratelimit-remaining") == Some(0) {
        let now_s = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let wait = header_u64(headers, "x-ratelimit-reset")
            .map_or(Duration::from_secs(60), |reset| {
                Duration::from_secs(reset.saturating_sub(now_s).max(1))
            });
        return Class::RateLimited { wait };
    }
    if status == StatusCode::TOO_MANY_REQUESTS || body.to_ascii_lowercase().contains("rate limit") {
        return Class::RateLimited {
            wait: Duration::from_secs(60),
        };
    }
    Class::Final
}

fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// Waits between attempts. Production sleeps; tests record.
pub trait Sleeper: Send + Sync + fmt::Debug {
    /// Waits `duration`.
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;
}

/// Sleeps on the tokio timer.
#[derive(Debug, Default, Clone, Copy)]
pub struct TokioSleeper;

impl Sleeper for TokioSleeper {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// Records the requested waits and returns at once (for tests).
#[cfg(test)]
#[derive(Debug, Default)]
pub struct RecordingSleeper {
    waits: Mutex<Vec<Duration>>,
}

#[cfg(test)]
impl RecordingSleeper {
    /// The waits requested so far, in order.
    pub fn waits(&self) -> Vec<Duration> {
        self.waits.lock().map(|w| w.clone()).unwrap_or_default()
    }
}

#[cfg(test)]
impl Sleeper for RecordingSleeper {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        if let Ok(mut waits) = self.waits.lock() {
            waits.push(duration);
        }
        Box::pin(std::future::ready(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, v.parse().unwrap());
        }
        map
    }

    const NOW: u64 = 1_700_000_000;

    fn classify_at(status: u16, pairs: &[(&'static str, &str)], body: &str) -> Class {
        classify(
            StatusCode::from_u16(status).unwrap(),
            &headers(pairs),
            body,
            UNIX_EPOCH + Duration::from_secs(NOW),
        )
    }

    #[test]
    fn success_and_final() {
        assert_eq!(classify_at(201, &[], ""), Class::Success);
        assert_eq!(classify_at(401, &[("retry-after", "1")], ""), Class::Final);
        assert_eq!(classify_at(404, &[], ""), Class::Final);
        assert_eq!(
            classify_at(
                403,
                &[],
                r#"{"message":"Resource not accessible by integration"}"#
            ),
            Class::Final
        );
    }

    #[test]
    fn server_errors_keep_retry_after() {
        assert_eq!(
            classify_at(502, &[], ""),
            Class::ServerError { retry_after: None }
        );
        assert_eq!(
            classify_at(503, &[("retry-after", "7")], ""),
            Class::ServerError {
                retry_after: Some(Duration::from_secs(7))
            }
        );
    }

    #[test]
    fn secondary_rate_limit_with_retry_after() {
        assert_eq!(
            classify_at(403, &[("retry-after", "1")], ""),
            Class::RateLimited {
                wait: Duration::from_secs(1)
            }
        );
        assert_eq!(
            classify_at(429, &[("retry-after", "3")], ""),
            Class::RateLimited {
                wait: Duration::from_secs(3)
            }
        );
    }

    #[test]
    fn primary_rate_limit_waits_until_reset() {
        let reset = (NOW + 42).to_string();
        assert_eq!(
            classify_at(
                403,
                &[
                    ("x-ratelimit-remaining", "0"),
                    ("x-ratelimit-reset", &reset)
                ],
                ""
            ),
            Class::RateLimited {
                wait: Duration::from_secs(42)
            }
        );
    }

    #[test]
    fn secondary_rate_limit_named_in_body_waits_a_minute() {
        assert_eq!(
            classify_at(
                403,
                &[],
                r#"{"message":"You have exceeded a secondary rate limit"}"#
            ),
            Class::RateLimited {
                wait: Duration::from_secs(60)
            }
        );
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let policy = RetryPolicy {
            max_retries: 10,
            base_delay: Duration::from_secs(1),
            max_wait: Duration::from_secs(5),
        };
        let waits: Vec<u64> = (0..5).map(|a| policy.backoff(a).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 5, 5]);
        assert_eq!(policy.backoff(u32::MAX), Duration::from_secs(5));
    }
}

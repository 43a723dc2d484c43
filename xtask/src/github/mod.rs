//! Everything that talks to or formats for GitHub: the sticky pull-request comment, the
//! job summary, workflow-command annotations (`publish` wires the last two into `bench`).
//!
//! Pure helpers (`annotations`, `summary`, `markdown`, `truncate`, `body`) have no network;
//! `client`, `identity` and `sticky` do the REST calls through octocrab.

pub mod annotations;
pub mod artifact;
pub mod body;
pub mod client;
pub mod error;
pub mod identity;
pub mod markdown;
pub mod pagination;
pub mod publish;
pub mod repo;
pub mod retry;
pub mod sticky;
pub mod summary;
pub mod token;
pub mod truncate;

#[cfg(test)]
mod tests;

//! Everything that talks to or formats for GitHub: the sticky pull-request comment, the
//! job summary, workflow-command annotations (`publish` wires the last two into `bench`).
//!
//! Pure helpers (`annotations`, `summary`, `header`, `truncate`, `body`) have no network;
//! `client`, `identity` and `sticky` do the REST calls through octocrab. The comment's
//! untrusted input goes `runners` (files found, grouped by runner, capped per comment) ->
//! `artifact` (read, capped) -> `limits` (depth, values, counts) -> `checked_results` (ids,
//! blocks, policy) -> `merge` (a sharded runner's files as one) -> `sections` (each runner
//! compared once, every unusable file refused by name) -> `comment_report` (rendered here).

pub mod annotations;
pub mod artifact;
pub mod body;
pub mod checked_results;
pub mod client;
pub mod comment_report;
pub mod error;
pub mod header;
pub mod identity;
pub mod limits;
pub mod merge;
pub mod pagination;
pub mod publish;
pub mod repo;
pub mod retry;
pub mod runners;
pub mod sections;
pub mod sticky;
pub mod summary;
pub mod token;
pub mod truncate;

#[cfg(test)]
mod tests;

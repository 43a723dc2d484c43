//! The data model: what the engine produces and the comparison reads. One process's
//! [`measurement`], the [`metric`]s read from it, [`results`] files (raw samples plus
//! summaries), [`paired_record`]s, the [`host`] fingerprint (read by [`host_probe`]) and
//! [`git`] revision, the baseline [`store`], which configurations a run [`selection`]
//! covers (and a [`shard`] of them), how files are written ([`files`]), and where a counted
//! window's instructions went per role and function ([`profile`]); what changed between two
//! lock files
//! ([`lockfile`]); text from a file quoted in an error, kept short ([`shown`]).
//! [`usage`] holds the one error every layer above may raise for bad usage. Imports only
//! `stats`.

pub mod files;
pub mod git;
pub mod history;
pub mod host;
pub mod host_probe;
pub mod lockfile;
pub mod measurement;
pub mod metric;
pub mod paired_record;
pub mod profile;
pub mod results;
pub mod selection;
pub mod shard;
pub mod shown;
pub mod store;
pub mod usage;

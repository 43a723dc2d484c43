//! The protocol between the `handoff-bench` binary and the `cargo xtask` gate, defined once
//! and used by both sides of the process boundary (and by the gate's stand-in binary).
//!
//! - [`line`]: the JSON line one configuration's measurement is printed as, every field
//!   typed; fields a newer binary adds pass through unread.
//! - [`id`]: the configuration-id grammar, `runtime/handoff`.
//! - [`role`]: the thread roles every per-thread figure is summed by.
//! - [`work`]: the `--work` grammar, with the list of kinds `--help` shows.
//! - [`serve`]: serve mode's requests and replies (lock-step sampling).
//! - [`capabilities`]: what a binary supports, answered by `--capabilities`.
//!
//! The guide defines the formats for people: `docs/book/src/formats/json-line.md`.

pub mod capabilities;
pub mod id;
pub mod line;
pub mod role;
pub mod serve;
pub mod work;

pub use capabilities::{Capabilities, Flag};
pub use id::{ConfigId, IdError};
pub use line::{Instructions, LineError, Measurement, SCHEMA};
pub use role::Role;
pub use serve::{Ready, Request, RequestError};
pub use work::{Query, Work, WorkSpecError};

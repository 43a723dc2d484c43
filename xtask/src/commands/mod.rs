//! Layer 5, the subcommands: one module each, flags -> validated config -> run.
pub mod baseline;
pub mod bench;
pub mod calibrate;
pub mod comment;
pub mod compare;
pub mod exit;
pub mod flags;

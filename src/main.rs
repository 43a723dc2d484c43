//! The `handoff-bench` binary.
fn main() {}

//! Test support shared by the comment tests (not a test binary of its own).

pub mod fake_github;
pub mod live;
pub mod results;
pub mod workflow;

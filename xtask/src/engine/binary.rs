//! Building the release benchmark binary once, through cargo: the head in the workspace,
//! the base of `bench --against` in its worktree with a target directory of its own.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context as _, bail};
use serde_json::Value;
use thiserror::Error;

/// Lines of a failed build's stderr kept for the report.
const BUILD_STDERR_TAIL_LINES: usize = 40;

/// A build that cargo rejected, with what it printed last.
#[derive(Debug, Error)]
#[error("building {what} failed ({status}); the end of cargo's output:\n{stderr_tail}")]
pub struct BuildError {
    pub what: String,
    pub status: String,
    pub stderr_tail: String,
}

/// The benchmark's binary target.
pub const BENCH_BIN: &str = "handoff-bench";

/// Runs `$CARGO build --release --bin handoff-bench` in the workspace and returns the path
/// of the executable, read from cargo's JSON messages (so `CARGO_TARGET_DIR` and friends are
/// honoured). Compiler diagnostics go to stderr as usual.
pub fn build_release(workspace_root: &Path) -> anyhow::Result<PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(&cargo)
        .args(["build", "--release", "--bin", BENCH_BIN])
        .arg("--message-format=json-render-diagnostics")
        .current_dir(workspace_root)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("cannot run {}", cargo.to_string_lossy()))?;
    if !output.status.success() {
        bail!("building {BENCH_BIN} failed ({})", output.status);
    }
    executable_from_messages(&String::from_utf8_lossy(&output.stdout))
        .with_context(|| format!("cargo did not report the {BENCH_BIN} executable"))
}

/// Builds `handoff-bench` (release) in `workspace` with `target_dir` as `CARGO_TARGET_DIR`,
/// capturing cargo's stderr: a failure becomes a [`BuildError`] carrying its tail. `what`
/// names the build in messages (`base abc1234`).
pub fn build_release_captured(
    workspace: &Path,
    target_dir: &Path,
    what: &str,
) -> anyhow::Result<PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(&cargo)
        .args(["build", "--release", "--bin", BENCH_BIN])
        .arg("--message-format=json-render-diagnostics")
        .current_dir(workspace)
        .env("CARGO_TARGET_DIR", target_dir)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot run {}", cargo.to_string_lossy()))?;
    if !output.status.success() {
        let text = String::from_utf8_lossy(&output.stderr);
        let lines: Vec<&str> = text.lines().collect();
        return Err(BuildError {
            what: what.to_owned(),
            status: output.status.to_string(),
            stderr_tail: lines[lines.len().saturating_sub(BUILD_STDERR_TAIL_LINES)..].join("\n"),
        }
        .into());
    }
    executable_from_messages(&String::from_utf8_lossy(&output.stdout))
        .with_context(|| format!("cargo did not report the {BENCH_BIN} executable of {what}"))
}

fn executable_from_messages(stdout: &str) -> Option<PathBuf> {
    stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == BENCH_BIN)
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_executable_in_cargo_messages() {
        let messages = r#"{"reason":"compiler-artifact","target":{"name":"handoff_bench"},"executable":null}
{"reason":"compiler-artifact","target":{"name":"handoff-bench"},"executable":"/t/release/handoff-bench"}
{"reason":"build-finished","success":true}"#;
        assert_eq!(
            executable_from_messages(messages),
            Some(PathBuf::from("/t/release/handoff-bench"))
        );
        assert_eq!(executable_from_messages("not json"), None);
    }
}

//! Building the release benchmark binary once, through cargo.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context as _, bail};
use serde_json::Value;

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

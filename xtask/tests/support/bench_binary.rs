//! Builds this workspace's release `handoff-bench` binary for the tests that run it.
//!
//! The binary belongs to another package of the workspace, so a test of the xtask cannot
//! name it with `CARGO_BIN_EXE_*` (or `assert_cmd`'s `cargo_bin`, which looks in this
//! package's target directory only). It runs `$CARGO build --release --bin handoff-bench`
//! itself, as `cargo xtask bench` does, and takes the executable's path from cargo's JSON
//! messages: the build is always of this checkout (never a stale binary left under
//! `target/`), and the path is wherever cargo put it (`CARGO_TARGET_DIR`,
//! `build.target-dir`). The release build is the one the xtask measures, and it is shared
//! with `cargo xtask bench`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

/// Builds the release benchmark binary of this workspace and returns its path.
pub fn build_handoff_bench() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args(["build", "--release", "--bin", "handoff-bench"])
        .arg("--message-format=json-render-diagnostics")
        .current_dir(workspace)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .expect("cargo runs");
    assert!(output.status.success(), "cargo build: {}", output.status);
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|message| {
            message["reason"] == "compiler-artifact" && message["target"]["name"] == "handoff-bench"
        })
        .find_map(|message| message["executable"].as_str().map(PathBuf::from))
        .expect("cargo reports the handoff-bench executable")
}

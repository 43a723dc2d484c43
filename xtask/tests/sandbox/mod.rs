//! Shared by the xtask end-to-end tests: an isolated sandbox (its own baselines directory
//! and fake-benchmark state) and the real `xtask` binary pointed at the deterministic fake
//! benchmark.
// Each test binary compiles its own copy of this module and uses only part of it.
#![allow(dead_code)]

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;
use tempfile::TempDir;

/// The deterministic stand-in for `handoff-bench`.
pub const FAKE: &str = env!("CARGO_BIN_EXE_fake-handoff-bench");

/// One isolated workspace: its own baselines dir and fake-benchmark state.
pub struct Sandbox {
    dir: TempDir,
}

impl Sandbox {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("state")).unwrap();
        Sandbox { dir }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn baselines(&self) -> PathBuf {
        self.path("baselines")
    }

    /// `xtask ARGS` with the fake benchmark, the sandbox's baselines and state, no progress
    /// bar, and none of the variables a test sets on purpose inherited from outside.
    pub fn xtask(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_xtask"));
        cmd.args(args)
            .env("HANDOFF_BENCH_BIN", FAKE)
            .env("HANDOFF_BENCH_BASELINES_DIR", self.baselines())
            .env("FAKE_BENCH_STATE", self.path("state"))
            // Counting has tests of its own (`counters_pipeline.rs`), which remove this.
            .env("HANDOFF_BENCH_NO_COUNTERS", "true")
            .env("CI", "true");
        for variable in [
            "FAKE_BENCH_SLOWDOWN",
            "FAKE_BENCH_FAIL",
            "FAKE_BENCH_IDS",
            "FAKE_BENCH_NOISE",
            "FAKE_BENCH_SEED",
            "FAKE_BENCH_INSTRUCTIONS",
            "FAKE_BENCH_INSTRUCTION_NOISE",
            "FAKE_BENCH_NO_SERVE",
            "HANDOFF_BENCH_CALLGRIND_LAUNCH",
            "HANDOFF_BENCH_BASE_BIN",
            "HANDOFF_BENCH_WORKSPACE",
            "GITHUB_STEP_SUMMARY",
            "GITHUB_ACTIONS",
        ] {
            cmd.env_remove(variable);
        }
        cmd
    }

    /// `xtask ARGS` as the sandbox runs it, with the fake's seeded noise.
    pub fn noisy_xtask(&self, args: &[&str]) -> Command {
        let mut cmd = self.xtask(args);
        cmd.env("FAKE_BENCH_NOISE", "0.01")
            .env("FAKE_BENCH_SEED", "7");
        cmd
    }

    /// A base executable: the fake with its own environment (`NAME=VALUE` lines).
    pub fn base_wrapper(&self, env: &[(&str, &str)]) -> PathBuf {
        let path = self.path("base-bench");
        let mut script = String::from("#!/bin/sh\n");
        for (k, v) in env {
            script.push_str(&format!("export {k}='{v}'\n"));
        }
        script.push_str(&format!("exec '{FAKE}' \"$@\"\n"));
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }
}

pub fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

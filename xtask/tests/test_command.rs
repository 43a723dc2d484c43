//! `cargo xtask test` on machines with and without its tools, with a stand-in for cargo that
//! records how it was called: what runs, what is left out, and that the output says so.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::Command;

/// A folder for PATH holding stand-ins: `cargo` (logs its arguments and whether the
/// valgrind tests were told to skip) and, when asked, tools that answer `--version`.
fn machine(dir: &Path, tools: &[&str]) {
    let script = |name: &str, body: &str| {
        let path = dir.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    };
    let log = dir.join("cargo.log");
    script(
        "cargo",
        &format!(
            "printf '%s skip=%s\\n' \"$*\" \"$HANDOFF_BENCH_SKIP_VALGRIND_TESTS\" >> '{}'",
            log.display()
        ),
    );
    for tool in tools {
        script(tool, "exit 0");
    }
}

fn xtask_test(dir: &Path, ci: Option<&str>) -> std::process::Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    command
        .args(["test", "--", "--locked"])
        .env("PATH", dir)
        .env("CARGO", dir.join("cargo"))
        .env_remove("CI");
    if let Some(ci) = ci {
        command.env("CI", ci);
    }
    command.output().unwrap()
}

fn cargo_calls(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("cargo.log"))
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_fresh_machine_runs_the_workspace_tests_and_says_what_it_left_out() {
    let dir = tempfile::tempdir().unwrap();
    machine(dir.path(), &["valgrind"]);
    let out = xtask_test(dir.path(), None);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert_eq!(cargo_calls(dir.path()), ["test --workspace --locked skip="]);
    let last = stdout.lines().rev().take(2).collect::<Vec<_>>().join("\n");
    assert!(
        last.contains("the HTML report's browser tests")
            && last.contains("`chromium` does not run here"),
        "{stdout}"
    );
}

#[test]
fn with_chromium_the_browser_tests_run_too_and_without_valgrind_its_tests_skip() {
    let dir = tempfile::tempdir().unwrap();
    machine(dir.path(), &["chromium"]);
    let out = xtask_test(dir.path(), None);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert_eq!(
        cargo_calls(dir.path()),
        [
            "test --workspace --locked skip=1",
            "test -p xtask --test browser --locked -- --ignored skip=1"
        ]
    );
    assert!(stdout.contains("the instruction-count tests"), "{stdout}");
}

#[test]
fn ci_refuses_to_leave_anything_out_before_running_a_test() {
    let dir = tempfile::tempdir().unwrap();
    machine(dir.path(), &["valgrind"]);
    let out = xtask_test(dir.path(), Some("true"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("CI=true") && stderr.contains("chromium"),
        "{stderr}"
    );
    assert!(cargo_calls(dir.path()).is_empty());
    // Real-time priority is one of the tools CI needs.
    machine(dir.path(), &["valgrind", "chromium"]);
    let out = xtask_test(dir.path(), Some("true"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("`chrt -f 1`"), "{stderr}");
    assert!(cargo_calls(dir.path()).is_empty());
    // With every tool there, CI runs all three.
    machine(dir.path(), &["valgrind", "chromium", "chrt"]);
    let out = xtask_test(dir.path(), Some("true"));
    assert!(out.status.success());
    assert_eq!(cargo_calls(dir.path()).len(), 3);
    assert!(String::from_utf8_lossy(&out.stdout).contains("every test runs"));
}

#[test]
fn with_real_time_priority_the_counts_run_to_run_tests_run_too() {
    let dir = tempfile::tempdir().unwrap();
    machine(dir.path(), &["valgrind", "chromium", "chrt"]);
    let out = xtask_test(dir.path(), None);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert_eq!(
        cargo_calls(dir.path()),
        [
            "test --workspace --locked skip=",
            "test -p xtask --test browser --locked -- --ignored skip=",
            "test -p handoff-bench --test counters --locked -- --ignored skip=",
        ]
    );
    assert!(stdout.contains("every test runs"), "{stdout}");
}

#[test]
fn without_real_time_priority_the_summary_says_what_it_left_out() {
    let dir = tempfile::tempdir().unwrap();
    machine(dir.path(), &["valgrind", "chromium"]);
    let out = xtask_test(dir.path(), None);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert_eq!(
        cargo_calls(dir.path()),
        [
            "test --workspace --locked skip=",
            "test -p xtask --test browser --locked -- --ignored skip=",
        ]
    );
    assert!(
        stdout.contains("the counts' run-to-run tests")
            && stdout.contains("`chrt -f 1` does not run here"),
        "{stdout}"
    );
}

//! Serve mode (`--serve`, `src/serve.rs`): the protocol the xtask's lock-step sampling
//! drives, end to end with the real binary.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use serde_json::Value;

/// Starts `handoff-bench --serve --only ID`, writes `input`, returns its exit code, its
/// stdout lines and its stderr.
fn serve(id: &str, input: &str) -> (Option<i32>, Vec<String>, String) {
    serve_with(id, &[], input)
}

/// [`serve`] with more flags.
fn serve_with(id: &str, flags: &[&str], input: &str) -> (Option<i32>, Vec<String>, String) {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin!("handoff-bench"))
        .args(flags)
        .args([
            "--serve",
            "--only",
            id,
            "--warm-up-ms",
            "5",
            "--format",
            "json",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let lines = output.stdout.lines().map(Result::unwrap).collect();
    (
        output.status.code(),
        lines,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn the_real_crates_serve_sql_windows_on_one_database() {
    // Lock-step sampling runs a peer like any configuration: set up once (the database is
    // created before the first window), then one window per command.
    for id in ["tokio-current/async-sqlite", "tokio-multi/deadpool-sqlite"] {
        let (code, lines, stderr) = serve_with(
            id,
            &["--work", "sql-write", "--in-flight", "4"],
            "200\n50\nquit\n",
        );
        assert_eq!(code, Some(0), "{id}: {stderr}");
        assert_eq!(lines.len(), 3, "{id}: {lines:?}");
        for (line, count) in lines[1..].iter().zip([200, 50]) {
            let row: Value = serde_json::from_str(line).unwrap();
            assert_eq!(
                (row["id"].as_str(), row["count"].as_u64()),
                (Some(id), Some(count))
            );
            assert_eq!(row["work"], "sql-write");
        }
    }
}

#[test]
fn every_command_gets_one_window_of_that_many_calls_in_order() {
    for id in ["tokio-current/dedicated", "smol/to-thread", "floor/park"] {
        let (code, lines, stderr) = serve(id, "300\n1000\n7\nquit\n");
        assert_eq!(code, Some(0), "{id}: {stderr}");
        assert_eq!(lines.len(), 4, "{id}: {lines:?}");
        let ready: Value = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(ready, serde_json::json!({ "ready": id }));
        for (slice, (line, count)) in lines[1..].iter().zip([300, 1000, 7]).enumerate() {
            let row: Value = serde_json::from_str(line).unwrap();
            assert_eq!(row["id"], id);
            assert_eq!(row["count"], count, "{line}");
            assert_eq!(row["slice"], slice, "{line}");
            assert!(row["wall_ns"].as_u64().unwrap() > 0, "{line}");
        }
    }
}

#[test]
fn the_end_of_input_ends_the_run_like_quit() {
    let (code, lines, stderr) = serve("tokio-current/dedicated-block", "50\n");
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(lines.len(), 2, "{lines:?}");
}

#[test]
fn a_line_that_is_not_a_command_is_named_and_exits_2() {
    let (code, lines, stderr) = serve("floor/spin", "10\nten\n20\n");
    assert_eq!(code, Some(2));
    // The window before the bad line ran; none after it.
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        stderr.contains("input line 2 is \"ten\""),
        "stderr: {stderr}"
    );
    let (code, _, stderr) = serve("floor/spin", "0\n");
    assert_eq!(code, Some(2));
    assert!(stderr.contains("input line 1 is \"0\""), "stderr: {stderr}");
}

#[test]
fn serve_refuses_more_than_one_configuration() {
    let output = Command::new(assert_cmd::cargo::cargo_bin!("handoff-bench"))
        .args(["--serve", "--only", "floor/*"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--serve runs one configuration"),
        "{stderr}"
    );
    // Nothing was served.
    assert!(BufReader::new(&output.stdout[..]).lines().next().is_none());
}

//! The binary's command-line interface: flags, exit statuses and the JSON line.

use assert_cmd::Command;
use predicates::prelude::*;

fn bench() -> Command {
    Command::cargo_bin("handoff-bench").unwrap()
}

#[test]
fn list_prints_every_id_in_report_order() {
    let output = bench().arg("--list").output().unwrap();
    assert!(output.status.success());
    let ids: Vec<String> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    let handoffs = [
        "to-thread",
        "dedicated",
        "dedicated-block",
        "dedicated-spin",
        "dedicated-busypoll",
        "crossbeam-oneshot",
        "flume-oneshot",
        "pool-mutex",
        "dedicated-pool",
        "tokio-rusqlite",
        "async-sqlite",
        "async-sqlite-pool",
        "deadpool-sqlite",
        "handoff-sqlite",
        "handoff-sqlite-batched",
    ];
    let mut expected: Vec<String> = ["tokio-current", "tokio-multi", "async-std", "smol"]
        .iter()
        .flat_map(|runtime| {
            handoffs
                .iter()
                // deadpool runs on tokio and async-std only.
                .filter(move |handoff| !(*runtime == "smol" && **handoff == "deadpool-sqlite"))
                .map(move |handoff| format!("{runtime}/{handoff}"))
        })
        .collect();
    expected.extend(["floor/spin".to_owned(), "floor/park".to_owned()]);
    assert_eq!(ids, expected);
}

#[test]
fn list_honours_only() {
    bench()
        .args(["--list", "--only", "floor/*"])
        .assert()
        .success()
        .stdout("floor/spin\nfloor/park\n");
}

#[test]
fn json_is_one_object_per_line_and_nothing_else() {
    let output = bench()
        .args([
            "--format",
            "json",
            "--count",
            "100",
            "--only",
            "floor/*",
            "--only",
            "smol/to-thread",
        ])
        .output()
        .unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    let ids: Vec<String> = stdout
        .lines()
        .map(|line| {
            serde_json::from_str::<serde_json::Value>(line).expect("every line is JSON")["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(ids, ["smol/to-thread", "floor/spin", "floor/park"]);
}

#[test]
fn table_has_python_async_benchs_columns_and_a_row_per_configuration() {
    let output = bench()
        .args(["--count", "100", "--only", "floor/*"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    let mut lines = stdout.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(
        &header[..5],
        ["Framework", "Wall", "CpuTotal", "CpuEvtLoop", "CpuWorker"]
    );
    assert!(lines.next().unwrap().starts_with("floor/spin "));
    let park: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(park[0], "floor/park");
    assert_eq!(park[7], "1.00", "the park floor is 1.00x itself");
}

#[test]
fn an_only_matching_nothing_exits_2_and_names_the_pattern() {
    bench()
        .args(["--only", "nope/*"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--only 'nope/*' matches no configuration",
        ));
}

#[test]
fn bad_flags_exit_2_and_name_the_problem() {
    bench()
        .arg("--frobnicate")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--frobnicate"));
    bench().args(["--work", "nap"]).assert().code(2).stderr(
        predicate::str::contains("--work").and(predicate::str::contains("unknown work `nap`")),
    );
    bench()
        .args(["--count", "0"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--count"));
    bench()
        .args(["--in-flight", "x"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--in-flight"));
    bench()
        .args(["--format", "xml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--format"));
}

#[test]
fn capabilities_name_every_flag_the_binary_accepts_and_every_work_kind_parses() {
    let output = bench().arg("--capabilities").output().unwrap();
    assert!(output.status.success());
    let capabilities: handoff_protocol::Capabilities =
        serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        capabilities,
        handoff_protocol::Capabilities::of_this_version()
    );
    let help = String::from_utf8(bench().arg("--help").output().unwrap().stdout).unwrap();
    for flag in &capabilities.flags {
        assert!(help.contains(flag.as_str()), "--help lacks {flag}");
    }
    // Every kind `--help` lists is accepted, as its example.
    for kind in handoff_protocol::work::KINDS {
        assert!(help.contains(kind.syntax), "--help lacks {}", kind.syntax);
        bench()
            .args(["--work", kind.example, "--list"])
            .assert()
            .success();
    }
    let short = String::from_utf8(bench().arg("-h").output().unwrap().stdout).unwrap();
    assert!(short.contains("[possible values: table, json]"), "{short}");
    assert!(
        short.contains("zero, yield, spin:NS, sleep:US, loops:N, sql-read or sql-write"),
        "{short}"
    );
}

//! The real `xtask` binary's help: `bench` and `calibrate` list the same run options with
//! the same defaults, rendered alike, and both reject an out-of-range run flag as bad usage.

use assert_cmd::Command;

fn help(command: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args([command, "--help"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{command} --help: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// The "Run options:" section, up to the next blank line before a heading or the end.
fn run_options(help: &str) -> String {
    let start = help.find("Run options:").expect("a Run options section");
    let section = &help[start..];
    let end = section
        .match_indices("\n\n")
        .map(|(i, _)| i)
        .find(|&i| !section[i + 2..].starts_with(' '))
        .unwrap_or(section.len());
    section[..end].trim_end().to_owned()
}

#[test]
fn bench_and_calibrate_help_list_the_same_run_options() {
    let bench = run_options(&help("bench"));
    let calibrate = run_options(&help("calibrate"));
    assert_eq!(bench, calibrate);
    for flag in [
        "--count <N>",
        "[default: 10000]",
        "--work <SPEC>",
        "[default: zero]",
        "--in-flight <K>",
        "--only <GLOB>",
        "--no-pin",
        "--timeout <SECONDS>",
        "[default: 120]",
    ] {
        assert!(bench.contains(flag), "{flag} missing from:\n{bench}");
    }
    // Hidden test hooks stay hidden.
    assert!(!bench.contains("--bench-bin") && !bench.contains("--workspace"));
}

#[test]
fn an_out_of_range_run_flag_is_bad_usage_in_both() {
    for command in ["bench", "calibrate"] {
        for (flag, value) in [("--count", "0"), ("--in-flight", "0"), ("--timeout", "0")] {
            Command::new(env!("CARGO_BIN_EXE_xtask"))
                .args([command, flag, value])
                .env_remove("HANDOFF_BENCH_BIN")
                .assert()
                .code(2)
                .stderr(predicates::str::contains(format!("'{flag} <")));
        }
    }
}

/// `--help` of every subcommand lists every value its flags accept, from the types that
/// parse them, and each listed value parses.
#[test]
fn help_lists_every_accepted_value_and_each_parses() {
    let bench = help("bench");
    let metrics = xtask::model::metric::Metric::cli_names();
    assert!(
        bench.contains(&metrics),
        "--gate's metrics missing:\n{bench}"
    );
    let kinds = handoff_protocol::work::kinds_sentence();
    assert!(bench.contains(&kinds), "--work's kinds missing:\n{bench}");
    for (flag, values) in [
        ("--sampling", "[possible values: processes, lockstep]"),
        ("--estimator", "[possible values: mean, hodges-lehmann]"),
    ] {
        let short = String::from_utf8(
            Command::new(env!("CARGO_BIN_EXE_xtask"))
                .args(["bench", "-h"])
                .output()
                .unwrap()
                .stdout,
        )
        .unwrap();
        assert!(short.contains(values), "{flag}: {short}");
    }
    // Each listed value is accepted: a run that fails later (no binary) but not as bad usage
    // of these flags.
    let accepted = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args([
                "bench",
                "--no-baseline",
                "--bench-bin",
                "/nonexistent/bench",
            ])
            .args(args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!stderr.contains("invalid value"), "{args:?}: {stderr}");
        assert!(!stderr.contains("unknown metric"), "{args:?}: {stderr}");
    };
    for metric in metrics.split(", ") {
        accepted(&["--gate", &format!("{metric}:3")]);
    }
    for kind in handoff_protocol::work::KINDS {
        accepted(&["--work", kind.example]);
    }
    for sampling in ["processes", "lockstep"] {
        accepted(&["--sampling", sampling]);
    }
    for estimator in ["mean", "hodges-lehmann"] {
        accepted(&["--estimator", estimator]);
    }
    for (flag, bad) in [("--gate", "cycles"), ("--work", "nap")] {
        let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(["bench", "--no-baseline", flag, bad])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{flag} {bad}");
    }
}

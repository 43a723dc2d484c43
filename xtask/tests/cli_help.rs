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

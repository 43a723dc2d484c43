//! The real `handoff-bench` binary, built by cargo, feeds the xtask's parser: every line it
//! prints for a few configurations (floors included) is a `Measurement` the xtask accepts.
//!
//! The binary belongs to another package of the workspace, so this test cannot name it with
//! `CARGO_BIN_EXE_*` (or `assert_cmd`'s `cargo_bin`, which looks in this package's target
//! directory only). It runs `$CARGO build --release --bin handoff-bench` itself, as
//! `cargo xtask bench` does, and takes the executable's path from cargo's JSON messages:
//! the build is always of this checkout (never a stale binary left under `target/`), and
//! the path is wherever cargo put it (`CARGO_TARGET_DIR`, `build.target-dir`). The release
//! build is the one the xtask measures, and it is shared with `cargo xtask bench`.

use std::collections::BTreeSet;

#[path = "comment_support/results.rs"]
mod results;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;
use xtask::model::measurement::Measurement;

/// The configurations run: both floors, python-async-bench's dedicated worker, a runtime's own pool.
const IDS: [&str; 4] = [
    "tokio-current/dedicated",
    "smol/to-thread",
    "floor/spin",
    "floor/park",
];
const COUNT: u64 = 200;

/// Builds the release benchmark binary of this workspace and returns its path.
fn build_handoff_bench() -> PathBuf {
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

#[test]
fn every_line_of_the_real_binary_parses_as_a_measurement() {
    let bench = build_handoff_bench();
    let count = COUNT.to_string();
    let mut cmd = Command::new(&bench);
    cmd.args(["--format", "json", "--count", &count]);
    for id in IDS {
        cmd.args(["--only", id]);
    }
    let output = cmd.stdin(Stdio::null()).output().unwrap();
    assert!(
        output.status.success(),
        "{}: {}\n{}",
        bench.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let measurements: Vec<Measurement> = stdout
        .lines()
        .map(|line| {
            Measurement::parse_line(line)
                .unwrap_or_else(|e| panic!("the xtask cannot read {line}: {e}"))
        })
        .collect();
    let ids: BTreeSet<&str> = measurements.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(
        ids,
        BTreeSet::from(IDS),
        "one line per configuration asked for"
    );
    assert_eq!(measurements.len(), IDS.len());
    for m in &measurements {
        assert_eq!(m.count, COUNT, "{}", m.id);
        assert_eq!(m.id, format!("{}/{}", m.runtime, m.handoff));
        assert!(!m.pinned(), "{}: not asked to pin", m.id);
        assert!(m.wall_ns > 0, "{}: a window that took no time", m.id);
    }
}

/// Whether valgrind can be run here (CI installs it; `.ci/run`).
fn valgrind_installed() -> bool {
    Command::new("valgrind")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

#[test]
fn the_gate_runs_the_real_crates_on_sql_work_with_counters() {
    // The real SQLite crates are configurations like any other: fresh processes, counters
    // under callgrind, a result file. `--only` brings them in (the default suite leaves them
    // out).
    let bench = build_handoff_bench();
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results.json");
    let ids = [
        "tokio-current/tokio-rusqlite",
        "tokio-current/deadpool-sqlite",
    ];
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xtask"));
    cmd.arg("bench")
        .arg("--bench-bin")
        .arg(&bench)
        .args(["--work", "sql-read", "--runs", "2", "--count", "200"])
        .args(["--no-baseline", "--json"])
        .arg(&results);
    let counting = valgrind_installed();
    if counting {
        cmd.args([
            "--counters",
            "--counter-runs",
            "2",
            "--counter-count",
            "100",
        ]);
    } else {
        cmd.arg("--no-counters");
    }
    for id in ids {
        cmd.args(["--only", id]);
    }
    let output = cmd.stdin(Stdio::null()).output().unwrap();
    assert!(
        output.status.success(),
        "{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let file: Value = serde_json::from_str(&std::fs::read_to_string(&results).unwrap()).unwrap();
    let text = file.to_string();
    for id in ids {
        assert!(
            text.contains(&format!("\"{id}\"")),
            "{id} missing from {text}"
        );
    }
    assert!(
        text.contains("\"sql-read\""),
        "the work is recorded: {text}"
    );
    if counting {
        // Instructions attributed to the connection's thread: a point read is thousands.
        let worker: Vec<f64> = file["configurations"]
            .as_array()
            .expect("a configurations array")
            .iter()
            .filter_map(|row| row.pointer("/summary/instructions_worker_per_call/median"))
            .filter_map(Value::as_f64)
            .collect();
        assert_eq!(
            worker.len(),
            ids.len(),
            "counts per configuration in {text}"
        );
        assert!(
            worker.iter().all(|&per_call| per_call > 1_000.0),
            "{worker:?}"
        );
    }
}

/// The flags `docs/book/src/report.md` gives for Debian's headless Chromium.
const CHROMIUM: [&str; 7] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];

/// Runs Chromium on `page` with `args`; returns its stderr (console messages included).
fn chromium(page: &Path, args: &[&str], profile: &Path) -> (Vec<u8>, String) {
    let output = Command::new("chromium")
        .args(CHROMIUM)
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--enable-logging=stderr", "--v=0"])
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .output()
        .expect("chromium is not installed: `apt-get install -y chromium` (.ci/run does)");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    (
        output.stdout,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The page's console errors and uncaught exceptions, as Chromium logs them.
fn console_errors(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught"))
        .collect()
}

/// `cargo xtask report RESULTS --out PAGE`, checked to succeed.
fn xtask_report(results: &Path, page: &Path) {
    let report = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("report")
        .arg(results)
        .arg("--out")
        .arg(page)
        .output()
        .unwrap();
    assert!(
        report.status.success(),
        "{}",
        String::from_utf8_lossy(&report.stderr)
    );
}

/// The `<section>` of chart `id` in a page's DOM.
fn chart_section<'a>(dom: &'a str, id: &str) -> &'a str {
    let at = dom
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no chart {id}"));
    &dom[at..at + dom[at..].find("</section>").unwrap()]
}

#[test]
fn the_html_report_of_a_real_run_renders_in_headless_chromium() {
    let bench = build_handoff_bench();
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results.json");
    let page = dir.path().join("report.html");
    let run = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("bench")
        .arg("--bench-bin")
        .arg(&bench)
        .args([
            "--runs",
            "3",
            "--count",
            "300",
            "--no-baseline",
            "--no-counters",
        ])
        .args([
            "--only",
            "floor/*",
            "--only",
            "tokio-current/dedicated*",
            "--json",
        ])
        .arg(&results)
        .arg("--html")
        .arg(&page)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    // `cargo xtask report` makes the same page from the result file.
    let again = dir.path().join("again.html");
    xtask_report(&results, &again);
    assert_eq!(
        std::fs::read_to_string(&again).unwrap(),
        std::fs::read_to_string(&page).unwrap()
    );

    let profile = dir.path().join("profile");
    // The console check can fail: a page that logs an error is caught.
    let control = dir.path().join("control.html");
    std::fs::write(
        &control,
        "<!DOCTYPE html><script>console.error('control')</script>",
    )
    .unwrap();
    let (_, stderr) = chromium(&control, &["--dump-dom"], &profile);
    assert!(
        !console_errors(&stderr).is_empty(),
        "the control page's error was not seen:\n{stderr}"
    );

    let (dom, stderr) = chromium(&page, &["--dump-dom"], &profile);
    assert_eq!(console_errors(&stderr), Vec::<&str>::new(), "{stderr}");
    let dom = String::from_utf8(dom).unwrap();
    for id in ["strip-wall", "strip-cpu-total", "strip-vcsw"] {
        let section = chart_section(&dom, id);
        assert!(section.contains("<svg"), "{id}: no SVG");
        // Three runs of each of the six configurations: a dot per run.
        assert!(
            section.matches("<circle").count() >= 18,
            "{id}: the dots are missing"
        );
        for config in ["floor/park", "floor/spin", "tokio-current/dedicated-block"] {
            assert!(section.contains(config), "{id}: no row for {config}");
        }
    }
    // Kept as an artifact of the test run.
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/xtask-report");
    std::fs::create_dir_all(&shots).unwrap();
    let screenshot = shots.join("report.png");
    let _ = std::fs::remove_file(&screenshot);
    chromium(
        &page,
        &[
            "--window-size=1000,1400",
            &format!("--screenshot={}", screenshot.display()),
        ],
        &profile,
    );
    let png = std::fs::read(&screenshot).expect("the screenshot was written");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "{} bytes",
        png.len()
    );
}

#[test]
fn a_paired_reports_forest_plot_and_blocks_render_in_headless_chromium() {
    // A paired result file (one configuration 30% slower on the head): its page adds the
    // forest plot, the regression in red, and the per-block changes.
    let dir = tempfile::tempdir().unwrap();
    let file = results::write(
        dir.path(),
        &results::paired(&["floor/park", "smol/dedicated"], 6),
    );
    let page = dir.path().join("paired.html");
    xtask_report(&file, &page);
    let (dom, stderr) = chromium(&page, &["--dump-dom"], &dir.path().join("profile"));
    assert_eq!(console_errors(&stderr), Vec::<&str>::new(), "{stderr}");
    let dom = String::from_utf8(dom).unwrap();
    let forest = chart_section(&dom, "forest");
    assert!(forest.contains("floor/park_wall"), "a row per gated pair");
    // plotters writes the regression's colour, rgb(200,30,30), as #C81E1E.
    assert!(
        forest.to_uppercase().contains("#C81E1E"),
        "the regression is red"
    );
    let blocks = chart_section(&dom, "blocks");
    // Six blocks of two configurations: a dot per block.
    assert!(blocks.matches("<circle").count() >= 12, "{blocks}");
}

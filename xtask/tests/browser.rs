//! The HTML report in a real browser: Debian's headless Chromium opens the page of a real
//! run and of a paired result file, with no console error and every chart present.
//!
//! Chromium is not on a fresh machine (valgrind is), so these tests are ignored by default
//! with their reason, which `cargo test` prints; `cargo xtask test` runs them whenever
//! Chromium works, and under `CI=true` refuses to leave them out.

#[path = "support/bench_binary.rs"]
mod bench_binary;
#[path = "comment_support/results.rs"]
mod results;

use std::path::Path;
use std::process::{Command, Stdio};

use bench_binary::build_handoff_bench;

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
    // The variable `cargo xtask test` also reads (GitHub's runner names its Chrome there).
    let browser = std::env::var_os("HANDOFF_BENCH_CHROMIUM").unwrap_or_else(|| "chromium".into());
    let output = Command::new(browser)
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
#[ignore = "needs Debian's chromium (apt-get install -y chromium); `cargo xtask test` runs it when Chromium works"]
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
#[ignore = "needs Debian's chromium (apt-get install -y chromium); `cargo xtask test` runs it when Chromium works"]
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

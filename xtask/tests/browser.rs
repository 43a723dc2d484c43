//! The HTML report in a real browser: Debian's headless Chromium opens the page of a real
//! run and of a paired result file, with no console error and every chart present; and, in
//! a 1280-pixel window, the page of a paired run whose head added a function on the worker
//! thread: the verdict first, the added function red in the worker's flame graph, and every
//! text at least 11 pixels as rendered (a check that fails on two control pages).
//!
//! Chromium is not on a fresh machine (valgrind is), so these tests are ignored by default
//! with their reason, which `cargo test` prints; `cargo xtask test` runs them whenever
//! Chromium works, and under `CI=true` refuses to leave them out.

#[path = "support/bench_binary.rs"]
mod bench_binary;
#[path = "comment_support/results.rs"]
mod results;
#[path = "sandbox/mod.rs"]
mod sandbox;

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
    assert!(
        forest.contains("floor/park wall"),
        "a group per configuration"
    );
    // plotters writes the regression's colour, rgb(200,30,30), as #C81E1E.
    assert!(
        forest.to_uppercase().contains("#C81E1E"),
        "the regression is red"
    );
    let blocks = chart_section(&dom, "blocks");
    // Six blocks of two configurations: a dot per block.
    assert!(blocks.matches("<circle").count() >= 12, "{blocks}");
}

/// Measures every visible text of the page as rendered and writes the result into the page
/// as `<pre id="text-check">` (JSON), for `--dump-dom` to carry out. Added by the test only:
/// the report itself has no script.
///
/// An SVG text's rendered size is its computed font size (in the SVG's user units) times
/// the scale from user units to the screen: the rendered box (`getBoundingClientRect`, CSS
/// pixels) over the box in user units (`getBBox`), by area, so a rotated label counts too.
/// The computed size alone would miss a `viewBox` that shrinks the drawing. An HTML text's
/// scale is its element's rendered width over its layout width (a CSS transform).
const TEXT_CHECK: &str = r#"<script>
(function () {
  const MIN = 11;
  const small = [];
  let checked = 0;
  const shown = (r) => r.width > 0 && r.height > 0;
  for (const el of document.querySelectorAll('svg text')) {
    if (!el.textContent.trim()) continue;
    const r = el.getBoundingClientRect();
    const b = el.getBBox();
    if (!shown(r) || b.width <= 0 || b.height <= 0) continue;
    const scale = Math.sqrt((r.width * r.height) / (b.width * b.height));
    const px = parseFloat(getComputedStyle(el).fontSize) * scale;
    checked++;
    if (px < MIN - 0.05) small.push([el.textContent.slice(0, 40), Math.round(px * 10) / 10]);
  }
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const el = node.parentElement;
    if (!node.textContent.trim() || el.closest('svg, script, style')) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    if (!shown(range.getBoundingClientRect())) continue;
    const box = el.getBoundingClientRect();
    const scale = el.offsetWidth > 0 ? box.width / el.offsetWidth : 1;
    const px = parseFloat(getComputedStyle(el).fontSize) * scale;
    checked++;
    if (px < MIN - 0.05) small.push([node.textContent.trim().slice(0, 40), Math.round(px * 10) / 10]);
  }
  const out = document.createElement('pre');
  out.id = 'text-check';
  out.textContent = JSON.stringify({ width: window.innerWidth, checked, small: small.length, examples: small.slice(0, 8) });
  document.body.appendChild(out);
})();
</script>"#;

/// What [`TEXT_CHECK`] found on a page.
#[derive(Debug, serde::Deserialize)]
struct TextCheck {
    width: u32,
    checked: u32,
    small: u32,
    examples: Vec<(String, f64)>,
}

/// Opens `page` with [`TEXT_CHECK`] added in a 1280-pixel-wide window; returns what it found
/// and the page's console errors.
fn check_text(page: &Path, profile: &Path) -> (TextCheck, Vec<String>) {
    let html = std::fs::read_to_string(page).unwrap();
    let at = html.rfind("</body>").expect("a body");
    let checked = page.with_extension("checked.html");
    std::fs::write(
        &checked,
        format!("{}{TEXT_CHECK}{}", &html[..at], &html[at..]),
    )
    .unwrap();
    let (dom, stderr) = chromium(&checked, &["--window-size=1280,900", "--dump-dom"], profile);
    let dom = String::from_utf8(dom).unwrap();
    let start = dom.find("<pre id=\"text-check\">").expect("the check ran") + 21;
    let json = &dom[start..start + dom[start..].find("</pre>").unwrap()];
    let json = json
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    let errors = console_errors(&stderr)
        .into_iter()
        .map(str::to_owned)
        .collect();
    (serde_json::from_str(&json).unwrap(), errors)
}

/// A paired run of the fake benchmark whose head counts the real dumps of a binary that runs
/// `handoff_bench::work::busy_loops` on the worker thread (`tests/fixtures/callgrind/`), and
/// its page drawn by `cargo xtask report`.
fn page_of_an_added_worker_function(sb: &sandbox::Sandbox) -> std::path::PathBuf {
    let dumps = |name: &str| {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/callgrind")
            .join(name)
    };
    let base = sb.base_wrapper(&[
        ("FAKE_BENCH_DUMPS", dumps("dedicated").to_str().unwrap()),
        ("FAKE_BENCH_INSTRUCTIONS", ""),
    ]);
    let json = sb.path("run.json");
    sb.xtask(&[
        "bench",
        "--against",
        "HEAD",
        "--min-blocks",
        "4",
        "--count",
        "1000",
        "--counters",
        "--counter-runs",
        "2",
        "--counter-count",
        "200",
        "--json",
    ])
    .arg(&json)
    .env_remove("HANDOFF_BENCH_NO_COUNTERS")
    .env("HANDOFF_BENCH_CALLGRIND_LAUNCH", "env")
    .env("HANDOFF_BENCH_BASE_BIN", &base)
    .env(
        "FAKE_BENCH_IDS",
        "floor/park,floor/spin,tokio-current/dedicated",
    )
    .env("FAKE_BENCH_DUMPS", dumps("dedicated-loops"))
    .env("FAKE_BENCH_INSTRUCTIONS", "tokio-current/dedicated=1.05")
    .assert()
    .success();
    let page = sb.path("page.html");
    xtask_report(&json, &page);
    page
}

#[test]
#[ignore = "needs Debian's chromium (apt-get install -y chromium); `cargo xtask test` runs it when Chromium works"]
fn a_paired_page_reads_at_1280_px_verdict_first_added_function_red() {
    let sb = sandbox::Sandbox::new();
    let page = page_of_an_added_worker_function(&sb);
    let profile = sb.path("profile");
    let (dom, stderr) = chromium(&page, &["--window-size=1280,900", "--dump-dom"], &profile);
    assert_eq!(console_errors(&stderr), Vec::<&str>::new(), "{stderr}");
    let dom = String::from_utf8(dom).unwrap();
    // The verdict, then the changed configurations' table, then the charts.
    let at = |needle: &str| {
        dom.find(needle)
            .unwrap_or_else(|| panic!("{needle} missing"))
    };
    assert!(at("class=\"verdict") < at("class=\"changed\""));
    assert!(at("class=\"changed\"") < at("id=\"forest\""));
    let function = "handoff_bench::work::busy_loops";
    assert!(
        at(function) < at("id=\"forest\""),
        "named on the first screen"
    );
    // The worker's flame graph is open and its frame of the added function red.
    let worker = at("worker threads (count changed)");
    let frame = worker + dom[worker..].find(&format!("<title>{function} (")).unwrap();
    let fill = &dom[frame..][dom[frame..].find("fill=\"").unwrap() + 6..];
    assert!(fill.starts_with("rgb(255,"), "{}", &fill[..20]);

    // Every text at least 11 px as rendered in a 1280-pixel window.
    let (check, errors) = check_text(&page, &profile);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(check.width, 1280, "the window's width");
    assert!(check.checked > 200, "{check:?}");
    assert_eq!(check.small, 0, "texts under 11 px: {:?}", check.examples);

    // The check fails on the same page with 8-pixel chart labels ...
    let html = std::fs::read_to_string(&page).unwrap();
    let small_labels = sb.path("small-labels.html");
    std::fs::write(
        &small_labels,
        html.replace(
            "</head>",
            "<style>svg text{font-size:8px !important}</style></head>",
        ),
    )
    .unwrap();
    let (check, _) = check_text(&small_labels, &profile);
    assert!(check.small > 100, "8-px labels not found: {check:?}");
    assert!(
        check.examples.iter().all(|(_, px)| (*px - 8.0).abs() < 0.5),
        "{check:?}"
    );
    // ... and on a chart whose viewBox halves its 16-px labels (computed size 16 px).
    let scaled = sb.path("scaled.html");
    std::fs::write(
        &scaled,
        "<!DOCTYPE html><html><body><p>Readable text.</p>\
         <svg width=\"600\" height=\"50\" viewBox=\"0 0 1200 100\">\
         <text x=\"10\" y=\"60\" font-size=\"16\">a label drawn at half size</text></svg>\
         </body></html>",
    )
    .unwrap();
    let (check, _) = check_text(&scaled, &profile);
    assert_eq!((check.checked, check.small), (2, 1), "{check:?}");
    assert!((check.examples[0].1 - 8.0).abs() < 0.5, "{check:?}");

    // Kept as artifacts of the test run: the first screen, and the changed configuration's
    // details (the page scrolled to its anchor).
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/xtask-report");
    std::fs::create_dir_all(&shots).unwrap();
    for (name, fragment) in [
        ("paired-first-screen.png", ""),
        (
            "paired-flame-graph.png",
            "#config-2-tokio-current-dedicated",
        ),
    ] {
        let screenshot = shots.join(name);
        let _ = std::fs::remove_file(&screenshot);
        let target = Path::new(&format!("{}{fragment}", page.display())).to_owned();
        chromium(
            &target,
            &[
                "--window-size=1280,900",
                &format!("--screenshot={}", screenshot.display()),
            ],
            &profile,
        );
        let png = std::fs::read(&screenshot).expect("the screenshot was written");
        assert!(png.starts_with(b"\x89PNG"), "{name}");
    }
}

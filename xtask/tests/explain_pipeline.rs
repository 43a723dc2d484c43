//! What the gate found and where, end to end: counting runs that leave real callgrind dumps
//! (`tests/fixtures/callgrind/`, planted by the fake benchmark), their per-function profiles
//! in the result file, the explanation on the comment's first screen, the dependency
//! changes in its header, and `cargo xtask explain` in the terminal.

mod sandbox;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use sandbox::{Sandbox, read_json};

/// A folder of real dumps of `tokio-current/dedicated` at `--count 200`.
fn dumps(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/callgrind")
        .join(name)
}

/// The workspace's own `Cargo.lock` with tokio one patch release older: the base's.
fn older_tokio_lockfile(sb: &Sandbox) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).unwrap();
    let entry = "name = \"tokio\"\nversion = \"";
    let at = lock.find(entry).unwrap() + entry.len();
    let end = at + lock[at..].find('"').unwrap();
    let older = format!("{}0.0.1{}", &lock[..at], &lock[end..]);
    let path = sb.path("base.lock");
    std::fs::write(&path, older).unwrap();
    path
}

/// A paired run with counts: the base counts `base_dumps`, the head `head_dumps` with its
/// instruction counts of `tokio-current/dedicated` multiplied by `factor`.
fn paired(
    sb: &Sandbox,
    base_dumps: &str,
    head_dumps: &str,
    factor: &str,
) -> (serde_json::Value, String) {
    let base = sb.base_wrapper(&[
        ("FAKE_BENCH_DUMPS", dumps(base_dumps).to_str().unwrap()),
        ("FAKE_BENCH_INSTRUCTIONS", ""),
    ]);
    let (json, markdown) = (sb.path("p.json"), sb.path("p.md"));
    sb.xtask(&[
        "bench",
        "--against",
        "HEAD",
        "--min-blocks",
        "2",
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
    .arg("--markdown")
    .arg(&markdown)
    .env_remove("HANDOFF_BENCH_NO_COUNTERS")
    .env("HANDOFF_BENCH_CALLGRIND_LAUNCH", "env")
    .env("HANDOFF_BENCH_BASE_BIN", &base)
    .env("HANDOFF_BENCH_BASE_LOCKFILE", older_tokio_lockfile(sb))
    .env("FAKE_BENCH_IDS", "floor/park,tokio-current/dedicated")
    .env("FAKE_BENCH_DUMPS", dumps(head_dumps))
    .env(
        "FAKE_BENCH_INSTRUCTIONS",
        format!("tokio-current/dedicated={factor}"),
    )
    .assert()
    .success();
    (
        read_json(&json),
        std::fs::read_to_string(&markdown).unwrap(),
    )
}

#[test]
fn a_function_added_on_the_worker_is_named_first_on_the_worker() {
    let sb = Sandbox::new();
    let (results, markdown) = paired(&sb, "dedicated", "dedicated-loops", "1.05");
    // Both sides' profiles are in the file, so the comment job can render from it alone.
    assert!(results["configurations"][0]["profile"]["roles"]["worker"].is_object());
    assert!(results["paired"]["base_profiles"]["tokio-current/dedicated"].is_object());
    let start = markdown.find("**What changed**").expect(&markdown);
    let end = start + markdown[start..].find("\nCompared with").expect(&markdown);
    let what = &markdown[start..end];
    let lines: Vec<&str> = what.lines().collect();
    let row = lines
        .iter()
        .position(|l| l.starts_with("- `tokio-current/dedicated`: code"))
        .expect(what);
    assert!(
        lines[row + 1].starts_with("  - worker: `handoff_bench::work::busy_loops` +7011"),
        "{what}"
    );
    assert!(lines[row + 1].contains("(new)"), "{}", lines[row + 1]);
    // floor/park's counts did not change: it lists no function.
    assert!(!what.contains("`floor/park`"), "{what}");
    // The dependency change is in the header.
    assert!(
        markdown.contains("**Dependencies** (`Cargo.lock`, base → head): `tokio` `0.0.1` → `"),
        "{markdown}"
    );
}

#[test]
fn an_a_a_run_lists_no_function_and_shows_what_each_row_could_confirm() {
    let sb = Sandbox::new();
    let (_, markdown) = paired(&sb, "dedicated", "dedicated", "1");
    assert!(!markdown.contains("**What changed**"), "{markdown}");
    assert!(!markdown.contains("instr/call ("), "{markdown}");
    assert!(markdown.contains("| Could confirm |"), "{markdown}");
    let rows: Vec<&str> = markdown
        .lines()
        .filter(|l| l.starts_with("| `floor/park` | ") && l.contains(" us | "))
        .collect();
    assert!(!rows.is_empty(), "{markdown}");
    assert!(
        rows.iter().all(|r| r.trim_end().ends_with("% |")),
        "{rows:?}"
    );
}

#[test]
fn explain_prints_the_breakdown_for_one_configuration() {
    let sb = Sandbox::new();
    let base = sb.base_wrapper(&[
        ("FAKE_BENCH_DUMPS", dumps("dedicated").to_str().unwrap()),
        ("FAKE_BENCH_INSTRUCTIONS", ""),
    ]);
    let out = sb
        .xtask(&[
            "explain",
            "tokio-current/dedicated",
            "--counter-runs",
            "2",
            "--counter-count",
            "200",
        ])
        .env_remove("HANDOFF_BENCH_NO_COUNTERS")
        .env("HANDOFF_BENCH_CALLGRIND_LAUNCH", "env")
        .env("HANDOFF_BENCH_BASE_BIN", &base)
        .env("FAKE_BENCH_DUMPS", dumps("dedicated-loops"))
        .env("FAKE_BENCH_INSTRUCTIONS", "tokio-current/dedicated=1.05")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.starts_with("tokio-current/dedicated: code"),
        "{stdout}"
    );
    let functions = &stdout[stdout.find("functions, by the change").expect(&stdout)..];
    let first = functions.lines().nth(1).expect(functions);
    assert!(
        first.trim_start().starts_with("worker")
            && first.contains("+7011")
            && first.contains("handoff_bench::work::busy_loops"),
        "{first}"
    );
    // Not a configuration: bad usage.
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["explain", "no/such", "--no-counters"])
        .env("HANDOFF_BENCH_BIN", sandbox::FAKE)
        .assert()
        .code(2);
}

/// The report page of the same run: the worker's flame graph shows the added function red,
/// and the first screen names it before any chart.
#[test]
fn the_report_page_draws_the_added_function_red_on_the_worker() {
    let sb = Sandbox::new();
    paired(&sb, "dedicated", "dedicated-loops", "1.05");
    let json = sb.path("p.json");
    let page = sb.path("page.html");
    sb.xtask(&["report"])
        .arg(&json)
        .arg("--out")
        .arg(&page)
        .assert()
        .success();
    let page = std::fs::read_to_string(&page).unwrap();
    let function = "handoff_bench::work::busy_loops";
    let first_chart = page.find("id=\"forest\"").expect("a forest plot");
    let named = page.find(function).expect("the function is named");
    assert!(named < first_chart, "named on the first screen");
    let worker = page
        .find("worker threads (count changed)")
        .expect("the worker's flame graph, open");
    let frame = worker
        + page[worker..]
            .find(&format!("<title>{function} ("))
            .expect("a frame of the added function");
    let rest = &page[frame..];
    let fill = &rest[rest.find("fill=\"").unwrap() + 6..];
    let fill = &fill[..fill.find('"').unwrap()];
    assert!(fill.starts_with("rgb(255,"), "{fill}");
    let channels: Vec<u8> = fill[4..fill.len() - 1]
        .split(',')
        .map(|c| c.parse().unwrap())
        .collect();
    assert!(
        channels[1] == channels[2] && channels[1] < 250,
        "red: {fill}"
    );
    // floor/park did not change: no flame graph of its own.
    let park = page.find("id=\"config-0-floor-park\"").unwrap();
    let next = park + page[park..].find("</section>").unwrap();
    assert!(!page[park..next].contains("class=\"flame\""));
}

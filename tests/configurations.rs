//! Every configuration runs through the real binary with a small count, sequentially and
//! with 8 calls in flight, and reports a complete, self-consistent JSON line whose CPU
//! agrees with the kernel's process clock.

use assert_cmd::Command;
use serde_json::Value;

mod golden;

fn ids() -> Vec<String> {
    let output = Command::cargo_bin("handoff-bench")
        .unwrap()
        .arg("--list")
        .output()
        .unwrap();
    assert!(output.status.success());
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Runs every configuration with `args` and returns its JSON lines, checked to be one per
/// configuration in `--list` order.
fn run_every_configuration(args: &[&str]) -> Vec<Value> {
    let output = Command::cargo_bin("handoff-bench")
        .unwrap()
        .args(["--format", "json"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let reported: Vec<&str> = lines
        .iter()
        .map(|line| line["id"].as_str().unwrap())
        .collect();
    let only: Vec<&str> = args
        .windows(2)
        .filter(|pair| pair[0] == "--only")
        .map(|pair| pair[1])
        .collect();
    if only.is_empty() {
        assert_eq!(
            reported,
            ids(),
            "one line per configuration, in --list order"
        );
    }
    lines
}

fn field(line: &Value, name: &str) -> u64 {
    line[name]
        .as_u64()
        .unwrap_or_else(|| panic!("{}: {name} is not a number", line["id"]))
}

fn run_all(in_flight: u64, work: &str) {
    let count = 300;
    let in_flight_arg = in_flight.to_string();
    let lines = run_every_configuration(&[
        "--count",
        "300",
        "--in-flight",
        &in_flight_arg,
        "--work",
        work,
    ]);
    for line in &lines {
        let id = line["id"].as_str().unwrap();
        golden::assert_golden_shape(line, id);
        let number = |field: &str| {
            line[field]
                .as_u64()
                .unwrap_or_else(|| panic!("{id}: {field}"))
        };
        assert_eq!(number("schema"), 1);
        assert_eq!(number("count"), count, "{id}");
        assert_eq!(number("in_flight"), in_flight, "{id}");
        assert_eq!(line["work"], work, "{id}");
        assert_eq!(
            id,
            format!(
                "{}/{}",
                line["runtime"].as_str().unwrap(),
                line["handoff"].as_str().unwrap()
            )
        );
        assert!(number("wall_ns") > 0, "{id}: a window that took no time");
        // Every configuration really ran calls on a worker thread.
        assert!(
            number("cpu_worker_ns") > 0,
            "{id}: no CPU on a worker thread"
        );
    }
}

#[test]
fn every_configuration_s_threads_add_up_to_the_kernel_s_process_clock() {
    // `cpu_total_ns` is the sum of the threads the attribution saw; the kernel's process
    // clock counts every thread, exited ones included. A share lost (a thread never seen,
    // an exit not recorded) or counted twice shows as a difference between them, once it is
    // larger than the process clock's lag: up to one scheduler tick per thread running on
    // another core at either end of the window (the reader's own tick covers the moments
    // between reading the process clock and the threads' clocks). 200 calls of 250 us of
    // busy work give every configuration about 50 ms of worker CPU, more than the largest
    // tolerance (8 threads: 32 ms at HZ=250), so losing the worker's share cannot pass.
    let tick = handoff_bench::platform::scheduler_tick().expect("the kernel's tick");
    let tick_ns = u64::try_from(tick.as_nanos()).unwrap();
    let lines = run_every_configuration(&["--count", "200", "--work", "spin:250000"]);
    for line in &lines {
        let tolerance = tick_ns * field(line, "threads");
        let process = field(line, "cpu_process_ns");
        let threads = field(line, "cpu_total_ns");
        assert!(
            process.abs_diff(threads) <= tolerance,
            "{}: the threads' {threads} ns vs the process clock's {process} ns, more apart \
             than one tick per thread ({} threads: {tolerance} ns)",
            line["id"].as_str().unwrap(),
            field(line, "threads"),
        );
    }
}

#[test]
fn the_floors_switch_context_as_their_waiting_implies() {
    let lines = run_every_configuration(&["--count", "300", "--only", "floor/*"]);
    let (spin, park) = (&lines[0], &lines[1]);
    // Spinning never blocks; parking blocks the partner at least once.
    assert!(
        field(spin, "vcsw_loop") + field(spin, "vcsw_worker") <= 30,
        "{spin}"
    );
    assert!(field(park, "vcsw_worker") > 0, "{park}");
}

#[test]
fn a_gap_spaces_the_calls_of_every_configuration() {
    // Call i is issued no earlier than i gaps after the window opens: a lower bound the
    // schedule guarantees, however fast or slow the machine.
    let (count, gap_us) = (4, 2_000);
    let lines = run_every_configuration(&["--count", "4", "--gap", "2000"]);
    for line in &lines {
        assert_eq!(field(line, "gap_us"), gap_us);
        assert!(
            field(line, "wall_ns") >= (count - 1) * gap_us * 1_000,
            "{line}"
        );
    }
}

#[test]
fn injected_work_precedes_every_call_of_every_configuration() {
    // The async side busy-waits inject_ns of wall time before each call, one at a time.
    let (count, inject_ns) = (3, 1_000_000);
    let lines =
        run_every_configuration(&["--count", "3", "--inject-ns", "1000000", "--in-flight", "2"]);
    for line in &lines {
        assert_eq!(field(line, "inject_ns"), inject_ns);
        assert!(field(line, "wall_ns") >= count * inject_ns, "{line}");
    }
}

#[test]
fn every_configuration_reports_a_consistent_line_sequentially() {
    run_all(1, "zero");
}

#[test]
fn every_configuration_reports_a_consistent_line_with_eight_in_flight() {
    run_all(8, "spin:1000");
}

#[test]
fn every_configuration_runs_pinned_and_says_so() {
    let two_cpus = handoff_bench::pinning::Placement::detect().is_some();
    let lines = run_every_configuration(&["--count", "20", "--in-flight", "2", "--pin"]);
    for line in &lines {
        // The binary checks every answer; a pinned run must still answer every call.
        assert_eq!(field(line, "count"), 20);
        assert_eq!(line["pinned"], Value::Bool(two_cpus), "{line}");
    }
    let unpinned = run_every_configuration(&["--count", "1", "--only", "floor/*"]);
    assert!(
        unpinned
            .iter()
            .all(|line| line["pinned"] == Value::Bool(false))
    );
}

#[test]
fn every_configuration_answers_point_reads_from_the_database() {
    // The binary checks every answer, and a point read's answer comes from the row it read.
    run_all(1, "sql-read");
}

#[test]
fn every_configuration_answers_writes_with_sixteen_in_flight() {
    // Pools write from several connections at once: the busy timeout serialises them, and
    // every answer comes from the row each transaction updated.
    run_all(16, "sql-write");
}

#[test]
fn a_bad_work_spec_names_the_kinds() {
    let output = Command::cargo_bin("handoff-bench")
        .unwrap()
        .args(["--work", "sql-scan"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("unknown work `sql-scan`") && stderr.contains("sql-read or sql-write"),
        "{stderr}"
    );
}

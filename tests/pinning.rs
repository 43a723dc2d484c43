//! `--pin`: every thread ends up on the CPU of its role, including threads a pool starts
//! after the pinning, and nothing stays pinned into the next configuration.

use std::process::Command;
use std::sync::mpsc;
use std::thread;

use handoff_bench::measure::{self, Role};
use handoff_bench::pinning::{self, Placement};
use handoff_bench::platform;

/// Spawns a thread that registers `role` (if any), reports its allowed CPUs after that,
/// and exits.
fn cpus_of_new_thread(role: Option<Role>) -> Vec<usize> {
    thread::spawn(move || {
        if let Some(role) = role {
            measure::register(role);
        }
        platform::thread_cpus(0)
    })
    .join()
    .unwrap()
}

#[test]
fn threads_take_their_role_s_cpu_also_when_they_start_later_and_release_undoes_it() {
    let Some(placement) = Placement::detect() else {
        eprintln!("skipped: fewer than two CPUs to separate threads on");
        return;
    };
    let all = platform::thread_cpus(0);
    pinning::release();
    measure::begin_epoch();
    measure::register(Role::Loop);
    // A worker that registered before pinning started, kept alive until it is checked.
    let (tid_tx, tid_rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let early = thread::spawn(move || {
        measure::register(Role::Worker);
        tid_tx.send(platform::current_tid()).unwrap();
        let _ = done_rx.recv();
    });
    let early_tid = tid_rx.recv().unwrap();

    assert!(pinning::pin_if(true));
    assert!(pinning::pinned());
    assert_eq!(platform::thread_cpus(0), vec![placement.loop_cpu]);
    assert_eq!(platform::thread_cpus(early_tid), vec![placement.other_cpu]);
    // Threads started now inherit the loop CPU from this thread; registering moves them.
    assert_eq!(cpus_of_new_thread(None), vec![placement.loop_cpu]);
    assert_eq!(
        cpus_of_new_thread(Some(Role::Worker)),
        vec![placement.other_cpu]
    );
    assert_eq!(
        cpus_of_new_thread(Some(Role::Loop)),
        vec![placement.loop_cpu]
    );
    drop(done_tx);
    early.join().unwrap();

    // The next configuration starts free: this thread, and threads that register, keep
    // every CPU the process had.
    pinning::release();
    assert!(!pinning::pinned());
    assert_eq!(platform::thread_cpus(0), all);
    measure::begin_epoch();
    assert_eq!(cpus_of_new_thread(Some(Role::Worker)), all);
    assert!(!pinning::pin_if(false));
    assert_eq!(platform::thread_cpus(0), all);
}

/// One thread line of `HANDOFF_BENCH_DEBUG_THREADS=1`: id, role, allowed CPUs.
#[derive(Debug)]
struct ThreadLine {
    id: String,
    role: String,
    cpus: Vec<usize>,
}

fn parse_thread_line(line: &str) -> Option<ThreadLine> {
    // `ID: thread TID "NAME" ROLE on cpus [A, B]: cpu ...`
    let (id, rest) = line.split_once(": thread ")?;
    let (_, rest) = rest.split_once("\" ")?;
    let (role, rest) = rest.split_once(" on cpus [")?;
    let (cpus, _) = rest.split_once(']')?;
    Some(ThreadLine {
        id: id.to_owned(),
        role: role.to_owned(),
        cpus: cpus
            .split(", ")
            .filter(|c| !c.is_empty())
            .map(|c| c.parse().unwrap())
            .collect(),
    })
}

#[test]
fn with_pin_every_thread_that_worked_in_the_window_ran_on_its_role_s_cpu() {
    let Some(placement) = Placement::detect() else {
        eprintln!("skipped: fewer than two CPUs to separate threads on");
        return;
    };
    // Pools that grow inside the run (four calls in flight), on every runtime, in one
    // process: a later configuration must not inherit an earlier one's pinning.
    let output = Command::new(env!("CARGO_BIN_EXE_handoff-bench"))
        .args(["--pin", "--only", "*/to-thread", "--only", "floor/park"])
        .args(["--in-flight", "4", "--count", "3000", "--format", "json"])
        .env("HANDOFF_BENCH_DEBUG_THREADS", "1")
        .output()
        .unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 5, "{stdout}");
    assert!(
        stdout.lines().all(|l| l.contains("\"pinned\":true")),
        "{stdout}"
    );
    let stderr = String::from_utf8(output.stderr).unwrap();
    let threads: Vec<ThreadLine> = stderr.lines().filter_map(parse_thread_line).collect();
    for id in [
        "tokio-current/to-thread",
        "tokio-multi/to-thread",
        "async-std/to-thread",
        "smol/to-thread",
        "floor/park",
    ] {
        let of_id: Vec<&ThreadLine> = threads.iter().filter(|t| t.id == id).collect();
        assert!(
            of_id.iter().any(|t| t.role == "Worker"),
            "{id}: no worker thread in\n{stderr}"
        );
        for t in of_id {
            // Threads that exited inside the window have no mask left to read.
            if t.cpus.is_empty() {
                continue;
            }
            let expected = if t.role == "Loop" {
                placement.loop_cpu
            } else {
                placement.other_cpu
            };
            assert_eq!(t.cpus, vec![expected], "{t:?} in\n{stderr}");
        }
    }
}

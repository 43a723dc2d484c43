//! `--pin`: every thread ends up on the CPU of its role.

use std::sync::mpsc;
use std::thread;

use handoff_bench::measure::{self, Role};
use handoff_bench::pinning::{self, Placement};
use handoff_bench::platform;

#[test]
fn threads_are_pinned_to_the_cpu_of_their_role() {
    let Some(placement) = Placement::detect() else {
        eprintln!("skipped: fewer than two CPUs to separate threads on");
        return;
    };
    assert_ne!(placement.loop_cpu, placement.other_cpu);
    measure::begin_epoch();
    measure::register(Role::Loop);
    // A registered worker, and a helper that never registers (an "other" thread).
    let (tids_tx, tids_rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let done_rx = std::sync::Arc::new(std::sync::Mutex::new(done_rx));
    let spawn = |role: Option<Role>| {
        let tids_tx = tids_tx.clone();
        let done_rx = done_rx.clone();
        thread::spawn(move || {
            if let Some(role) = role {
                measure::register(role);
            }
            tids_tx.send(platform::current_tid()).unwrap();
            // Stay alive until the pinning has been checked.
            let _ = done_rx.lock().unwrap().recv();
        })
    };
    let worker = spawn(Some(Role::Worker));
    let worker_tid = tids_rx.recv().unwrap();
    let other = spawn(None);
    let other_tid = tids_rx.recv().unwrap();

    let pinned = pinning::pin_live_threads(placement);

    assert!(pinned >= 3, "pinned {pinned} threads");
    assert_eq!(
        platform::thread_cpus(platform::current_tid()),
        vec![placement.loop_cpu]
    );
    assert_eq!(platform::thread_cpus(worker_tid), vec![placement.other_cpu]);
    assert_eq!(platform::thread_cpus(other_tid), vec![placement.other_cpu]);
    // A later run in the same process still sees the machine's CPUs, not the narrowed mask.
    assert_eq!(Placement::detect(), Some(placement));
    drop(done_tx);
    worker.join().unwrap();
    other.join().unwrap();
}

//! A worker that may use only one CPU never spins, and says so. A test binary of its own:
//! it narrows a thread's CPU set.

#![cfg(all(target_os = "linux", feature = "bench-hooks"))]

use handoff_worker::{Builder, Strategy};

/// Runs `f` on a new thread whose CPU set is only the CPU it starts on.
fn on_one_cpu<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    std::thread::spawn(move || {
        // SAFETY: plain calls on a set owned here; pid 0 is the calling thread.
        unsafe {
            let mut one: libc::cpu_set_t = std::mem::zeroed();
            let cpu = usize::try_from(libc::sched_getcpu()).expect("a CPU number");
            libc::CPU_SET(cpu, &mut one);
            assert_eq!(
                libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), &raw const one),
                0
            );
        }
        f()
    })
    .join()
    .expect("the one-CPU thread")
}

#[test]
fn an_adaptive_worker_spawned_on_one_cpu_never_spins() {
    for strategy in [Strategy::Adaptive, Strategy::LowLatency] {
        let (may_spin, stats) = on_one_cpu(move || {
            let worker = Builder::new().strategy(strategy).spawn(|| 0_u64).unwrap();
            futures::executor::block_on(async {
                for _ in 0..1_000 {
                    worker.call(|n| *n += 1).await.unwrap();
                }
            });
            (worker.wait_costs().may_spin, worker.stats())
        });
        assert!(!may_spin, "{strategy:?}");
        assert_eq!(stats.spin_hits, 0, "{strategy:?}: {stats:?}");
        assert_eq!(stats.ok, 1_000);
    }
    if std::thread::available_parallelism().map_or(1, usize::from) >= 2 {
        let worker = Builder::new().spawn(|| ()).unwrap();
        assert!(worker.wait_costs().may_spin);
        let block = Builder::new()
            .strategy(Strategy::Block)
            .spawn(|| ())
            .unwrap();
        assert!(!block.wait_costs().may_spin);
    }
}

//! Per-thread CPU attribution on real threads. Its own test binary, and its tests hold one
//! lock, because the accounting is process-wide: parallel tests would burn CPU in each
//! other's windows.

use std::sync::{Mutex, MutexGuard, mpsc};
use std::thread;
use std::time::Duration;

use handoff_bench::measure::{self, Role, Window};
use handoff_bench::platform;

const BURN: Duration = Duration::from_millis(50);

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn exclusive() -> MutexGuard<'static, ()> {
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Spins until this thread's own CPU clock has advanced by `amount`: a known amount of CPU,
/// however often the (shared, noisy) machine preempts us.
fn burn_cpu(amount: Duration) {
    let tid = platform::current_tid();
    let start = platform::thread_cpu_time(tid).unwrap();
    while platform::thread_cpu_time(tid).unwrap() - start < amount {
        std::hint::spin_loop();
    }
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

/// One scheduler tick per thread: how far the process clock may lag the threads' exact
/// clocks ([`platform::scheduler_tick`]).
fn ticks_per_thread(threads: usize) -> Duration {
    let tick = platform::scheduler_tick().expect("the kernel's tick");
    tick * u32::try_from(threads).expect("a few threads")
}

#[test]
fn known_burns_land_on_their_roles_and_the_process_clock_agrees() {
    let _guard = exclusive();
    measure::begin_epoch();
    measure::register(Role::Loop);

    // A worker that burns 50 ms when told to, then waits; an idle loop-role thread; (below)
    // an unregistered helper that burns 50 ms; a worker that burns 50 ms and exits inside
    // the window (its share must survive its exit).
    let (go_worker, worker_go) = mpsc::channel::<()>();
    let (worker_done, done) = mpsc::channel::<()>();
    let worker = thread::spawn(move || {
        measure::register(Role::Worker);
        worker_go.recv().unwrap();
        burn_cpu(BURN);
        worker_done.send(()).unwrap();
        worker_go.recv().unwrap_or(());
    });
    let (stop_idle, idle_stop) = mpsc::channel::<()>();
    let (idle_ready, ready) = mpsc::channel::<platform::Tid>();
    let idle = thread::spawn(move || {
        measure::register(Role::Loop);
        idle_ready.send(platform::current_tid()).unwrap();
        idle_stop.recv().unwrap_or(());
    });
    let idle_tid = ready.recv().unwrap();

    let window = Window::start();
    go_worker.send(()).unwrap();
    done.recv().unwrap();
    // Unregistered threads are read while alive (a thread nobody registered has no exit
    // hook), as runtime helper threads are: this one waits until the window has closed.
    let (helper_done, helper_burnt) = mpsc::channel::<()>();
    let (release_helper, helper_release) = mpsc::channel::<()>();
    let helper = thread::spawn(move || {
        burn_cpu(BURN);
        helper_done.send(()).unwrap();
        helper_release.recv().unwrap_or(());
    });
    helper_burnt.recv().unwrap();
    thread::spawn(|| {
        measure::register(Role::Worker);
        burn_cpu(BURN);
    })
    .join()
    .unwrap();
    let usage = window.finish();

    drop(go_worker);
    drop(stop_idle);
    drop(release_helper);
    helper.join().unwrap();
    worker.join().unwrap();
    idle.join().unwrap();

    // First the independent check: the kernel's process clock counts every thread of the
    // process, exited ones included, so a share lost by the attribution (or counted twice)
    // shows as a difference. That clock can lag by up to one tick per thread running on
    // another core at either end of the window; the reader's own tick covers the moments
    // between reading the process clock and the threads' clocks.
    let tolerance = ticks_per_thread(usage.threads);
    let process = usage.cpu_process;
    let threads = usage.cpu_total();
    assert!(
        process.abs_diff(threads) <= tolerance,
        "sum of {} threads {} ms vs process clock {} ms (tolerance {} ms)",
        usage.threads,
        ms(threads),
        ms(process),
        ms(tolerance)
    );

    // Two 50 ms workers (one of them exited), one 50 ms helper. The upper tolerance covers
    // reading clocks and spawning threads, not scheduling noise: CPU clocks do not count
    // time a thread spends preempted.
    let worker_ms = ms(usage.worker_threads.cpu);
    assert!(
        (100.0..115.0).contains(&worker_ms),
        "worker role got {worker_ms} ms, expected ~100"
    );
    let other_ms = ms(usage.other_threads.cpu);
    assert!(
        (50.0..60.0).contains(&other_ms),
        "other role got {other_ms} ms, expected ~50"
    );
    // The loop role is this thread (clock reads, thread spawns and joins) plus the idle
    // thread: neither burns anything close to a burn.
    let loop_ms = ms(usage.loop_threads.cpu);
    assert!(
        loop_ms < 10.0,
        "loop role got {loop_ms} ms, expected almost nothing"
    );
    // A thread that did nothing is either absent (no change at all) or nearly free.
    let idle_cpu = usage
        .per_thread
        .iter()
        .find(|thread| thread.tid == idle_tid)
        .map(|thread| thread.usage.cpu);
    assert!(
        idle_cpu.unwrap_or_default() < Duration::from_millis(1),
        "idle thread got {idle_cpu:?}"
    );
}

#[test]
fn a_thread_that_exited_before_the_window_is_not_charged_to_it() {
    let _guard = exclusive();
    measure::begin_epoch();
    thread::spawn(|| {
        measure::register(Role::Worker);
        burn_cpu(BURN);
    })
    .join()
    .unwrap();
    let usage = Window::start().finish();
    assert!(
        usage.worker_threads.cpu < Duration::from_millis(1),
        "an exit before the window was charged: {:?}",
        usage.worker_threads.cpu
    );
}

#[test]
fn a_thread_registered_in_an_earlier_epoch_that_exits_inside_the_window_is_still_counted() {
    // A pool thread left over from an earlier configuration: registered then, unregistered
    // now, exiting inside the current window.
    let _guard = exclusive();
    measure::begin_epoch();
    let (go, wait) = mpsc::channel::<()>();
    let (registered, is_registered) = mpsc::channel::<()>();
    let leftover = thread::spawn(move || {
        measure::register(Role::Worker);
        registered.send(()).unwrap();
        wait.recv().unwrap();
        burn_cpu(BURN);
    });
    is_registered.recv().unwrap();
    measure::begin_epoch();
    let window = Window::start();
    go.send(()).unwrap();
    leftover.join().unwrap();
    let usage = window.finish();
    let other_ms = ms(usage.other_threads.cpu);
    assert!(
        (50.0..60.0).contains(&other_ms),
        "the leftover thread's burn: {other_ms} ms as other"
    );
    assert!(
        usage.worker_threads.cpu.is_zero(),
        "it registered as a worker only in the old epoch"
    );
}

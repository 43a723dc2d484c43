//! The worker's waits as tools see them: `WaitHooks` (feature `bench-hooks`), a
//! process-wide way to see, and reshape, every spin and park.
//!
//! Spinning is scheduling, not code: how long a spin lasts depends on when the other thread
//! gets there. A tool that counts instructions (callgrind) wants those spins left out, and
//! valgrind runs one thread at a time, so a spin that never yields holds the only running
//! thread until its budget is gone. The hooks let such a tool mark the waits and turn each
//! spin step into a yield; without the feature (or without hooks installed) a wait costs
//! nothing more than the spin itself.

#[cfg(feature = "bench-hooks")]
use std::sync::OnceLock;

/// Functions the worker calls around and inside its waits: the worker thread's spin on an
/// empty queue (and the park after it), and a caller's spin for its reply.
///
/// Installed once per process with [`WaitHooks::install`]; every worker uses them. Feature
/// `bench-hooks`: for benchmarks and profilers, not a stable part of the API.
#[cfg(feature = "bench-hooks")]
#[derive(Debug, Clone, Copy)]
pub struct WaitHooks {
    /// Called when a wait begins (before the first spin step).
    pub enter: fn(),
    /// Called when that wait ends (after the last spin step, or after the park).
    pub leave: fn(),
    /// Called for each spin step instead of [`std::hint::spin_loop`].
    pub spin: fn(),
}

#[cfg(feature = "bench-hooks")]
static HOOKS: OnceLock<WaitHooks> = OnceLock::new();

#[cfg(feature = "bench-hooks")]
impl WaitHooks {
    /// Installs `hooks` for every worker in this process. Returns `false` (and changes
    /// nothing) if hooks were installed before.
    pub fn install(hooks: Self) -> bool {
        HOOKS.set(hooks).is_ok()
    }
}

/// Marks one wait: calls `enter` now and `leave` when dropped.
pub(crate) struct Waiting {
    #[cfg(feature = "bench-hooks")]
    hooks: Option<&'static WaitHooks>,
}

/// Begins a wait.
#[inline]
pub(crate) fn waiting() -> Waiting {
    #[cfg(feature = "bench-hooks")]
    {
        let hooks = HOOKS.get();
        if let Some(hooks) = hooks {
            (hooks.enter)();
        }
        Waiting { hooks }
    }
    #[cfg(not(feature = "bench-hooks"))]
    Waiting {}
}

impl Waiting {
    /// One spin step.
    #[inline]
    pub(crate) fn spin(&self) {
        #[cfg(feature = "bench-hooks")]
        if let Some(hooks) = self.hooks {
            (hooks.spin)();
            return;
        }
        std::hint::spin_loop();
    }
}

#[cfg(feature = "bench-hooks")]
impl Drop for Waiting {
    #[inline]
    fn drop(&mut self) {
        if let Some(hooks) = self.hooks {
            (hooks.leave)();
        }
    }
}

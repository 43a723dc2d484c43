//! [`WaitHooks`]: a process-wide way for tools to see, and reshape, the worker's waits.
//!
//! Spinning is scheduling, not code: how long a spin lasts depends on when the other thread
//! gets there. A tool that counts instructions (callgrind) wants those spins left out, and
//! valgrind runs one thread at a time, so a spin that never yields holds the only running
//! thread until its budget is gone. The hooks let such a tool mark the waits and turn each
//! spin step into a yield; without hooks a wait costs one atomic load more than none.

use std::sync::OnceLock;

/// Functions the worker calls around and inside its waits: the worker thread's spin on an
/// empty queue (and the park after it), and a caller's [busy poll](crate::Builder::busy_poll).
///
/// Installed once per process with [`WaitHooks::install`]; every worker uses them.
#[derive(Debug, Clone, Copy)]
pub struct WaitHooks {
    /// Called when a wait begins (before the first spin step).
    pub enter: fn(),
    /// Called when that wait ends (after the last spin step, or after the park).
    pub leave: fn(),
    /// Called for each spin step instead of [`std::hint::spin_loop`].
    pub spin: fn(),
}

static HOOKS: OnceLock<WaitHooks> = OnceLock::new();

impl WaitHooks {
    /// Installs `hooks` for every worker in this process. Returns `false` (and changes
    /// nothing) if hooks were installed before.
    pub fn install(hooks: Self) -> bool {
        HOOKS.set(hooks).is_ok()
    }
}

/// Marks one wait: calls `enter` now and `leave` when dropped.
pub(crate) struct Waiting(Option<&'static WaitHooks>);

/// Begins a wait.
#[inline]
pub(crate) fn waiting() -> Waiting {
    let hooks = HOOKS.get();
    if let Some(hooks) = hooks {
        (hooks.enter)();
    }
    Waiting(hooks)
}

impl Waiting {
    /// One spin step.
    #[inline]
    pub(crate) fn spin(&self) {
        match self.0 {
            Some(hooks) => (hooks.spin)(),
            None => std::hint::spin_loop(),
        }
    }
}

impl Drop for Waiting {
    #[inline]
    fn drop(&mut self) {
        if let Some(hooks) = self.0 {
            (hooks.leave)();
        }
    }
}

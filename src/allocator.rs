//! The global allocator: the system's (glibc's malloc) in every timed run, mimalloc when
//! instructions are counted under valgrind.
//!
//! Why: glibc serves aligned allocations (`memalign`, which tokio's task cells need) from
//! its bins, not from the per-thread cache, so their instructions depend on how earlier
//! frees left the heap. Measured under callgrind on `tokio-current/to-thread`: the same
//! binary counted 2608 or 2647 instructions per call on the loop depending only on whether
//! `--inject-loops 0` was on the command line (clap's allocation for it changes the heap's
//! history), and an earlier build 2424 or 2879 (+16%) the same way: `_int_memalign`,
//! `_int_free` and `malloc_consolidate` took different paths on every call. A pull request
//! that adds one allocation before the window would move such a row by up to 16%. mimalloc
//! serves small aligned sizes from size-class pages whose free lists behave the same
//! whatever came before, so counts follow the code. Timing runs keep glibc: it is what an
//! application gets by default, and what the wall and CPU figures describe.
//!
//! The choice is made once, at the first allocation, and never changes, so every block is
//! freed by the allocator that made it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU8, Ordering};

use mimalloc::MiMalloc;

const UNDECIDED: u8 = 0;
const SYSTEM: u8 = 1;
const MIMALLOC: u8 = 2;

/// Which allocator this process uses; decided at the first allocation.
static CHOICE: AtomicU8 = AtomicU8::new(UNDECIDED);

/// The process's allocator (see the module docs).
#[derive(Debug)]
pub struct Allocator;

impl Allocator {
    #[inline]
    fn counting() -> bool {
        match CHOICE.load(Ordering::Relaxed) {
            SYSTEM => false,
            MIMALLOC => true,
            _ => Self::decide(),
        }
    }

    /// The first allocation's decision. Two threads racing here compute the same answer
    /// (the process runs under valgrind or not), so the relaxed store is enough; and the
    /// first allocation happens in the runtime's start-up, before any thread exists.
    #[cold]
    fn decide() -> bool {
        let counting = crate::counters::running_on_valgrind();
        let choice = if counting { MIMALLOC } else { SYSTEM };
        CHOICE.store(choice, Ordering::Relaxed);
        counting
    }
}

// SAFETY: every method forwards to one allocator that implements `GlobalAlloc` correctly,
// and the choice between them is fixed before the first allocation returns, so a block is
// always resized and freed by the allocator that made it.
unsafe impl GlobalAlloc for Allocator {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if Self::counting() {
            // SAFETY: forwarded with the caller's guarantees (`layout` has a non-zero size).
            unsafe { MiMalloc.alloc(layout) }
        } else {
            // SAFETY: as above.
            unsafe { System.alloc(layout) }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if Self::counting() {
            // SAFETY: forwarded with the caller's guarantees.
            unsafe { MiMalloc.alloc_zeroed(layout) }
        } else {
            // SAFETY: as above.
            unsafe { System.alloc_zeroed(layout) }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if Self::counting() {
            // SAFETY: `ptr` came from this allocator's `alloc` with `layout`, and the choice
            // has not changed since, so it came from mimalloc.
            unsafe { MiMalloc.dealloc(ptr, layout) }
        } else {
            // SAFETY: as above, from the system allocator.
            unsafe { System.dealloc(ptr, layout) }
        }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if Self::counting() {
            // SAFETY: as in `dealloc`; `new_size` is the caller's, non-zero.
            unsafe { MiMalloc.realloc(ptr, layout, new_size) }
        } else {
            // SAFETY: as above.
            unsafe { System.realloc(ptr, layout, new_size) }
        }
    }
}

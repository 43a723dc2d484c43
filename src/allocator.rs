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
//! mimalloc is called as the system allocator is: `mi_malloc` where its natural alignment
//! suffices, `mi_malloc_aligned` only beyond it. The `mimalloc` crate's `MiMalloc` calls the
//! aligned functions for every layout, and their fast path serves a block only when the
//! size class's free list is not empty; otherwise a size that is not a power of two is
//! over-allocated into the next class (mimalloc 3's `alloc-aligned.c`), where it is freed,
//! so its own class stays empty and every later allocation of that size pays the slow path
//! again. Measured under callgrind on `tokio-current/dedicated` with `--work sql-read`: the
//! worker's 112-byte call packet took that path on every call, about 140 instructions on the
//! loop thread, and whether it did depended on which other sizes the process allocated.
//!
//! The choice is made once, at the first allocation, and never changes, so every block is
//! freed by the allocator that made it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU8, Ordering};

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

/// mimalloc called as the system allocator calls malloc (module docs).
mod mimalloc_natural {
    use std::alloc::Layout;
    use std::ffi::c_void;

    use libmimalloc_sys as ffi;
    use mimalloc::MiMalloc;

    /// The alignment every `mi_malloc` block of at least this size has (`MI_MAX_ALIGN_SIZE`);
    /// a smaller block is aligned to its size rounded up to a power of two.
    const NATURAL_ALIGN: usize = 16;

    fn natural(align: usize, size: usize) -> bool {
        align <= NATURAL_ALIGN && align <= size
    }

    /// # Safety
    ///
    /// `GlobalAlloc::alloc`'s.
    pub(super) unsafe fn alloc(layout: Layout) -> *mut u8 {
        if natural(layout.align(), layout.size()) {
            // SAFETY: any size; the block is aligned to `layout.align()` (`natural`).
            unsafe { ffi::mi_malloc(layout.size()).cast() }
        } else {
            // SAFETY: forwarded.
            unsafe { std::alloc::GlobalAlloc::alloc(&MiMalloc, layout) }
        }
    }

    /// # Safety
    ///
    /// `GlobalAlloc::alloc_zeroed`'s.
    pub(super) unsafe fn alloc_zeroed(layout: Layout) -> *mut u8 {
        if natural(layout.align(), layout.size()) {
            // SAFETY: as in `alloc`.
            unsafe { ffi::mi_zalloc(layout.size()).cast() }
        } else {
            // SAFETY: forwarded.
            unsafe { std::alloc::GlobalAlloc::alloc_zeroed(&MiMalloc, layout) }
        }
    }

    /// # Safety
    ///
    /// `GlobalAlloc::dealloc`'s.
    pub(super) unsafe fn dealloc(ptr: *mut u8) {
        // SAFETY: `ptr` came from mimalloc (`mi_malloc`, `mi_zalloc`, `mi_realloc` or an
        // aligned variant), all of which `mi_free` frees.
        unsafe { ffi::mi_free(ptr.cast::<c_void>()) }
    }

    /// # Safety
    ///
    /// `GlobalAlloc::realloc`'s.
    pub(super) unsafe fn realloc(ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if natural(layout.align(), new_size) {
            // SAFETY: `ptr` came from mimalloc; the new block is aligned as `alloc`'s.
            unsafe { ffi::mi_realloc(ptr.cast::<c_void>(), new_size).cast() }
        } else {
            // SAFETY: forwarded (`MiMalloc` reallocates any mimalloc block, aligned).
            unsafe { std::alloc::GlobalAlloc::realloc(&MiMalloc, ptr, layout, new_size) }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        // SAFETY: mimalloc's C function of this signature, linked in with it (the crate's
        // binding sits behind a feature that brings another crate, for one test).
        unsafe extern "C" {
            fn mi_usable_size(p: *const c_void) -> usize;
        }

        #[test]
        fn blocks_of_sizes_between_powers_of_two_keep_their_size_class() {
            // A size class whose free list starts empty, as every class of a new thread's
            // heap does: with `mi_malloc_aligned` every block came from the next class.
            std::thread::spawn(|| {
                let layout = Layout::from_size_align(112, 8).unwrap();
                let blocks: Vec<*mut u8> = (0..1_000)
                    // SAFETY: a non-zero size.
                    .map(|_| unsafe { alloc(layout) })
                    .collect();
                for &block in &blocks {
                    assert!(!block.is_null());
                    assert_eq!(block.addr() % 8, 0);
                    // SAFETY: a live mimalloc block.
                    let usable = unsafe { mi_usable_size(block.cast::<c_void>()) };
                    assert_eq!(usable, 112, "a 112-byte block served from another class");
                }
                for block in blocks {
                    // SAFETY: allocated above, freed once.
                    unsafe { dealloc(block) };
                }
            })
            .join()
            .unwrap();
        }

        #[test]
        fn alignment_beyond_the_natural_one_is_kept() {
            for (size, align) in [(8, 16), (24, 32), (100, 64), (4096, 4096)] {
                let layout = Layout::from_size_align(size, align).unwrap();
                // SAFETY: a non-zero size.
                let block = unsafe { alloc_zeroed(layout) };
                assert_eq!(block.addr() % align, 0, "size {size}, align {align}");
                // SAFETY: `size` zeroed bytes were just allocated.
                let bytes = unsafe { std::slice::from_raw_parts(block, size) };
                assert!(bytes.iter().all(|&b| b == 0), "size {size}, align {align}");
                // SAFETY: a live block of `layout`, grown to twice its size.
                let grown = unsafe { realloc(block, layout, 2 * size) };
                assert_eq!(grown.addr() % align, 0, "size {size}, align {align}, grown");
                // SAFETY: freed once.
                unsafe { dealloc(grown) };
            }
        }
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
            unsafe { mimalloc_natural::alloc(layout) }
        } else {
            // SAFETY: as above.
            unsafe { System.alloc(layout) }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if Self::counting() {
            // SAFETY: forwarded with the caller's guarantees.
            unsafe { mimalloc_natural::alloc_zeroed(layout) }
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
            unsafe { mimalloc_natural::dealloc(ptr) }
        } else {
            // SAFETY: as above, from the system allocator.
            unsafe { System.dealloc(ptr, layout) }
        }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if Self::counting() {
            // SAFETY: as in `dealloc`; `new_size` is the caller's, non-zero.
            unsafe { mimalloc_natural::realloc(ptr, layout, new_size) }
        } else {
            // SAFETY: as above.
            unsafe { System.realloc(ptr, layout, new_size) }
        }
    }
}

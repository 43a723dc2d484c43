//! A state that is not `Send`: a handle of a C-like library that must stay on the thread
//! that created it (as many C libraries' contexts must). The worker creates it on its own
//! thread, runs every call there, and destroys it there at shutdown; the async side only
//! ever holds a `Worker`, which is `Send + Sync`.
//!
//! `cargo run -p handoff-worker --example c_library`

use std::cell::Cell;
use std::marker::PhantomData;
use std::thread::ThreadId;

use handoff_worker::Worker;

/// A stand-in for a C library's context (`ctx_new`, `ctx_hash`, `ctx_free`): it remembers
/// the thread that created it and refuses to be used from another, as a thread-bound C
/// library would corrupt itself.
struct Context {
    owner: ThreadId,
    calls: Cell<u64>,
    /// A raw pointer, as a C handle would be: the type is neither `Send` nor `Sync`.
    _handle: PhantomData<*mut u8>,
}

impl Context {
    fn new() -> Self {
        Self {
            owner: std::thread::current().id(),
            calls: Cell::new(0),
            _handle: PhantomData,
        }
    }

    fn hash(&self, input: &[u8]) -> u64 {
        assert_eq!(
            std::thread::current().id(),
            self.owner,
            "used off its thread"
        );
        self.calls.set(self.calls.get() + 1);
        input.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        })
    }
}

impl Drop for Context {
    fn drop(&mut self) {
        assert_eq!(
            std::thread::current().id(),
            self.owner,
            "freed off its thread"
        );
        println!(
            "context freed on its own thread after {} calls",
            self.calls.get()
        );
    }
}

fn main() {
    futures::executor::block_on(async {
        // `Context` is not `Send`: it is built on the worker thread by this closure.
        let lib = Worker::spawn(Context::new).expect("start the library's thread");
        let lib2 = lib.clone();
        // Handles can be used from any thread or task.
        let other = std::thread::spawn(move || {
            futures::executor::block_on(lib2.call(|ctx| ctx.hash(b"from another thread")))
        });
        let here = lib.call(|ctx| ctx.hash(b"hello")).await.expect("a hash");
        let there = other.join().expect("the other thread").expect("a hash");
        println!("hash(hello) = {here:016x}, hash(from another thread) = {there:016x}");
        // `shutdown` drops the state on the worker thread (`close` would need it `Send`).
        lib.shutdown().await.expect("freed");
    });
}

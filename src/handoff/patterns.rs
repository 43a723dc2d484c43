//! The hand-offs real projects ship, measured against the project's own worker.
//!
//! - [`CrossbeamOneshot`]: an unbounded crossbeam request channel to one thread, a tokio
//!   oneshot reply (tokio-rusqlite; async-sqlite is the same shape with a futures oneshot).
//! - [`FlumeOneshot`]: a bounded flume command channel to one thread, a futures oneshot
//!   reply (sqlx-sqlite's worker).
//! - [`PoolMutex`]: the runtime's pool primitive running the call on whichever pool thread,
//!   with the state behind `Arc<Mutex<T>>` (deadpool-sync's `SyncWrapper::interact`).

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use super::{Handoff, job};
use crate::runtime::Runtime;
use crate::work::Work;

type Job = Box<dyn FnOnce(&mut u64) + Send>;

/// Runs every job it receives on one thread, against state it owns, until the channel
/// closes (the loop body the patterns share).
fn spawn_thread(name: &str, serve: impl FnOnce(&mut u64) + Send + 'static) -> JoinHandle<()> {
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            let mut state = 0u64;
            serve(&mut state);
        })
        .expect("spawning a pattern's worker thread")
}

/// tokio-rusqlite's shape: `crossbeam_channel::unbounded` + `tokio::sync::oneshot`.
#[derive(Debug)]
pub struct CrossbeamOneshot {
    work: Work,
    requests: Option<crossbeam_channel::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl CrossbeamOneshot {
    /// Starts the worker thread.
    pub fn spawn(work: Work) -> Self {
        let (requests, inbox) = crossbeam_channel::unbounded::<Job>();
        let thread = spawn_thread("crossbeam-worker", move |state| {
            while let Ok(job) = inbox.recv() {
                job(state);
            }
        });
        Self { work, requests: Some(requests), thread: Some(thread) }
    }
}

impl Handoff for CrossbeamOneshot {
    fn call(&self, input: u64) -> impl Future<Output = u64> + Send + 'static {
        let work = self.work;
        let (reply, answer) = tokio::sync::oneshot::channel();
        let request: Job = Box::new(move |state| {
            *state += 1;
            let _ = reply.send(job(work, input));
        });
        let sent = self.requests.as_ref().map(|requests| requests.send(request));
        assert!(matches!(sent, Some(Ok(()))), "crossbeam worker is running");
        async move { answer.await.expect("crossbeam worker answered") }
    }
}

impl Drop for CrossbeamOneshot {
    fn drop(&mut self) {
        drop(self.requests.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// sqlx-sqlite's shape: a bounded `flume` command channel + `futures::channel::oneshot`.
#[derive(Debug)]
pub struct FlumeOneshot {
    work: Work,
    requests: Option<flume::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl FlumeOneshot {
    /// sqlx's default `command_buffer_size`.
    pub const CAPACITY: usize = 50;

    /// Starts the worker thread.
    pub fn spawn(work: Work) -> Self {
        let (requests, inbox) = flume::bounded::<Job>(Self::CAPACITY);
        let thread = spawn_thread("flume-worker", move |state| {
            while let Ok(job) = inbox.recv() {
                job(state);
            }
        });
        Self { work, requests: Some(requests), thread: Some(thread) }
    }
}

impl Handoff for FlumeOneshot {
    fn call(&self, input: u64) -> impl Future<Output = u64> + Send + 'static {
        let work = self.work;
        let (reply, answer) = futures::channel::oneshot::channel();
        let request: Job = Box::new(move |state| {
            *state += 1;
            let _ = reply.send(job(work, input));
        });
        let requests = self.requests.clone().expect("flume worker is running");
        async move {
            // Like sqlx, wait asynchronously for room in the bounded channel.
            requests.send_async(request).await.expect("flume worker is running");
            answer.await.expect("flume worker answered")
        }
    }
}

impl Drop for FlumeOneshot {
    fn drop(&mut self) {
        drop(self.requests.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// deadpool-sync's shape: the runtime's pool primitive, the state behind `Arc<Mutex<T>>`.
#[derive(Debug, Clone)]
pub struct PoolMutex {
    runtime: Runtime,
    work: Work,
    state: Arc<Mutex<u64>>,
}

impl PoolMutex {
    /// State shared by every pool thread that runs a call.
    pub fn new(runtime: Runtime, work: Work) -> Self {
        Self { runtime, work, state: Arc::new(Mutex::new(0)) }
    }
}

impl Handoff for PoolMutex {
    fn call(&self, input: u64) -> impl Future<Output = u64> + Send + 'static {
        let work = self.work;
        let state = Arc::clone(&self.state);
        let interact = move || {
            let mut state = state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            *state += 1;
            job(work, input)
        };
        let runtime = self.runtime;
        async move {
            match runtime {
                Runtime::TokioCurrent | Runtime::TokioMulti => {
                    tokio::task::spawn_blocking(interact).await.expect("spawn_blocking task failed")
                }
                Runtime::AsyncStd => async_std::task::spawn_blocking(interact).await,
                Runtime::Smol => smol::unblock(interact).await,
            }
        }
    }
}

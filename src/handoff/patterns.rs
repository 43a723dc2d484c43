//! Imitations of the hand-offs real crates ship, on the same [`Session`] the project's worker
//! holds: each isolates one shape's overhead from a crate's extras (error mapping, closed-
//! connection checks, pool bookkeeping). The real crates themselves are in
//! [`super::peers`]; sqlx, whose shape `flume-oneshot` stands for, cannot be built beside
//! them (it links another `libsqlite3-sys`).
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
use crate::work::{Session, Workload};

type Job = Box<dyn FnOnce(&mut Session) + Send>;

/// One worker thread fed through a channel. Dropping it closes the channel (the thread's
/// receive loop then ends) and joins the thread.
#[derive(Debug)]
struct ChannelThread<S> {
    sender: Option<S>,
    thread: Option<JoinHandle<()>>,
}

impl<S> ChannelThread<S> {
    /// Starts a thread that runs `serve` against the session it opens for `workload`.
    fn spawn(
        name: &str,
        workload: &Workload,
        sender: S,
        serve: impl FnOnce(&mut Session) + Send + 'static,
    ) -> Self {
        let workload = workload.clone();
        let thread = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || serve(&mut workload.session()))
            .expect("spawning a pattern's worker thread");
        Self {
            sender: Some(sender),
            thread: Some(thread),
        }
    }

    fn sender(&self) -> &S {
        self.sender.as_ref().expect("the sender lives until drop")
    }
}

impl<S> Drop for ChannelThread<S> {
    fn drop(&mut self) {
        drop(self.sender.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The job every pattern queues: answer the call from the worker's session, reply.
fn queued_job(input: u64, reply: impl FnOnce(u64) + Send + 'static) -> Job {
    Box::new(move |session| reply(job(session, input)))
}

/// tokio-rusqlite's shape: `crossbeam_channel::unbounded` + `tokio::sync::oneshot`.
#[derive(Debug)]
pub struct CrossbeamOneshot {
    channel: ChannelThread<crossbeam_channel::Sender<Job>>,
}

impl CrossbeamOneshot {
    /// Starts the worker thread.
    pub fn spawn(workload: &Workload) -> Self {
        let (sender, inbox) = crossbeam_channel::unbounded::<Job>();
        let channel = ChannelThread::spawn("crossbeam-worker", workload, sender, move |state| {
            while let Ok(job) = inbox.recv() {
                job(state);
            }
        });
        Self { channel }
    }
}

impl Handoff for CrossbeamOneshot {
    fn call(&self, input: u64) -> impl Future<Output = u64> + Send + '_ {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let request = queued_job(input, move |value| {
            let _ = reply.send(value);
        });
        self.channel
            .sender()
            .send(request)
            .expect("crossbeam worker is running");
        async move { answer.await.expect("crossbeam worker answered") }
    }
}

/// sqlx-sqlite's shape: a bounded `flume` command channel + `futures::channel::oneshot`.
#[derive(Debug)]
pub struct FlumeOneshot {
    channel: ChannelThread<flume::Sender<Job>>,
}

impl FlumeOneshot {
    /// sqlx's default `command_buffer_size`.
    pub const CAPACITY: usize = 50;

    /// Starts the worker thread.
    pub fn spawn(workload: &Workload) -> Self {
        let (sender, inbox) = flume::bounded::<Job>(Self::CAPACITY);
        let channel = ChannelThread::spawn("flume-worker", workload, sender, move |state| {
            while let Ok(job) = inbox.recv() {
                job(state);
            }
        });
        Self { channel }
    }
}

impl Handoff for FlumeOneshot {
    fn call(&self, input: u64) -> impl Future<Output = u64> + Send + '_ {
        let (reply, answer) = futures::channel::oneshot::channel();
        let request = queued_job(input, move |value| {
            let _ = reply.send(value);
        });
        let sender = self.channel.sender().clone();
        async move {
            // Like sqlx, wait asynchronously for room in the bounded channel.
            sender
                .send_async(request)
                .await
                .expect("flume worker is running");
            answer.await.expect("flume worker answered")
        }
    }
}

/// deadpool-sync's shape: the runtime's pool primitive, the state behind `Arc<Mutex<T>>`.
#[derive(Debug, Clone)]
pub struct PoolMutex {
    runtime: Runtime,
    state: Arc<Mutex<Session>>,
}

impl PoolMutex {
    /// One session (for SQL work, one connection), shared by every pool thread that runs a
    /// call.
    pub fn new(runtime: Runtime, workload: &Workload) -> Self {
        Self {
            runtime,
            state: Arc::new(Mutex::new(workload.session())),
        }
    }
}

impl Handoff for PoolMutex {
    fn call(&self, input: u64) -> impl Future<Output = u64> + Send + '_ {
        let state = Arc::clone(&self.state);
        let interact = move || {
            let mut session = state
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            job(&mut session, input)
        };
        let runtime = self.runtime;
        async move {
            match runtime {
                Runtime::TokioCurrent | Runtime::TokioMulti => {
                    tokio::task::spawn_blocking(interact)
                        .await
                        .expect("spawn_blocking task failed")
                }
                Runtime::AsyncStd => async_std::task::spawn_blocking(interact).await,
                Runtime::Smol => smol::unblock(interact).await,
            }
        }
    }
}

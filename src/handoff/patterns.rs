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

/// One worker thread fed through a channel. Dropping it closes the channel (the thread's
/// receive loop then ends) and joins the thread.
#[derive(Debug)]
struct ChannelThread<S> {
    sender: Option<S>,
    thread: Option<JoinHandle<()>>,
}

impl<S> ChannelThread<S> {
    /// Starts a thread that runs `serve` against state it owns.
    fn spawn(name: &str, sender: S, serve: impl FnOnce(&mut u64) + Send + 'static) -> Self {
        let thread = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || serve(&mut 0u64))
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

/// The job every pattern queues: count the call in the worker's state, answer it.
fn counted_job(work: Work, input: u64, reply: impl FnOnce(u64) + Send + 'static) -> Job {
    Box::new(move |calls| {
        *calls += 1;
        reply(job(work, input));
    })
}

/// tokio-rusqlite's shape: `crossbeam_channel::unbounded` + `tokio::sync::oneshot`.
#[derive(Debug)]
pub struct CrossbeamOneshot {
    work: Work,
    channel: ChannelThread<crossbeam_channel::Sender<Job>>,
}

impl CrossbeamOneshot {
    /// Starts the worker thread.
    pub fn spawn(work: Work) -> Self {
        let (sender, inbox) = crossbeam_channel::unbounded::<Job>();
        let channel = ChannelThread::spawn("crossbeam-worker", sender, move |state| {
            while let Ok(job) = inbox.recv() {
                job(state);
            }
        });
        Self { work, channel }
    }
}

impl Handoff for CrossbeamOneshot {
    fn call(&self, input: u64) -> impl Future<Output = u64> + Send + 'static {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let request = counted_job(self.work, input, move |value| {
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
    work: Work,
    channel: ChannelThread<flume::Sender<Job>>,
}

impl FlumeOneshot {
    /// sqlx's default `command_buffer_size`.
    pub const CAPACITY: usize = 50;

    /// Starts the worker thread.
    pub fn spawn(work: Work) -> Self {
        let (sender, inbox) = flume::bounded::<Job>(Self::CAPACITY);
        let channel = ChannelThread::spawn("flume-worker", sender, move |state| {
            while let Ok(job) = inbox.recv() {
                job(state);
            }
        });
        Self { work, channel }
    }
}

impl Handoff for FlumeOneshot {
    fn call(&self, input: u64) -> impl Future<Output = u64> + Send + 'static {
        let (reply, answer) = futures::channel::oneshot::channel();
        let request = counted_job(self.work, input, move |value| {
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
    work: Work,
    state: Arc<Mutex<u64>>,
}

impl PoolMutex {
    /// State shared by every pool thread that runs a call.
    pub fn new(runtime: Runtime, work: Work) -> Self {
        Self {
            runtime,
            work,
            state: Arc::new(Mutex::new(0)),
        }
    }
}

impl Handoff for PoolMutex {
    fn call(&self, input: u64) -> impl Future<Output = u64> + Send + 'static {
        let work = self.work;
        let state = Arc::clone(&self.state);
        let interact = move || {
            let mut state = state
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            *state += 1;
            job(work, input)
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

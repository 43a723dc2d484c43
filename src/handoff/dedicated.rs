//! The seed's dedicated worker, made runtime-agnostic: a request queue to one long-lived
//! thread, and a one-shot reply whose `Waker` wakes the awaiting task on any runtime.

use std::future::Future;
use std::sync::mpsc;
use std::thread::JoinHandle;

use futures::channel::oneshot;

use super::{Handoff, job};
use crate::work::Work;

type Job = Box<dyn FnOnce() -> u64 + Send>;

struct Request {
    job: Job,
    reply: oneshot::Sender<u64>,
}

/// One worker thread fed through an mpsc queue; it blocks whenever the queue is empty.
#[derive(Debug)]
pub struct SeedWorker {
    work: Work,
    queue: Option<mpsc::Sender<Request>>,
    thread: Option<JoinHandle<()>>,
}

impl SeedWorker {
    /// Starts the worker thread.
    pub fn spawn(work: Work) -> Self {
        let (queue, requests) = mpsc::channel::<Request>();
        let thread = std::thread::Builder::new()
            .name("seed-worker".into())
            .spawn(move || {
                for request in requests {
                    // The caller may have gone away; then nobody wants the answer.
                    let _ = request.reply.send((request.job)());
                }
            })
            .expect("spawning the seed worker thread");
        Self {
            work,
            queue: Some(queue),
            thread: Some(thread),
        }
    }
}

impl Handoff for SeedWorker {
    fn call(&self, input: u64) -> impl Future<Output = u64> + Send + 'static {
        let work = self.work;
        let (reply, answer) = oneshot::channel();
        let request = Request {
            job: Box::new(move || job(work, input)),
            reply,
        };
        let queue = self.queue.as_ref().expect("worker is running");
        queue.send(request).expect("seed worker thread is alive");
        async move { answer.await.expect("seed worker answered") }
    }
}

impl Drop for SeedWorker {
    fn drop(&mut self) {
        // Closing the queue ends the worker's loop.
        drop(self.queue.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

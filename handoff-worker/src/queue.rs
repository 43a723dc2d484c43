//! The worker's queue: crossbeam-channel's unbounded channel, or, in the loom models, a
//! stand-in with the same operations that loom can schedule (a mutex, a condition variable
//! and a `VecDeque`), so the models run the crate's own worker loop and handles.
//!
//! Both disconnect the same way: sends fail once the receiver is gone (and the messages
//! still queued are dropped with it), and a receive on an empty queue fails once every
//! sender is gone.

#[cfg(not(all(loom, test)))]
pub(crate) use crossbeam_channel::{Receiver, RecvError, Sender, TryRecvError, unbounded};

#[cfg(all(loom, test))]
pub(crate) use model::{Receiver, RecvError, Sender, TryRecvError, unbounded};

#[cfg(all(loom, test))]
mod model {
    use std::collections::VecDeque;

    use loom::sync::{Arc, Condvar, Mutex};

    struct State<T> {
        queue: VecDeque<T>,
        senders: usize,
        receiver: bool,
    }

    struct Chan<T> {
        state: Mutex<State<T>>,
        ready: Condvar,
    }

    pub(crate) struct Sender<T>(Arc<Chan<T>>);
    pub(crate) struct Receiver<T>(Arc<Chan<T>>);

    #[derive(Debug)]
    pub(crate) struct SendError<T>(pub(crate) T);
    #[derive(Debug, PartialEq, Eq)]
    pub(crate) struct RecvError;
    #[derive(Debug, PartialEq, Eq)]
    pub(crate) enum TryRecvError {
        Empty,
        Disconnected,
    }

    pub(crate) fn unbounded<T>() -> (Sender<T>, Receiver<T>) {
        let chan = Arc::new(Chan {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                senders: 1,
                receiver: true,
            }),
            ready: Condvar::new(),
        });
        (Sender(chan.clone()), Receiver(chan))
    }

    impl<T> Sender<T> {
        pub(crate) fn send(&self, msg: T) -> Result<(), SendError<T>> {
            let mut state = self.0.state.lock().unwrap();
            if !state.receiver {
                return Err(SendError(msg));
            }
            state.queue.push_back(msg);
            drop(state);
            self.0.ready.notify_one();
            Ok(())
        }
    }

    impl<T> Clone for Sender<T> {
        fn clone(&self) -> Self {
            self.0.state.lock().unwrap().senders += 1;
            Self(self.0.clone())
        }
    }

    impl<T> Drop for Sender<T> {
        fn drop(&mut self) {
            let mut state = self.0.state.lock().unwrap();
            state.senders -= 1;
            let last = state.senders == 0;
            drop(state);
            if last {
                self.0.ready.notify_one();
            }
        }
    }

    impl<T> Receiver<T> {
        pub(crate) fn try_recv(&self) -> Result<T, TryRecvError> {
            let mut state = self.0.state.lock().unwrap();
            match state.queue.pop_front() {
                Some(msg) => Ok(msg),
                None if state.senders == 0 => Err(TryRecvError::Disconnected),
                None => Err(TryRecvError::Empty),
            }
        }

        pub(crate) fn recv(&self) -> Result<T, RecvError> {
            let mut state = self.0.state.lock().unwrap();
            loop {
                if let Some(msg) = state.queue.pop_front() {
                    return Ok(msg);
                }
                if state.senders == 0 {
                    return Err(RecvError);
                }
                state = self.0.ready.wait(state).unwrap();
            }
        }
    }

    impl<T> Drop for Receiver<T> {
        fn drop(&mut self) {
            let queued = {
                let mut state = self.0.state.lock().unwrap();
                state.receiver = false;
                std::mem::take(&mut state.queue)
            };
            // Outside the lock: dropping a message answers its caller.
            drop(queued);
        }
    }
}

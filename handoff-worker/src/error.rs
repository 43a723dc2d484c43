//! The worker's error types: what a call or a close can report instead of a value.

/// Why a call produced no value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CallError {
    /// The call panicked on the worker thread; the message is the panic's `&str` or `String`
    /// payload (or a placeholder for other payloads). The worker and its state live on.
    #[error("the call panicked on the worker thread: {0}")]
    Panicked(String),
    /// The call's deadline ([`Worker::call_with_deadline`](crate::Worker::call_with_deadline))
    /// had passed when the worker got to it, so it was skipped and did not run.
    #[error("the call's deadline passed before it started")]
    TimedOut,
    /// The worker was closed or shut down before it started the call; the call did not run.
    #[error("the worker is closed")]
    Closed,
    /// The worker's init closure panicked, so there is no state to run calls on; the message
    /// is the panic's.
    #[error("the worker's init panicked: {0}")]
    InitPanicked(String),
}

/// Why [`Worker::close`](crate::Worker::close) or [`Worker::shutdown`](crate::Worker::shutdown)
/// could not hand the state back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CloseError {
    /// Another close or shutdown already took the worker down (and the state with it).
    #[error("the worker was already closed")]
    AlreadyClosed,
    /// The worker's init closure panicked, so there was never a state.
    #[error("the worker's init panicked: {0}")]
    InitPanicked(String),
    /// The worker thread itself panicked outside any call (for example in the state's `Drop`
    /// during [`Worker::shutdown`](crate::Worker::shutdown)).
    #[error("the worker thread panicked: {0}")]
    ThreadPanicked(String),
}

/// Why [`Builder::try_spawn`](crate::Builder::try_spawn) produced no worker.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SpawnError<E> {
    /// The init closure returned this error (the thread has ended).
    #[error("the worker's init failed: {0}")]
    Init(E),
    /// The init closure panicked; the message is the panic's.
    #[error("the worker's init panicked: {0}")]
    InitPanicked(String),
    /// The operating system refused to create the thread.
    #[error("the worker thread could not be started: {0}")]
    Thread(#[source] std::io::Error),
}

/// The message of a panic payload: its `&str` or `String`, else a placeholder.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "<non-string panic payload>".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_message_reads_str_string_and_other_payloads() {
        let s = std::panic::catch_unwind(|| panic!("plain")).unwrap_err();
        assert_eq!(panic_message(&*s), "plain");
        let n = 3;
        let f = std::panic::catch_unwind(|| panic!("formatted {n}")).unwrap_err();
        assert_eq!(panic_message(&*f), "formatted 3");
        let o = std::panic::catch_unwind(|| std::panic::panic_any(5_u8)).unwrap_err();
        assert_eq!(panic_message(&*o), "<non-string panic payload>");
    }
}

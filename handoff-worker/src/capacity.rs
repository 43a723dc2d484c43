//! The bounded queue's permits (feature `bounded`): one per call the queue may hold, taken by
//! the sender before it queues, given back by the worker as it takes the call off.
//!
//! Without the feature, [`Capacity`] is empty and every method is a no-op, so the rest of
//! the crate needs no `cfg`.

#[cfg(feature = "bounded")]
mod imp {
    use std::future::Future;
    use std::num::NonZeroUsize;
    use std::pin::Pin;
    use std::sync::Arc;

    use async_lock::Semaphore;

    /// `None`: unbounded.
    #[derive(Debug, Clone, Default)]
    pub(crate) struct Capacity(Option<Arc<Semaphore>>);

    impl Capacity {
        pub(crate) fn bounded(capacity: NonZeroUsize) -> Self {
            Self(Some(Arc::new(Semaphore::new(capacity.get()))))
        }

        pub(crate) fn is_bounded(&self) -> bool {
            self.0.is_some()
        }

        /// Takes a permit if one is free (always, unbounded).
        pub(crate) fn try_take(&self) -> bool {
            match &self.0 {
                Some(permits) => permits.try_acquire().map(|p| p.forget()).is_some(),
                None => true,
            }
        }

        /// Waits for a permit and takes it.
        pub(crate) fn take(&self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
            Box::pin(async move {
                if let Some(permits) = &self.0 {
                    permits.acquire().await.forget();
                }
            })
        }

        /// The worker took a call off the queue.
        pub(crate) fn give_back(&self) {
            if let Some(permits) = &self.0 {
                permits.add_permits(1);
            }
        }

        /// The worker is gone: every sender waiting for space wakes (and finds it gone).
        pub(crate) fn open_wide(&self) {
            if let Some(permits) = &self.0 {
                permits.add_permits(usize::MAX / 4);
            }
        }
    }
}

#[cfg(not(feature = "bounded"))]
mod imp {
    /// Always unbounded.
    #[derive(Debug, Clone, Default)]
    pub(crate) struct Capacity;

    impl Capacity {
        pub(crate) fn is_bounded(&self) -> bool {
            false
        }
        pub(crate) fn try_take(&self) -> bool {
            true
        }
        pub(crate) fn give_back(&self) {}
        pub(crate) fn open_wide(&self) {}
    }
}

pub(crate) use imp::Capacity;

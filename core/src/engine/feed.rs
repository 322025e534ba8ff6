//! [`Feed`]: a bounded queue from the engine to one subscriber, read
//! blocking (an iterator) or async (a `Stream`); and [`Signal`], the
//! wake-up a driver sleeps on.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

struct State<T> {
    queue: VecDeque<T>,
    /// Items were dropped since the subscriber last read.
    lagged: bool,
    closed: bool,
    waker: Option<Waker>,
}

/// One subscriber's queue. `capacity` items at most: past that the queue
/// is emptied and the subscriber told it lagged ("resync"), never left
/// silently behind. With `latest`, a new item replaces the one waiting
/// (a status needs no history).
pub(crate) struct Feed<T> {
    state: Mutex<State<T>>,
    ready: Condvar,
    capacity: usize,
    latest: bool,
}

/// What a reader gets from a [`Feed`].
pub(crate) enum Item<T> {
    Value(T),
    Lagged,
}

impl<T> Feed<T> {
    pub(crate) fn new(capacity: usize, latest: bool) -> Arc<Feed<T>> {
        Arc::new(Feed {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                lagged: false,
                closed: false,
                waker: None,
            }),
            ready: Condvar::new(),
            capacity: capacity.max(1),
            latest,
        })
    }

    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn notify(&self, mut state: MutexGuard<'_, State<T>>) {
        let waker = state.waker.take();
        drop(state);
        self.ready.notify_all();
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    pub(crate) fn push(&self, value: T) {
        let mut state = self.lock();
        if self.latest {
            state.queue.clear();
        } else if state.queue.len() >= self.capacity {
            state.queue.clear();
            state.lagged = true;
            self.notify(state);
            return;
        }
        state.queue.push_back(value);
        self.notify(state);
    }

    pub(crate) fn close(&self) {
        let mut state = self.lock();
        state.closed = true;
        self.notify(state);
    }

    fn take(state: &mut State<T>) -> Option<Item<T>> {
        if state.lagged {
            state.lagged = false;
            return Some(Item::Lagged);
        }
        state.queue.pop_front().map(Item::Value)
    }

    /// The next item, waiting for it; `None` once closed and drained.
    pub(crate) fn next_blocking(&self) -> Option<Item<T>> {
        let mut state = self.lock();
        loop {
            if let Some(item) = Feed::take(&mut state) {
                return Some(item);
            }
            if state.closed {
                return None;
            }
            state = self
                .ready
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// The next item if one is waiting.
    pub(crate) fn try_next(&self) -> Option<Item<T>> {
        Feed::take(&mut self.lock())
    }

    pub(crate) fn poll_next(&self, cx: &mut Context<'_>) -> Poll<Option<Item<T>>> {
        let mut state = self.lock();
        if let Some(item) = Feed::take(&mut state) {
            return Poll::Ready(Some(item));
        }
        if state.closed {
            return Poll::Ready(None);
        }
        state.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// A counter a driver sleeps on: every write, answer or stop bumps it.
#[derive(Default)]
pub(crate) struct Signal {
    state: Mutex<(u64, Vec<Waker>)>,
    bumped: Condvar,
}

impl Signal {
    fn lock(&self) -> MutexGuard<'_, (u64, Vec<Waker>)> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn generation(&self) -> u64 {
        self.lock().0
    }

    pub(crate) fn bump(&self) {
        let mut state = self.lock();
        state.0 = state.0.wrapping_add(1);
        let wakers = std::mem::take(&mut state.1);
        drop(state);
        self.bumped.notify_all();
        for waker in wakers {
            waker.wake();
        }
    }

    /// Waits until the counter moves past `seen` or `timeout` passes
    /// (`None`: no timeout).
    pub(crate) fn wait(&self, seen: u64, timeout: Option<Duration>) {
        let state = self.lock();
        let moved = |s: &mut (u64, Vec<Waker>)| s.0 == seen;
        let guard = match timeout {
            Some(t) => self
                .bumped
                .wait_timeout_while(state, t, moved)
                .map(|(s, _)| s)
                .unwrap_or_else(|e| e.into_inner().0),
            None => self
                .bumped
                .wait_while(state, moved)
                .unwrap_or_else(PoisonError::into_inner),
        };
        drop(guard);
    }

    /// A future that is ready once the counter moves past `seen`.
    pub(crate) fn changed(self: &Arc<Signal>, seen: u64) -> Changed {
        Changed {
            signal: Arc::clone(self),
            seen,
        }
    }
}

/// See [`Signal::changed`].
pub(crate) struct Changed {
    signal: Arc<Signal>,
    seen: u64,
}

impl std::future::Future for Changed {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.signal.lock();
        if state.0 != self.seen {
            return Poll::Ready(());
        }
        state.1.push(cx.waker().clone());
        Poll::Pending
    }
}

//! [`Clock`]: where the facades get `now` from.

use crate::Timestamp;

/// A source of the current time for [`crate::BlockingClient`] and
/// [`crate::AsyncClient`]. Operations never read a clock: the facades read
/// this one and pass `now` in, so a test can fix or step time.
///
/// Any `Fn() -> Timestamp` is a clock.
pub trait Clock: Send + Sync + 'static {
    /// The current instant.
    fn now(&self) -> Timestamp;
}

impl<F: Fn() -> Timestamp + Send + Sync + 'static> Clock for F {
    fn now(&self) -> Timestamp {
        self()
    }
}

/// The system's wall clock: the one piece of this crate that reads time,
/// used only as the facades' default.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

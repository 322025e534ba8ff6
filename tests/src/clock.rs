//! [`ManualClock`]: a clock that moves only when told to.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use mana_sync_core::{Clock, Timestamp};

/// A shared clock for tests: it reads the same instant until [`set`] or
/// [`advance`] moves it. Clones share the same time.
///
/// [`set`]: ManualClock::set
/// [`advance`]: ManualClock::advance
#[derive(Clone, Debug)]
pub struct ManualClock(Arc<Mutex<Timestamp>>);

impl ManualClock {
    /// A clock reading `start`.
    pub fn new(start: Timestamp) -> ManualClock {
        ManualClock(Arc::new(Mutex::new(start)))
    }

    /// The time it reads (the same as [`Clock::now`], without importing
    /// the trait).
    pub fn now(&self) -> Timestamp {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sets the time.
    pub fn set(&self, now: Timestamp) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = now;
    }

    /// Moves the time forward by `d` (saturating at year 9999).
    pub fn advance(&self, d: Duration) {
        let mut now = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(next) = now.checked_add(d) {
            *now = next;
        }
    }
}

impl Default for ManualClock {
    /// A clock reading 2026-01-01T00:00:00Z.
    fn default() -> Self {
        ManualClock::new(crate::start_time())
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        ManualClock::now(self)
    }
}

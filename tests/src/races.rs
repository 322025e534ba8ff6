//! [`Races`]: the two races of the real server's SQL, on demand.
//!
//! The real server stores `created_at TIMESTAMPTZ DEFAULT now()` and pages
//! with `WHERE created_at > $since ORDER BY created_at LIMIT 1001`:
//!
//! * concurrent pushes store rows with the same microsecond, and a page
//!   that ends inside such a tie loses the rest of it to a naive reader;
//! * `now()` is the transaction's start, so a row can become visible after
//!   a reader has moved its cursor past its `created_at` (a late commit).
//!
//! And the stream's own failures, as the real server has them:
//!
//! * when a stream's initial query for a collection fails, the server logs
//!   it, sets that collection's cursor to "now" and sends nothing for it
//!   (its backlog is skipped, silently);
//! * a notification is dropped when a subscriber's 32-slot buffer is full,
//!   so a table's change is not announced until its next push.
//!
//! Late commits apply to the stream too: its queries see only committed
//! rows, so a row that commits after a later row was sent is never sent on
//! that connection.
//!
//! By default the in-memory server has none of these (each row gets a
//! strictly later microsecond and is visible at once);
//! [`crate::MemoryServer::set_races`] switches them on.

use std::collections::HashMap;
use std::time::Duration;

use mana_sync_core::Timestamp;

/// Which races the server reproduces. Deterministic: which rows tie and
/// which commit late depends only on the order rows are stored in.
///
/// ```
/// use std::time::Duration;
/// use mana_sync_testkit::{MemoryServer, Races};
///
/// let server = MemoryServer::new();
/// // Rows stored three to a microsecond; every 7th row visible only 2 s
/// // (server time) after its created_at.
/// server.set_races(Races::none().equal_times(3).late_commits(7, Duration::from_secs(2)));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Races {
    equal_times: usize,
    late_every: usize,
    late_lag: Duration,
    skip_initial_every: usize,
    drop_notice_every: usize,
}

impl Races {
    /// No race: what [`crate::MemoryServer::new`] does.
    pub fn none() -> Races {
        Races::default()
    }

    /// Stores the rows of each push in runs of `run` sharing one
    /// `created_at` (1 or 0: every row strictly later than the one before),
    /// as transactions that start in the same microsecond. A run never
    /// spans two pushes, so that a tie is only a tie (a row joining an old
    /// run after a read would be a late commit as well).
    pub fn equal_times(mut self, run: usize) -> Races {
        self.equal_times = run;
        self
    }

    /// Makes every `every`-th stored row (the `every`-th, the `2 every`-th,
    /// ...) commit `lag` after its `created_at`: reads and push answers
    /// before the server's clock reaches that instant do not see it. 0 turns
    /// it off.
    pub fn late_commits(mut self, every: usize, lag: Duration) -> Races {
        self.late_every = every;
        self.late_lag = lag;
        self
    }

    /// Makes every `every`-th initial query of a stream (counted over all
    /// streams and collections, in the order they are opened) fail as the
    /// real server's does: the collection's cursor is set to the server's
    /// clock and nothing is sent for its backlog. 0 turns it off.
    pub fn failed_initial_queries(mut self, every: usize) -> Races {
        self.skip_initial_every = every;
        self
    }

    /// Drops every `every`-th notification of a push that a stream hears
    /// of (counted over all streams), as the real server does when a
    /// subscriber's buffer is full: that stream does not query for it. 0
    /// turns it off.
    pub fn dropped_notifications(mut self, every: usize) -> Races {
        self.drop_notice_every = every;
        self
    }
}

/// The server's bookkeeping for [`Races`].
#[derive(Debug, Default)]
pub(crate) struct RaceState {
    races: Races,
    /// Rows stored at the last `created_at`.
    in_run: usize,
    /// Rows stored since the races were set.
    stored: usize,
    /// Rows not committed yet, by event id: when they commit.
    pending: HashMap<String, Timestamp>,
    /// Initial stream queries made since the races were set.
    initial_queries: usize,
    /// Notifications heard by streams since the races were set.
    notices: usize,
}

impl RaceState {
    pub(crate) fn set(&mut self, races: Races) {
        *self = RaceState {
            races,
            ..RaceState::default()
        };
    }

    /// A push (or a seed) begins: the next row starts a new run.
    pub(crate) fn begin_push(&mut self) {
        self.in_run = 0;
    }

    /// The `created_at` of the next row, given the last one and the
    /// server's clock (in microseconds): the same as the last within a run
    /// of equal times, else the clock, strictly after the last.
    pub(crate) fn created_at(&mut self, last: Option<Timestamp>, now: Timestamp) -> Timestamp {
        if let Some(last) = last {
            if self.races.equal_times > 1 && self.in_run > 0 && self.in_run < self.races.equal_times
            {
                self.in_run += 1;
                return last;
            }
        }
        self.in_run = 1;
        match last {
            Some(last) if last >= now => last.checked_add(Duration::from_micros(1)).unwrap_or(last),
            _ => now,
        }
    }

    /// Notes a stored row, which may commit late.
    pub(crate) fn stored(&mut self, event_id: &str, created_at: Timestamp) {
        self.stored = self.stored.saturating_add(1);
        let every = self.races.late_every;
        if every > 0 && self.stored.is_multiple_of(every) {
            let commit = created_at
                .checked_add(self.races.late_lag)
                .unwrap_or(created_at);
            self.pending.insert(event_id.to_owned(), commit);
        }
    }

    /// Counts an initial stream query: whether it fails.
    pub(crate) fn initial_query_fails(&mut self) -> bool {
        self.initial_queries = self.initial_queries.saturating_add(1);
        let every = self.races.skip_initial_every;
        every > 0 && self.initial_queries.is_multiple_of(every)
    }

    /// Counts a notification heard by a stream: whether it is dropped.
    pub(crate) fn notice_dropped(&mut self) -> bool {
        self.notices = self.notices.saturating_add(1);
        let every = self.races.drop_notice_every;
        every > 0 && self.notices.is_multiple_of(every)
    }

    /// Whether the row is visible (committed) at `now`.
    pub(crate) fn visible(&self, event_id: &str, now: Timestamp) -> bool {
        self.pending
            .get(event_id)
            .is_none_or(|commit| now >= *commit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_of_equal_times_and_late_rows() {
        let t0 = Timestamp::UNIX_EPOCH
            .checked_add(Duration::from_secs(100))
            .unwrap_or(Timestamp::UNIX_EPOCH);
        let mut s = RaceState::default();
        s.set(
            Races::none()
                .equal_times(3)
                .late_commits(2, Duration::from_secs(1)),
        );
        let mut last = None;
        let mut times = Vec::new();
        s.begin_push();
        for i in 0..7 {
            let t = s.created_at(last, t0);
            s.stored(&format!("e{i}"), t);
            times.push(t);
            last = Some(t);
        }
        let micros: Vec<i128> = times
            .iter()
            .map(|t| (t.unix_nanos() - t0.unix_nanos()) / 1000)
            .collect();
        assert_eq!(micros, vec![0, 0, 0, 1, 1, 1, 2]);
        s.begin_push();
        let t = s.created_at(last, t0);
        assert!(t > times[6], "a new push starts a new run");
        assert!(s.visible("e0", t0));
        assert!(!s.visible("e1", t0), "the 2nd row commits late");
        let later = t0.checked_add(Duration::from_secs(1)).unwrap_or(t0);
        assert!(s.visible("e1", later));
        assert!(!s.visible("e5", later));
    }
}

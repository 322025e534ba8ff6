//! [`KeyCache`]: master keys per user, for a short time.

use std::collections::HashMap;
use std::time::Duration;

use crate::crypto::MasterKey;
use crate::Timestamp;

/// Master keys per user id, each kept for a time-to-live (5 minutes by
/// default) and dropped, zeroised, when it runs out. Every vault fetch
/// writes an audit row upstream, so clients cache.
///
/// The current time is an argument: expiry is testable without sleeping.
///
/// ```
/// # use mana_sync_core::surface as mana_sync_ureq;
/// use std::time::Duration;
/// use mana_sync_ureq::{crypto::MasterKey, KeyCache, Timestamp};
///
/// let mut cache = KeyCache::default();
/// let t0 = Timestamp::parse("2026-01-01T00:00:00Z")?;
/// cache.insert("u-1", MasterKey::from_bytes(&[1; 32])?, t0);
/// assert!(cache.get("u-1", t0.checked_add(Duration::from_secs(299)).unwrap()).is_some());
/// assert!(cache.get("u-1", t0.checked_add(Duration::from_secs(300)).unwrap()).is_none());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct KeyCache {
    ttl: Duration,
    entries: HashMap<String, (MasterKey, Timestamp)>,
}

impl Default for KeyCache {
    fn default() -> Self {
        KeyCache::new(KeyCache::DEFAULT_TTL)
    }
}

impl KeyCache {
    /// Five minutes.
    pub const DEFAULT_TTL: Duration = Duration::from_secs(300);

    /// An empty cache keeping keys for `ttl`.
    pub fn new(ttl: Duration) -> KeyCache {
        KeyCache {
            ttl,
            entries: HashMap::new(),
        }
    }

    /// The time-to-live.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// The user's key, if fetched less than the TTL before `now`. An expired
    /// key is dropped.
    pub fn get(&mut self, user_id: &str, now: Timestamp) -> Option<MasterKey> {
        let fresh = self
            .entries
            .get(user_id)
            .is_some_and(|(_, at)| now.saturating_duration_since(*at) < self.ttl);
        if !fresh {
            self.entries.remove(user_id);
            return None;
        }
        self.entries.get(user_id).map(|(key, _)| key.clone())
    }

    /// Keeps `key` for `user_id`, fetched at `now`.
    pub fn insert(&mut self, user_id: &str, key: MasterKey, now: Timestamp) {
        self.entries.insert(user_id.to_owned(), (key, now));
    }

    /// Forgets a user's key.
    pub fn remove(&mut self, user_id: &str) {
        self.entries.remove(user_id);
    }

    /// Drops every key that expired by `now`.
    pub fn purge_expired(&mut self, now: Timestamp) {
        let ttl = self.ttl;
        self.entries
            .retain(|_, (_, at)| now.saturating_duration_since(*at) < ttl);
    }

    /// How many keys it holds (expired ones included until touched).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

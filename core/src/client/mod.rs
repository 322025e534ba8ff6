//! The facades: [`BlockingClient`] and [`AsyncClient`], each a config, a
//! transport and a clock, and a loop that drives any [`crate::Operation`].

mod blocking;
mod nonblocking;

pub use blocking::BlockingClient;
pub use nonblocking::AsyncClient;

use std::sync::{Arc, Mutex, PoisonError};

use serde_json::{Map, Value};

use crate::crypto::MasterKey;
use crate::ops::{Health, Pull, PullAll, Push};
use crate::{Change, Config, Cursor, Error, KeyCache, Timestamp};

/// A key cache shared between clients.
pub type SharedKeyCache = Arc<Mutex<KeyCache>>;

/// The user's key from the cache, if still fresh at `now`.
pub(crate) fn cached_key(
    keys: &SharedKeyCache,
    user_id: &str,
    now: Timestamp,
) -> Option<MasterKey> {
    keys.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(user_id, now)
}

/// Remembers a freshly fetched key.
pub(crate) fn remember_key(keys: &SharedKeyCache, user_id: &str, key: &MasterKey, now: Timestamp) {
    keys.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(user_id, key.clone(), now);
}

/// The operations both facades offer, built from one config.
pub(crate) fn push(
    config: &Config,
    app_id: &str,
    changes: &[Change],
    since: &Cursor,
) -> Result<Push, Error> {
    Push::new(config, app_id, changes, since)
}

pub(crate) fn push_insert(
    config: &Config,
    app_id: &str,
    table: &str,
    id: &str,
    data: Map<String, Value>,
    now: Timestamp,
) -> Result<Push, Error> {
    Push::new(
        config,
        app_id,
        &[Change::insert(table, id, data)],
        &Cursor::from(now),
    )
}

pub(crate) fn pull(
    config: &Config,
    app_id: &str,
    collection: &str,
    since: &Cursor,
) -> Result<Pull, Error> {
    Pull::new(config, app_id, collection, since)
}

pub(crate) fn pull_all(
    config: &Config,
    app_id: &str,
    collection: &str,
    since: &Cursor,
) -> Result<PullAll, Error> {
    PullAll::new(config, app_id, collection, since)
}

pub(crate) fn health(config: &Config) -> Result<Health, Error> {
    Health::new(config.sync_url())
}

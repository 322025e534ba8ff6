//! The facades: [`BlockingClient`] and [`AsyncClient`], each a config, a
//! transport and a clock, and a loop that drives any [`crate::Operation`].

mod blocking;
mod nonblocking;

pub use blocking::BlockingClient;
pub use nonblocking::AsyncClient;

use std::sync::{Arc, Mutex, PoisonError};

use serde_json::{Map, Value};

use crate::crypto::MasterKey;
use crate::ops::Push;
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

/// A push of one insert that asks for others' changes from `now` on.
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

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
use crate::{Change, Config, Cursor, Error, KeyCache, Timestamp, Token};

/// A key cache shared between clients.
pub type SharedKeyCache = Arc<Mutex<KeyCache>>;

/// The key of the user `config`'s token speaks for (its `sub` claim), from
/// the cache if still fresh at `now`. The caller names no user: no call can
/// read another user's key through a shared cache.
pub(crate) fn cached_key(
    keys: &SharedKeyCache,
    config: &Config,
    now: Timestamp,
) -> Option<MasterKey> {
    let user = config.token().subject()?;
    keys.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&user, now)
}

/// Remembers a key freshly fetched with `token`, under the user that token
/// speaks for (not at all when it names none).
pub(crate) fn remember_key(keys: &SharedKeyCache, token: &Token, key: &MasterKey, now: Timestamp) {
    if let Some(user) = token.subject() {
        keys.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(&user, key.clone(), now);
    }
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

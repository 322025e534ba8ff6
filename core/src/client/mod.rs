//! The facades: [`BlockingClient`] and [`AsyncClient`], each a transport and
//! the settings they share (config, clock, key cache, retry policy,
//! token source), and a loop that drives any [`crate::Operation`].

mod blocking;
mod nonblocking;
mod stream;

pub use blocking::{BlockingClient, StreamIter};
pub use nonblocking::AsyncClient;

use std::sync::{Arc, Mutex, PoisonError};

use serde_json::{Map, Value};

use crate::crypto::MasterKey;
use crate::ops::{Pull, PullAll, Push};
use crate::retry::{Auth, JitterRng, Retrying};
use crate::{
    Change, Clock, Config, Cursor, Error, KeyCache, RetryPolicy, SystemClock, Timestamp, Token,
};

/// A key cache shared between clients.
pub type SharedKeyCache = Arc<Mutex<KeyCache>>;

/// What both facades hold besides their transport.
#[derive(Clone)]
pub(crate) struct Settings {
    pub(crate) config: Config,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) keys: SharedKeyCache,
    pub(crate) retry: RetryPolicy,
    pub(crate) rng: Arc<Mutex<JitterRng>>,
    pub(crate) auth: Auth,
    /// Whether `pull` and `pull_all` read this client's own changes too.
    pub(crate) include_own: bool,
    /// How often a stream pulls every collection while connected.
    pub(crate) recheck_every: std::time::Duration,
}

impl Settings {
    pub(crate) fn new(config: Config) -> Settings {
        Settings {
            config,
            clock: Arc::new(SystemClock),
            keys: Arc::new(Mutex::new(KeyCache::default())),
            retry: RetryPolicy::default(),
            rng: Arc::new(Mutex::new(JitterRng::from_os())),
            auth: Auth::default(),
            include_own: false,
            recheck_every: crate::ops::DEFAULT_RECHECK_EVERY,
        }
    }

    /// The [`Pull`] of the facades' `pull`.
    pub(crate) fn pull(
        &self,
        app_id: &str,
        collection: &str,
        since: &Cursor,
    ) -> Result<Pull, Error> {
        if self.include_own {
            Pull::including_own_changes(&self.config, app_id, collection, since)
        } else {
            Pull::new(&self.config, app_id, collection, since)
        }
    }

    /// The [`PullAll`] of the facades' `pull_all`.
    pub(crate) fn pull_all(
        &self,
        app_id: &str,
        collection: &str,
        since: &Cursor,
    ) -> Result<PullAll, Error> {
        let op = PullAll::new(&self.config, app_id, collection, since)?;
        Ok(if self.include_own {
            op.including_own_changes()
        } else {
            op
        })
    }

    pub(crate) fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// A generator for one operation's jitter, drawn from the client's.
    pub(crate) fn jitter(&self) -> JitterRng {
        self.rng
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .fork()
    }

    /// `op` with the client's retry policy and token source.
    pub(crate) fn retrying<O>(&self, op: O) -> Retrying<O> {
        Retrying::new(op, self.retry, self.jitter(), self.auth.clone())
    }
}

/// The builder methods and accessors both facades share, written once.
macro_rules! shared_facade_methods {
    () => {
        /// Replaces the clock (a fixed one, in tests).
        pub fn with_clock(mut self, clock: impl $crate::Clock) -> Self {
            self.settings.clock = ::std::sync::Arc::new(clock);
            self
        }

        /// Shares a master-key cache (e.g. between the clients of a gateway
        /// serving many users, or to set another time-to-live).
        pub fn with_key_cache(mut self, keys: $crate::SharedKeyCache) -> Self {
            self.settings.keys = keys;
            self
        }

        /// Sets the retry policy of every operation (default: each request
        /// tried again for 30 s after its first failure, waits of 0.25 s to
        /// 8 s; [`RetryPolicy::browser`] for the browser's 3 attempts,
        /// [`RetryPolicy::none`] for none). See [`crate::retry`].
        ///
        /// [`RetryPolicy::none`]: crate::RetryPolicy::none
        /// [`RetryPolicy::browser`]: crate::RetryPolicy::browser
        pub fn with_retry(mut self, policy: $crate::RetryPolicy) -> Self {
            self.settings.retry = policy;
            self
        }

        /// Draws the retries' jitter from `rng` (seeded from the operating
        /// system by default): a seeded one makes the waits repeatable.
        pub fn with_jitter(mut self, rng: $crate::retry::JitterRng) -> Self {
            self.settings.rng = ::std::sync::Arc::new(::std::sync::Mutex::new(rng));
            self
        }

        /// Asks `source` for a fresh token when the server answers 401 (an
        /// expired JWT), before giving up: after every 401, but not twice
        /// in a row for one request. The fresh token is used from then on by
        /// this client and its clones.
        pub fn with_token_source(mut self, source: impl $crate::TokenSource + 'static) -> Self {
            self.settings.auth = $crate::retry::Auth::with_source(::std::sync::Arc::new(source));
            self
        }

        /// Whether `pull` and `pull_all` read this client's own changes too
        /// (default: no, as the protocol does). The server leaves out the
        /// changes pushed with the client id it is sent, so after a push the
        /// same client's `pull_all` does not see what it pushed; with
        /// `true`, both read with [`Config::reader_client_id`], an id of
        /// this client's that never writes, and see everything. `records`,
        /// `pull_into`, `list` and `get` always read that way. The client
        /// is cheap to clone: `client.clone().with_own_changes(true)` gives
        /// a reader beside the writer.
        ///
        /// [`Config::reader_client_id`]: crate::Config::reader_client_id
        pub fn with_own_changes(mut self, include: bool) -> Self {
            self.settings.include_own = include;
            self
        }

        /// How often a stream (`stream`, `stream_from`, `watch_into`) pulls
        /// every collection while connected, for what a live connection
        /// can miss ([`crate::ops::Stream::recheck_every`]; a minute by
        /// default).
        pub fn with_stream_recheck(mut self, every: ::std::time::Duration) -> Self {
            self.settings.recheck_every = every;
            self
        }

        /// An empty [`Batch`] of typed writes to app `app_id`, stamped with
        /// this client's clock; push it with `push_batch`.
        ///
        /// [`Batch`]: crate::Batch
        pub fn batch(&self, app_id: &str) -> $crate::Batch {
            $crate::Batch::new(app_id, self.settings.now())
        }

        /// The config.
        pub fn config(&self) -> &$crate::Config {
            &self.settings.config
        }

        /// The config, to change (e.g. [`Config::set_token`]).
        ///
        /// [`Config::set_token`]: crate::Config::set_token
        pub fn config_mut(&mut self) -> &mut $crate::Config {
            &mut self.settings.config
        }

        /// The transport.
        pub fn transport(&self) -> &T {
            &self.transport
        }
    };
}
pub(crate) use shared_facade_methods;

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

//! [`EngineSettings`]: what an engine syncs and how patiently.

use std::time::Duration;

use crate::fold::DEFAULT_OVERLAP;
use crate::limits::MAX_CHANGES_PER_PUSH;
use crate::retry::JitterRng;
use crate::RetryPolicy;

/// What an [`Engine`](super::Engine) syncs, and its timings.
///
/// ```
/// use std::time::Duration;
/// use mana_sync_core::engine::EngineSettings;
///
/// let settings = EngineSettings::new("todo", &["tasks", "tags"])
///     .debounce(Duration::from_millis(200))
///     .repull_every(Some(Duration::from_secs(120)));
/// assert_eq!(settings.collections, ["tasks", "tags"]);
/// ```
#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// The app.
    pub app_id: String,
    /// The collections (tables) kept in sync.
    pub collections: Vec<String>,
    /// How long a push waits after a write for more writes (1 s).
    pub debounce: Duration,
    /// The backoff between failed attempts: full jitter from a 0.5 s base
    /// doubling up to a 30 s cap, for as long as it takes (the policy's
    /// attempt count is not used: the engine never gives up); a server's
    /// `Retry-After` is honoured up to 60 s.
    pub retry: RetryPolicy,
    /// How far before its cursor a catch-up starts (5 s).
    pub overlap: Duration,
    /// Catch every collection up again this long after the last round
    /// (60 s), even while a stream is open: the server's notifications can
    /// be dropped (PROTOCOL.md). `None`: only at start and on reconnect.
    pub repull_every: Option<Duration>,
    /// How long sync pauses after a 402 before trying again (5 min, the
    /// server's cache of the subscription state).
    pub payment_retry: Duration,
    /// Most changes a push request carries (200).
    pub max_batch: usize,
    /// The jitter's generator (seed it in tests: the same seed, the same
    /// waits).
    pub jitter: JitterRng,
    /// Whether the drivers keep a live stream open once the first catch-up
    /// is done (on by default): other devices' changes then arrive as they
    /// are made instead of at the next catch-up.
    pub live: bool,
}

impl EngineSettings {
    /// Syncs `collections` of app `app_id`, with the defaults.
    pub fn new(app_id: &str, collections: &[&str]) -> EngineSettings {
        EngineSettings {
            app_id: app_id.to_owned(),
            collections: collections.iter().map(|c| (*c).to_owned()).collect(),
            debounce: Duration::from_secs(1),
            retry: RetryPolicy::default()
                .base(Duration::from_millis(500))
                .cap(Duration::from_secs(30)),
            overlap: DEFAULT_OVERLAP,
            repull_every: Some(Duration::from_secs(60)),
            payment_retry: Duration::from_secs(300),
            max_batch: MAX_CHANGES_PER_PUSH,
            jitter: JitterRng::seeded(0),
            live: true,
        }
    }

    /// Sets [`EngineSettings::debounce`].
    pub fn debounce(mut self, debounce: Duration) -> Self {
        self.debounce = debounce;
        self
    }

    /// Sets [`EngineSettings::retry`].
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Sets [`EngineSettings::overlap`].
    pub fn overlap(mut self, overlap: Duration) -> Self {
        self.overlap = overlap;
        self
    }

    /// Sets [`EngineSettings::repull_every`].
    pub fn repull_every(mut self, every: Option<Duration>) -> Self {
        self.repull_every = every;
        self
    }

    /// Sets [`EngineSettings::payment_retry`].
    pub fn payment_retry(mut self, wait: Duration) -> Self {
        self.payment_retry = wait;
        self
    }

    /// Sets [`EngineSettings::max_batch`] (at least 1, at most 200).
    pub fn max_batch(mut self, changes: usize) -> Self {
        self.max_batch = changes.clamp(1, MAX_CHANGES_PER_PUSH);
        self
    }

    /// Sets [`EngineSettings::jitter`].
    pub fn jitter(mut self, rng: JitterRng) -> Self {
        self.jitter = rng;
        self
    }

    /// Sets [`EngineSettings::live`].
    pub fn live(mut self, live: bool) -> Self {
        self.live = live;
        self
    }
}

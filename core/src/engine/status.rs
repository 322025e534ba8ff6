//! [`Status`]: what the engine is doing, for the app to show.

use crate::Timestamp;

/// A snapshot of the engine's state. Nothing in it is secret.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Status {
    /// Local writes not yet acknowledged by the server.
    pub pending: usize,
    /// Every synced collection caught up at least once since the engine
    /// opened.
    pub caught_up: bool,
    /// When the oldest of them was written.
    pub oldest_pending: Option<Timestamp>,
    /// The last push the server acknowledged.
    pub last_push: Option<Timestamp>,
    /// The last catch-up of a collection that completed.
    pub last_pull: Option<Timestamp>,
    /// Whether the last exchange with the server got an answer.
    pub connected: bool,
    /// Whether the live stream is delivering (it delivered an event, and
    /// has not been cut since).
    pub live: bool,
    /// Changes the server refused for good.
    pub dead_letters: usize,
    /// Failed attempts in a row (pushes and pulls); 0 when the last worked.
    pub retries: u32,
    /// Sync is paused by the server (402: the subscription is inactive),
    /// with its text; it is tried again now and then.
    pub paused: Option<String>,
    /// The server refused the token (401); a fresh one is needed.
    pub unauthorized: bool,
    /// The last failure, bounded text without secrets.
    pub last_error: Option<String>,
}

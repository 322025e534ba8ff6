//! The engine's live stream: the [`Stream`] a driver keeps open once every
//! collection has caught up, and what each of its events does to the store.

use std::time::Duration;

use super::{advance, Engine, EngineError};
use crate::engine::store::Store;
use crate::error::bound;
use crate::ops::{ChangeBatch, Stream, StreamEvent};
use crate::{Cursor, Error, Timestamp};

impl<S: Store> Engine<S> {
    /// Whether a live stream may open now: live sync is on
    /// ([`super::EngineSettings::live`]), every collection caught up once,
    /// and the server neither refuses the token nor pauses sync.
    pub fn can_go_live(&self) -> bool {
        self.settings.live
            && self.caught_up_once
            && self.token_retry.is_none()
            && self.paused_until.is_none()
    }

    /// The live stream of every synced collection, to open now
    /// (`None`: not now, see [`Engine::can_go_live`]).
    ///
    /// It starts from each collection's stored cursor, held back by the
    /// overlap, and recognises what the engine's reads delivered before, so
    /// nothing is folded twice and nothing between the last catch-up and
    /// the connection is missed. A driver runs it and hands each event to
    /// [`Engine::on_stream_event`], and its end to [`Engine::on_stream_end`].
    pub fn live_stream(&mut self) -> Result<Option<Stream>, EngineError> {
        if !self.can_go_live() {
            return Ok(None);
        }
        let mut states = Vec::with_capacity(self.settings.collections.len());
        for collection in &self.settings.collections {
            states.push((collection.clone(), self.store.collection(collection)?));
        }
        let reads = states.iter().map(|(collection, state)| {
            let cursor = state.cursor.clone().unwrap_or(Cursor::EPOCH);
            (collection.clone(), cursor, Some(&state.seen))
        });
        let stream = Stream::resuming(
            &self.config,
            &self.settings.app_id,
            reads,
            self.settings.overlap,
        )?
        .retry(self.settings.retry, self.rng.fork());
        tracing::debug!(app = %self.settings.app_id, "live stream opening");
        Ok(Some(stream))
    }

    /// An event of the live stream. A batch of changes is folded over the
    /// local records by last-write-wins in one commit with the collection's
    /// cursor and delivered ids, so a crash leaves either both or neither;
    /// if that commit fails, nothing is stored and a catch-up is queued to
    /// read the changes again. Any event also tells the engine the server
    /// is reachable (a push waiting out a failure is retried at once).
    pub fn on_stream_event(&mut self, event: &StreamEvent, now: Timestamp) {
        match event {
            StreamEvent::Changes(batch) => {
                self.stream_failures = 0;
                self.status.live = true;
                self.on_stream_activity(now);
                self.fold_batch(batch, now);
            }
            StreamEvent::Heartbeat => {
                self.stream_failures = 0;
                self.status.live = true;
                self.on_stream_activity(now);
            }
            StreamEvent::Reconnecting { .. } => self.status.live = false,
            StreamEvent::Stalled { reason, .. } => {
                self.status.live = false;
                self.status.last_error = Some(bound(reason, crate::limits::ERROR_BODY_CHARS));
            }
        }
    }

    /// The live stream ended with `error`, or could not start (the store
    /// failed). The stream itself reconnects through transient failures;
    /// this is a refused token, a paused subscription, a server failing it
    /// for good, or a store that failed. A refused token asks
    /// for a fresh one and a 402 pauses sync, as a request's would. Returns
    /// how long the driver waits before asking [`Engine::live_stream`]
    /// again (a backoff growing with the ends in a row).
    pub fn on_stream_end(&mut self, error: &EngineError, now: Timestamp) -> Duration {
        self.status.live = false;
        self.stream_failures = self.stream_failures.saturating_add(1);
        tracing::debug!(failures = self.stream_failures, "live stream ended");
        match error {
            EngineError::Sync(Error::Unauthorized { .. }) => {
                if self.token_retry.is_none() {
                    self.need_token(now);
                }
            }
            EngineError::Sync(Error::PaymentRequired { .. }) => {
                if self.paused_until.is_none() {
                    self.pause(now, error.to_string());
                }
            }
            _ => {
                self.status.last_error =
                    Some(bound(&error.to_string(), crate::limits::ERROR_BODY_CHARS))
            }
        }
        self.backoff(self.stream_failures, None)
    }

    fn fold_batch(&mut self, batch: &ChangeBatch, now: Timestamp) {
        if !self.settings.collections.contains(&batch.collection) {
            return;
        }
        let stored = self
            .store
            .collection(&batch.collection)
            .and_then(|mut state| {
                advance(
                    &mut state,
                    &batch.cursor,
                    batch.delivered(),
                    self.settings.overlap,
                );
                self.fold_server(&batch.changes, vec![(batch.collection.clone(), state)], now)
            });
        if let Err(e) = stored {
            // Nothing of the batch is stored and the cursor did not move:
            // the catch-up reads it again.
            tracing::warn!(collection = %batch.collection, "a streamed batch could not be stored; catching up");
            self.status.last_error = Some(bound(&e.to_string(), crate::limits::ERROR_BODY_CHARS));
            self.queue_round(now);
        }
    }
}

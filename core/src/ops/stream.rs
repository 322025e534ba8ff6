//! [`Stream`]: the live change stream, `GET {base}/sync/{appId}/stream`, as a
//! state machine that reconnects, completes `hasMore` batches by pulling, and
//! de-duplicates what a resume re-sends.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;

use bytes::Bytes;
use http::{header, Method, Request, Response};

use super::dedup::Delivered;
use super::PullAll;
use crate::endpoint::{authed, check_segment, uri};
use crate::fold::DEFAULT_OVERLAP;
use crate::response::check_status;
use crate::retry::{classify, Auth, Failure, JitterRng, Retrying};
use crate::sse::{SseDecoder, SseEvent};
use crate::wire::{StreamBatch, StreamMessage};
use crate::{
    Change, Config, Cursor, Error, Operation, RetryPolicy, SkippedChange, Step, Timestamp,
    TransportError,
};

/// Most bytes of an error response's body read from a stream request.
const ERROR_BODY_CAP: usize = 64 * 1024;

/// Largest single event the stream accepts (a page of 1000 changes fits
/// easily); a larger one is a broken or hostile server and cuts the
/// connection.
const MAX_EVENT_BYTES: usize = 64 * 1024 * 1024;

/// What the stream hands to the app.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum StreamEvent {
    /// Other clients' changes to one of the requested collections.
    Changes(ChangeBatch),
    /// The server's heartbeat: the connection is alive and nothing new
    /// arrived.
    Heartbeat,
    /// The connection was cut (or could not be opened); the stream waits
    /// `wait` and reconnects from its cursors. For information: nothing is
    /// lost.
    Reconnecting {
        /// How long it waits before reconnecting.
        wait: Duration,
        /// Why (bounded text, never a token).
        reason: String,
    },
}

/// Changes of one collection, in the server's order, with no change the
/// stream already delivered.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeBatch {
    /// The collection (table).
    pub collection: String,
    /// The changes, oldest first.
    pub changes: Vec<Change>,
    /// Where the collection now stands: resume from here (verbatim).
    pub cursor: Cursor,
    /// Changes the server sent that were malformed and dropped (reported,
    /// never applied; the cursor moved past them).
    pub skipped: Vec<SkippedChange>,
}

/// What [`Stream`] wants next. A driver answers each with the matching
/// call: `Open` with [`Stream::on_open`], `Read` with [`Stream::on_chunk`],
/// `Send` with [`Stream::on_response`]; `Wait` by sleeping; `Event` by
/// handing the event to the app.
#[derive(Debug)]
pub enum StreamStep {
    /// Open this request as a stream (drop any body still open), then call
    /// [`Stream::on_open`] with the head.
    Open(Request<Vec<u8>>),
    /// Read the next piece of the open body and call [`Stream::on_chunk`].
    Read,
    /// Send this ordinary request (a pull) and call [`Stream::on_response`].
    /// The open body, if any, stays open.
    Send(Request<Vec<u8>>),
    /// Drop the open body, if any, and wait this long.
    Wait(Duration),
    /// Hand this event to the app, then step again.
    Event(StreamEvent),
    /// The stream ended for good with this error (a permanent one, e.g. a
    /// refused token, or the reconnect limit was reached). Drop the body.
    Done(Error),
}

enum Phase {
    /// About to (re)connect: pull the collections behind, then open.
    Connect,
    /// Pulling `collection` before (re)connecting, or to complete a batch
    /// that said `hasMore` (`streaming`: the body stays open).
    Pulling {
        collection: String,
        pull: Box<Retrying<PullAll>>,
        streaming: bool,
    },
    /// Waiting for the head.
    Opening,
    /// Reading a failed stream response's body.
    ErrorBody {
        head: Response<()>,
        body: Vec<u8>,
    },
    /// Reading events.
    Streaming,
    /// Waiting before reconnecting.
    Backoff(Duration),
    /// Failed for good.
    Failed(Error),
    Finished,
}

/// The live change stream of some collections of an app.
///
/// It opens `/sync/{app}/stream?collections=..&since=..`, turns `changes`
/// events into [`ChangeBatch`]es and heartbeats into
/// [`StreamEvent::Heartbeat`], keeps a cursor per collection, pulls the rest
/// of a batch that says `hasMore` before going on, and after a cut (a
/// dropped connection, silence past the idle timeout, a 5xx) waits with the
/// [`RetryPolicy`]'s backoff and reconnects from its cursors.
///
/// What it promises, within one `Stream`:
///
/// * **nothing is lost**: every change of a requested collection made by
///   another client after its starting cursor is delivered, across any
///   number of reconnects (the server takes one `since` for all
///   collections: the stream reconnects from the newest cursor and first
///   pulls every collection that is behind it);
/// * **nothing is delivered twice**: what a reconnect re-sends (the server
///   re-sends what lies after `since`, byte for byte) is recognised by its
///   content and dropped. Two changes with exactly the same content count as
///   one; that is harmless, since applying a change twice changes nothing.
///   The memory this takes covers what was delivered since the current
///   connection's `since`, at most 200,000 changes; past that, a resume may
///   deliver an old change again (still harmless for a fold);
/// * events for collections that were not asked for (the real server sends
///   them when another client writes such a table) are dropped;
/// * the caller's own changes are left out, as with a pull (the request
///   carries the configured `X-Client-Id`).
///
/// Permanent failures (401 without a fresh token, 402, 400, 404, a response
/// that is not an event stream) end it with [`StreamStep::Done`].
///
/// ```
/// use mana_sync_core::ops::{Stream, StreamStep};
/// use mana_sync_core::{Config, Cursor, Timestamp};
///
/// let config = Config::new("https://sync.example.com", "token", "my-agent")?;
/// let mut stream = Stream::new(&config, "todo", &["tasks", "notes"], &Cursor::EPOCH)?;
/// let StreamStep::Open(request) = stream.step(Timestamp::UNIX_EPOCH) else { unreachable!() };
/// assert_eq!(
///     request.uri(),
///     "https://sync.example.com/sync/todo/stream?collections=notes%2Ctasks&since=1970-01-01T00%3A00%3A00.000Z"
/// );
/// # Ok::<(), mana_sync_core::Error>(())
/// ```
pub struct Stream {
    config: Config,
    app_id: String,
    cursors: BTreeMap<String, Cursor>,
    policy: RetryPolicy,
    max_reconnects: Option<u32>,
    rng: JitterRng,
    auth: Auth,
    refreshed: bool,
    overlap: Duration,
    /// Failed connections in a row.
    failures: u32,
    /// Whether a connection was opened before (the first one starts at the
    /// cursors exactly: the caller asked for what comes after them).
    reconnecting: bool,
    /// This connection round: its `since`, and the collections already
    /// pulled up to it.
    round_since: Cursor,
    caught_up: BTreeSet<String>,
    /// Per collection, the point after which the server may still send
    /// (again) what it has: the connection's `since` until the
    /// collection's first event on it, then that event's `syncedUntil`.
    server_view: BTreeMap<String, Timestamp>,
    delivered: Delivered,
    decoder: SseDecoder,
    queue: VecDeque<StreamEvent>,
    phase: Phase,
}

impl Stream {
    /// The stream of `collections` of app `app_id`, from `since` for all.
    pub fn new(
        config: &Config,
        app_id: &str,
        collections: &[&str],
        since: &Cursor,
    ) -> Result<Stream, Error> {
        let cursors = collections
            .iter()
            .map(|c| ((*c).to_owned(), since.clone()))
            .collect();
        Stream::from_cursors(config, app_id, cursors)
    }

    /// The stream of the collections named in `cursors`, each from its own
    /// cursor (e.g. those a [`crate::fold::Replica`] kept).
    pub fn from_cursors(
        config: &Config,
        app_id: &str,
        cursors: BTreeMap<String, Cursor>,
    ) -> Result<Stream, Error> {
        check_segment("app id", app_id)?;
        if cursors.is_empty() {
            return Err(Error::InvalidRequest {
                reason: "a stream needs at least one collection".into(),
            });
        }
        if let Some(bad) = cursors.keys().find(|c| c.is_empty() || c.contains(',')) {
            return Err(Error::InvalidRequest {
                reason: format!(
                    "collection {:?} cannot be streamed: it is empty or holds a comma (the \
                     server splits the list at commas)",
                    bad.chars().take(100).collect::<String>()
                ),
            });
        }
        Ok(Stream {
            config: config.clone(),
            app_id: app_id.to_owned(),
            cursors,
            policy: RetryPolicy::default(),
            max_reconnects: None,
            rng: JitterRng::seeded(0),
            auth: Auth::default(),
            refreshed: false,
            // The replica's overlap: the server stores a row's time in µs and
            // writes a cursor from its ns clock, and commits late
            // (PROTOCOL.md), so a row can land just before a cursor already
            // handed out.
            overlap: DEFAULT_OVERLAP,
            failures: 0,
            reconnecting: false,
            round_since: Cursor::EPOCH,
            caught_up: BTreeSet::new(),
            server_view: BTreeMap::new(),
            delivered: Delivered::default(),
            decoder: SseDecoder::with_max_event_bytes(MAX_EVENT_BYTES),
            queue: VecDeque::new(),
            phase: Phase::Connect,
        })
    }

    /// The backoff between reconnects (and the retries of its pulls). A
    /// stream reconnects for ever unless [`Stream::max_reconnects`] says
    /// otherwise; the policy's attempt count applies to its pulls.
    pub fn retry(mut self, policy: RetryPolicy, rng: JitterRng) -> Stream {
        self.policy = policy;
        self.rng = rng;
        self
    }

    /// Gives up after this many failed connections in a row (by default it
    /// never does).
    pub fn max_reconnects(mut self, limit: u32) -> Stream {
        self.max_reconnects = Some(limit);
        self
    }

    /// Sets or clears the limit of [`Stream::max_reconnects`] on a stream
    /// already running.
    pub fn set_max_reconnects(&mut self, limit: Option<u32>) {
        self.max_reconnects = limit;
    }

    /// Where fresh tokens come from after a 401.
    pub fn auth(mut self, auth: Auth) -> Stream {
        self.auth = auth;
        self
    }

    /// Reconnects (after a cut) this much before the cursors, to pick up
    /// changes that committed late (what it re-reads is recognised and not
    /// delivered again). [`DEFAULT_OVERLAP`] (5 s, as for a replica) by default; zero turns it
    /// off. The first connection starts at the cursors given.
    pub fn overlap(mut self, overlap: Duration) -> Stream {
        self.overlap = overlap;
        self
    }

    /// The cursor of each collection: where the stream stands.
    pub fn cursors(&self) -> &BTreeMap<String, Cursor> {
        &self.cursors
    }

    /// What to do next.
    pub fn step(&mut self, now: Timestamp) -> StreamStep {
        loop {
            if let Some(event) = self.queue.pop_front() {
                return StreamStep::Event(event);
            }
            match std::mem::replace(&mut self.phase, Phase::Finished) {
                Phase::Connect => {
                    if let Some(step) = self.connect() {
                        return step;
                    }
                }
                Phase::Pulling {
                    collection,
                    mut pull,
                    streaming,
                } => match pull.step(now) {
                    Step::Send(request) => {
                        self.phase = Phase::Pulling {
                            collection,
                            pull,
                            streaming,
                        };
                        return StreamStep::Send(request);
                    }
                    Step::Wait(d) => {
                        self.phase = Phase::Pulling {
                            collection,
                            pull,
                            streaming,
                        };
                        return StreamStep::Wait(d);
                    }
                    Step::Done(Ok(outcome)) => {
                        self.deliver(
                            &collection,
                            outcome.changes.into_vec(),
                            outcome.cursor,
                            outcome.skipped,
                        );
                        if streaming {
                            self.phase = Phase::Streaming;
                        } else {
                            self.caught_up.insert(collection);
                            self.phase = Phase::Connect;
                        }
                    }
                    Step::Done(Err(e)) => self.fail_or_cut(e),
                },
                Phase::Opening => {
                    self.phase = Phase::Opening;
                    return StreamStep::Done(Error::Misuse {
                        reason: "step called before the stream's head was delivered",
                    });
                }
                phase @ Phase::ErrorBody { .. } => {
                    self.phase = phase;
                    return StreamStep::Read;
                }
                Phase::Streaming => match self.decoder.next_event() {
                    None => {
                        self.phase = Phase::Streaming;
                        return StreamStep::Read;
                    }
                    Some(Ok(event)) => {
                        self.phase = Phase::Streaming;
                        self.on_event(&event);
                    }
                    Some(Err(e)) => self.cut(
                        Error::Protocol {
                            reason: format!("the event stream is broken: {e}"),
                        },
                        None,
                    ),
                },
                Phase::Backoff(wait) => {
                    self.phase = Phase::Connect;
                    return StreamStep::Wait(wait);
                }
                Phase::Failed(e) => return StreamStep::Done(e),
                Phase::Finished => {
                    return StreamStep::Done(Error::Misuse {
                        reason: "step called after the stream ended",
                    })
                }
            }
        }
    }

    /// The head of the stream response asked for by [`StreamStep::Open`].
    pub fn on_open(&mut self, _now: Timestamp, head: Result<Response<()>, TransportError>) {
        if !matches!(self.phase, Phase::Opening) {
            self.phase = misuse("a stream head was delivered but none was awaited");
            return;
        }
        match head {
            Err(e) => self.cut(Error::from(e), None),
            Ok(head) => {
                let is_events = head
                    .headers()
                    .get(header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("text/event-stream"));
                if head.status().is_success() && is_events {
                    self.decoder = SseDecoder::with_max_event_bytes(MAX_EVENT_BYTES);
                    self.phase = Phase::Streaming;
                } else {
                    self.phase = Phase::ErrorBody {
                        head,
                        body: Vec::new(),
                    };
                }
            }
        }
    }

    /// The next piece of the open body asked for by [`StreamStep::Read`]
    /// (`Ok(None)` at its end).
    pub fn on_chunk(&mut self, now: Timestamp, chunk: Result<Option<Bytes>, TransportError>) {
        match std::mem::replace(&mut self.phase, Phase::Finished) {
            Phase::Streaming => match chunk {
                Ok(Some(bytes)) => {
                    self.decoder.feed(&bytes);
                    self.phase = Phase::Streaming;
                }
                Ok(None) => {
                    // A last event without its blank line still counts.
                    self.phase = Phase::Streaming;
                    if let Some(Ok(event)) = self.decoder.finish() {
                        self.on_event(&event);
                    }
                    if matches!(self.phase, Phase::Streaming) {
                        self.cut(
                            Error::Protocol {
                                reason: "the server closed the stream".into(),
                            },
                            None,
                        );
                    }
                }
                Err(e) => self.cut(Error::from(e), None),
            },
            Phase::ErrorBody { head, mut body } => match chunk {
                Ok(Some(bytes)) if body.len() < ERROR_BODY_CAP => {
                    let room = ERROR_BODY_CAP.saturating_sub(body.len());
                    body.extend_from_slice(&bytes[..bytes.len().min(room)]);
                    self.phase = Phase::ErrorBody { head, body };
                }
                Ok(_) | Err(_) => self.on_refused(now, head, body),
            },
            _ => self.phase = misuse("a stream chunk was delivered but none was awaited"),
        }
    }

    /// The response to a [`StreamStep::Send`] (a pull).
    pub fn on_response(
        &mut self,
        now: Timestamp,
        response: Result<Response<Vec<u8>>, TransportError>,
    ) {
        match &mut self.phase {
            Phase::Pulling { pull, .. } => pull.on_response(now, response),
            _ => self.phase = misuse("a response was delivered but no request was outstanding"),
        }
    }

    /// Starts a connection round: pulls a collection that is behind the
    /// newest cursor, or opens the stream from it.
    fn connect(&mut self) -> Option<StreamStep> {
        if self.caught_up.is_empty() {
            let newest = self
                .cursors
                .values()
                .max_by_key(|c| c.timestamp())
                .cloned()
                .unwrap_or(Cursor::EPOCH);
            self.round_since = newest.held_back(self.reread());
            // Until a collection's first event on the new connection, the
            // server may send anything after the connection's `since`.
            let since = self.round_since.timestamp();
            self.server_view = self.cursors.keys().map(|c| (c.clone(), since)).collect();
        }
        let newest = self.round_since.timestamp();
        let behind = self
            .cursors
            .iter()
            .find(|(c, cursor)| !self.caught_up.contains(*c) && cursor.timestamp() < newest)
            .map(|(c, cursor)| (c.clone(), cursor.held_back(self.reread())));
        if let Some((collection, since)) = behind {
            match PullAll::new(&self.config, &self.app_id, &collection, &since) {
                Ok(pull) => {
                    self.phase = Phase::Pulling {
                        collection,
                        pull: Box::new(self.retrying(pull)),
                        streaming: false,
                    };
                }
                Err(e) => self.phase = Phase::Failed(e),
            }
            return None;
        }
        self.caught_up.clear();
        match self.request() {
            Ok(request) => {
                self.phase = Phase::Opening;
                Some(StreamStep::Open(request))
            }
            Err(e) => {
                self.phase = Phase::Failed(e);
                None
            }
        }
    }

    /// How far before the cursors this connection round reads: nothing the
    /// first time, the overlap after a cut.
    fn reread(&self) -> Duration {
        if self.reconnecting {
            self.overlap
        } else {
            Duration::ZERO
        }
    }

    fn request(&self) -> Result<Request<Vec<u8>>, Error> {
        let collections = self.cursors.keys().cloned().collect::<Vec<_>>().join(",");
        let uri = uri(
            self.config.sync_url(),
            &["sync", &self.app_id, "stream"],
            &[
                ("collections", collections.as_str()),
                ("since", self.round_since.as_str()),
            ],
        )?;
        let mut request = authed(&self.config, Method::GET, uri, None)?;
        request.headers_mut().insert(
            header::ACCEPT,
            http::HeaderValue::from_static("text/event-stream"),
        );
        self.auth.apply(&mut request);
        Ok(request)
    }

    fn retrying(&mut self, pull: PullAll) -> Retrying<PullAll> {
        let rng = self.rng.fork();
        Retrying::new(pull, self.policy, rng, self.auth.clone())
    }

    fn on_event(&mut self, event: &SseEvent) {
        self.failures = 0;
        match StreamMessage::from_event(event) {
            Ok(StreamMessage::Changes(batch)) => self.on_batch(batch),
            Ok(StreamMessage::Heartbeat) => self.queue.push_back(StreamEvent::Heartbeat),
            Ok(_) => {}
            Err(e) => self.cut(e, None),
        }
    }

    fn on_batch(&mut self, batch: StreamBatch) {
        if !self.cursors.contains_key(&batch.table) {
            // The real server also sends tables that were not asked for.
            return;
        }
        self.server_view
            .insert(batch.table.clone(), batch.synced_until.timestamp());
        let StreamBatch {
            table,
            changes,
            synced_until,
            has_more,
            skipped,
        } = batch;
        self.deliver(&table, changes, synced_until.clone(), skipped);
        if has_more {
            match PullAll::new(&self.config, &self.app_id, &table, &synced_until) {
                Ok(pull) => {
                    self.phase = Phase::Pulling {
                        collection: table,
                        pull: Box::new(self.retrying(pull)),
                        streaming: true,
                    };
                }
                Err(e) => self.phase = Phase::Failed(e),
            }
        }
    }

    /// Hands out what was not delivered before, moves the cursor, and
    /// forgets what can never come again.
    fn deliver(
        &mut self,
        collection: &str,
        changes: Vec<Change>,
        cursor: Cursor,
        skipped: Vec<SkippedChange>,
    ) {
        let fresh = self
            .delivered
            .admit(collection, changes, cursor.timestamp());
        let Some(kept) = self.cursors.get_mut(collection) else {
            return;
        };
        if cursor.timestamp() > kept.timestamp() {
            *kept = cursor;
        }
        // What of this collection can come again: what the server may still
        // send on this connection, and what a later catch-up pull re-reads
        // (from the cursor, held back by the overlap).
        let reread_from = kept
            .timestamp()
            .checked_sub(self.overlap)
            .unwrap_or(Timestamp::UNIX_EPOCH);
        let view = self
            .server_view
            .get(collection)
            .copied()
            .unwrap_or(Timestamp::UNIX_EPOCH);
        self.delivered
            .forget_up_to(collection, view.min(reread_from));
        if !fresh.is_empty() || !skipped.is_empty() {
            self.queue.push_back(StreamEvent::Changes(ChangeBatch {
                collection: collection.to_owned(),
                changes: fresh,
                skipped,
                cursor: self
                    .cursors
                    .get(collection)
                    .cloned()
                    .unwrap_or(Cursor::EPOCH),
            }));
        }
    }

    /// A stream response that is not an event stream: an error status, or
    /// something else entirely.
    fn on_refused(&mut self, now: Timestamp, head: Response<()>, body: Vec<u8>) {
        let (parts, ()) = head.into_parts();
        let response = Response::from_parts(parts, body);
        let error = match check_status(&response) {
            Err(e) => e,
            Ok(()) => Error::Protocol {
                reason: format!(
                    "the stream answered {} with content type {:?}, not text/event-stream; \
                     check the base URL",
                    response.status().as_u16(),
                    response
                        .headers()
                        .get(header::CONTENT_TYPE)
                        .map(|v| String::from_utf8_lossy(v.as_bytes())
                            .chars()
                            .take(100)
                            .collect::<String>())
                        .unwrap_or_default()
                ),
            },
        };
        let response = Ok(response);
        match classify(&response, now) {
            Failure::Transient { retry_after } => self.cut(error, retry_after),
            Failure::Unauthorized if !self.refreshed => {
                let refreshed = match self.request() {
                    Ok(request) => self.auth.refresh(&request),
                    Err(_) => false,
                };
                if refreshed {
                    self.refreshed = true;
                    self.phase = Phase::Connect;
                } else {
                    self.phase = Phase::Failed(error);
                }
            }
            _ => self.phase = Phase::Failed(error),
        }
    }

    /// A pull failed: a transient failure (its retries ran out) is a cut,
    /// anything else ends the stream.
    fn fail_or_cut(&mut self, error: Error) {
        if error.is_transient() {
            self.cut(error, None);
        } else {
            self.phase = Phase::Failed(error);
        }
    }

    /// The connection is gone: back off and reconnect, unless the limit of
    /// failures in a row is reached.
    fn cut(&mut self, error: Error, retry_after: Option<Duration>) {
        self.failures = self.failures.saturating_add(1);
        if self.max_reconnects.is_some_and(|max| self.failures > max) {
            self.phase = Phase::Failed(error);
            return;
        }
        let wait = self
            .policy
            .wait(self.failures.saturating_sub(1), retry_after, &mut self.rng);
        self.caught_up.clear();
        self.reconnecting = true;
        self.queue.push_back(StreamEvent::Reconnecting {
            wait,
            reason: error.to_string().chars().take(500).collect(),
        });
        self.phase = Phase::Backoff(wait);
    }
}

fn misuse(reason: &'static str) -> Phase {
    Phase::Failed(Error::Misuse { reason })
}

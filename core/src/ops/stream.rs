//! [`Stream`]: the live change stream, `GET {base}/sync/{appId}/stream`, as a
//! state machine that catches up by pulling, re-reads what a live
//! connection may have missed, completes `hasMore` batches, reconnects, and
//! de-duplicates everything it reads twice.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use bytes::Bytes;
use http::{header, Method, Request, Response};

use super::dedup::Delivered;
use super::pull::reader_header;
use super::PullAll;
use crate::endpoint::{authed, check_segment, uri};
use crate::fold::{FoldReport, Replica, Seen, SeenKey, DEFAULT_OVERLAP};
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

/// How often every streamed collection is pulled by default, connection or
/// not ([`Stream::recheck_every`]).
pub const DEFAULT_RECHECK_EVERY: Duration = Duration::from_secs(60);

/// Reconnects in a row without progress after which the stream says so
/// with [`StreamEvent::Stalled`] by default ([`Stream::stall_after`]).
pub const DEFAULT_STALL_AFTER: u32 = 3;

/// Reconnects in a row without progress after which the stream ends with
/// [`Error::Stalled`] by default ([`Stream::max_stalled`]).
pub const DEFAULT_MAX_STALLED: u32 = 100;

/// What the stream hands to the app.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum StreamEvent {
    /// Other clients' changes to one of the requested collections (or only
    /// a cursor that moved).
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
    /// The stream has reconnected `reconnects` times in a row without
    /// delivering anything new or reaching the head of a collection: the
    /// server or the network is failing it. It goes on trying (until
    /// [`Stream::max_stalled`]); this says that nothing is arriving.
    Stalled {
        /// Reconnects in a row without progress.
        reconnects: u32,
        /// The last failure (bounded text, never a token).
        reason: String,
    },
}

/// Changes of one collection, in the server's order, with no change the
/// stream already delivered.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeBatch {
    /// The collection (table).
    pub collection: String,
    /// The changes, oldest first (none when only the cursor moved).
    pub changes: Vec<Change>,
    /// Where a later read of the collection should resume (verbatim; a
    /// reader holds it back by its overlap): everything before it was
    /// delivered, or will be by this stream. It moves when the stream's
    /// pulls confirm what it read live, so it can stay behind the newest
    /// change delivered; re-reading from it is cheap and de-duplicated.
    pub cursor: Cursor,
    /// Changes the server sent that were malformed and dropped (reported,
    /// never applied; the cursor moved past them).
    pub skipped: Vec<SkippedChange>,
    /// The keys of `changes`, with their bounds, for a replica's memory.
    delivered: Vec<(SeenKey, Timestamp)>,
}

impl ChangeBatch {
    /// Folds the batch into `replica` in one call: applies its changes,
    /// moves the collection's cursor and remembers what was delivered
    /// ([`Replica::set_read`]), so that a later read ([`super::PullInto`],
    /// a stream started from the replica) counts these changes as repeated
    /// instead of applying them again.
    ///
    /// This is what `watch_into` does with each batch; with
    /// [`crate::AsyncClient::stream_from`] an app keeps its replica to
    /// itself and calls this between reads.
    ///
    /// ```
    /// # use mana_sync_core::surface as mana_sync_ureq;
    /// use mana_sync_ureq::fold::Replica;
    /// use mana_sync_ureq::ops::{ChangeBatch, StreamEvent};
    ///
    /// fn on_event(replica: &mut Replica, event: &StreamEvent) {
    ///     if let StreamEvent::Changes(batch) = event {
    ///         let report = batch.apply_to(replica);
    ///         println!("{} applied; {} records", report.applied, replica.len(&batch.collection));
    ///     }
    /// }
    /// # let _ = on_event;
    /// ```
    pub fn apply_to(&self, replica: &mut Replica) -> FoldReport {
        let report = replica.apply_all(&self.changes);
        replica.set_read(&self.collection, self.cursor.clone(), self.delivered());
        report
    }

    /// What the batch delivered, as a reader's memory of it.
    pub(crate) fn delivered(&self) -> Seen {
        let mut seen = Seen::new();
        for (key, bound) in &self.delivered {
            seen.insert(key.clone(), *bound);
        }
        seen
    }
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
    /// refused token, or a limit was reached). Drop the body.
    Done(Error),
}

/// Why a collection is being pulled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Purpose {
    /// Before (re)connecting, from its cursor.
    CatchUp,
    /// While connected: what the connection may have missed (late commits,
    /// a skipped backlog, a dropped notification), from its cursor.
    Recheck,
    /// The rest of a batch that said `hasMore`, from just before its end.
    Complete,
}

enum Phase {
    /// About to (re)connect: pull the collections, then open.
    Connect,
    /// Pulling `collection`; the body stays open unless catching up.
    Pulling {
        collection: String,
        pull: Box<Retrying<PullAll>>,
        purpose: Purpose,
        started: Timestamp,
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

/// What the stream knows of one collection.
struct Track {
    /// The resume point: where the last pull of the collection from its
    /// cursor ended (or the cursor the stream started from). Every pull
    /// from it, held back by the overlap, reads what a live connection may
    /// have missed since.
    cursor: Cursor,
    /// The first pull starts at the cursor exactly (the caller has what
    /// lies before it); later ones hold it back by the overlap.
    exact: bool,
    /// Pulled in this connection round.
    caught_up: bool,
    /// When the connection last delivered a batch of it: its late commits
    /// may become visible up to an overlap later.
    last_batch: Option<Timestamp>,
    /// When the next re-read of what the connection delivered is due.
    recheck_at: Option<Timestamp>,
    /// When the next periodic pull is due.
    periodic_at: Option<Timestamp>,
    /// The point after which the server may still send (again) what it has
    /// on this connection: the connection's `since` until the collection's
    /// first event on it, then that event's `syncedUntil`.
    server_view: Timestamp,
}

impl Track {
    fn new(cursor: Cursor, exact: bool) -> Track {
        Track {
            cursor,
            exact,
            caught_up: false,
            last_batch: None,
            recheck_at: None,
            periodic_at: None,
            server_view: Timestamp::UNIX_EPOCH,
        }
    }
}

/// The live change stream of some collections of an app, lossless on the
/// real server.
///
/// It keeps a cursor per collection and works in rounds: **catch up** (pull
/// every collection from its cursor to the head), **open** the stream from
/// there, and hand out `changes` events as [`ChangeBatch`]es and heartbeats
/// as [`StreamEvent::Heartbeat`]. After a cut (a dropped connection,
/// silence past the idle timeout, a 5xx) it waits with the
/// [`RetryPolicy`]'s backoff and starts the next round.
///
/// A live connection alone loses changes on the real server (PROTOCOL.md):
/// a row that commits after a later row was sent is never sent on that
/// connection, the server skips a collection's backlog when its initial
/// query fails, drops notifications when a subscriber is slow, and hears
/// only its own instance's pushes. So, while connected, the stream also
/// **re-reads**:
///
/// * after a batch arrives for a collection, it pulls that collection from
///   its cursor (held back by the overlap) once the overlap has passed: at
///   most one pending per collection, so a busy collection costs one pull
///   per overlap (5 s by default: 12 a minute), and an idle one none;
/// * every [`Stream::recheck_every`] (a minute by default), it pulls every
///   collection the same way: one request a minute per idle collection.
///
/// These pulls run between events (at the first event or heartbeat after
/// they fall due: the server sends a heartbeat every 30 s). Each re-reads
/// what arrived since the collection's last pull: about twice the bytes of
/// a busy collection's changes in all, and nothing of an idle one beyond
/// the changes of its overlap window.
///
/// What it promises, within one `Stream`:
///
/// * **nothing is lost**: every change of a requested collection made after
///   its starting cursor is delivered, across any number of reconnects and
///   whatever the server's races, as long as no change commits more than the
///   overlap after its transaction began (the real server's have been seen
///   to take up to 68 ms);
/// * **nothing is delivered twice**: what a resume re-sends, a re-read
///   brings again or the completion of a batch overlaps is recognised (by
///   `eventId`, and by content, since the stream's changes carry no
///   `eventId`) and dropped. Two changes with exactly the same content
///   count as one; that is harmless, since applying a change twice changes
///   nothing. The memory this takes covers what was delivered since each
///   collection's cursor (held back by the overlap), at most 200,000 changes
///   a collection;
/// * **progress is visible**: [`StreamEvent::Stalled`] says when it keeps
///   reconnecting without delivering anything new or reaching the head, and
///   [`Error::Stalled`] ends it after [`Stream::max_stalled`] such
///   reconnects;
/// * events for collections that were not asked for (the real server sends
///   them when another client writes such a table) are dropped;
/// * the caller's own changes are left out, as with a pull (the request
///   carries the configured `X-Client-Id`), unless
///   [`Stream::including_own_changes`] asks for them.
///
/// A change may be delivered later than it could have been (on the next
/// re-read rather than live), never earlier than its commit.
///
/// Permanent failures (401 without a fresh token, 402, 400, 404, a response
/// that is not an event stream) end it with [`StreamStep::Done`]. A token
/// source is asked after every 401.
///
/// ```
/// # use mana_sync_core::surface as mana_sync_ureq;
/// use mana_sync_ureq::ops::{Stream, StreamStep};
/// use mana_sync_ureq::{Config, Cursor, Timestamp};
///
/// let config = Config::new("https://sync.example.com", "token", "my-agent")?;
/// let mut stream = Stream::new(&config, "todo", &["tasks", "notes"], &Cursor::EPOCH)?;
/// // First it catches up, collection by collection...
/// let StreamStep::Send(pull) = stream.step(Timestamp::UNIX_EPOCH) else { unreachable!() };
/// assert_eq!(pull.uri().path(), "/sync/todo/pull");
/// # Ok::<(), mana_sync_ureq::Error>(())
/// ```
pub struct Stream {
    config: Config,
    app_id: String,
    tracks: BTreeMap<String, Track>,
    policy: RetryPolicy,
    max_reconnects: Option<u32>,
    stall_after: u32,
    max_stalled: Option<u32>,
    rng: JitterRng,
    auth: Auth,
    overlap: Duration,
    recheck_every: Duration,
    include_own: bool,
    /// Whether a fresh token was fetched since the last connection that
    /// opened.
    refreshed: bool,
    /// Connections in a row that ended without a good event.
    failures: u32,
    /// Reconnects in a row without progress.
    stalled: u32,
    /// The last page of the pull in flight, held until it is known whether
    /// it is the last one (whose batch carries the new cursor).
    held_page: Option<(Vec<Change>, Timestamp)>,
    delivered: Delivered,
    decoder: SseDecoder,
    queue: VecDeque<StreamEvent>,
    phase: Phase,
}

impl Stream {
    /// The stream of `collections` of app `app_id`, from `since` for all
    /// (what lies after it: the first pull starts there exactly).
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
    /// cursor exactly.
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
        // Checks each collection as a path segment now, before anything is
        // sent.
        for c in cursors.keys() {
            PullAll::new(config, app_id, c, &Cursor::EPOCH)?;
        }
        Ok(Stream {
            config: config.clone(),
            app_id: app_id.to_owned(),
            tracks: cursors
                .into_iter()
                .map(|(c, cursor)| (c, Track::new(cursor, true)))
                .collect(),
            policy: RetryPolicy::default(),
            max_reconnects: None,
            stall_after: DEFAULT_STALL_AFTER,
            max_stalled: Some(DEFAULT_MAX_STALLED),
            rng: JitterRng::seeded(0),
            auth: Auth::default(),
            // The replica's overlap: the server stores a row's time in µs and
            // writes a cursor from its ns clock, and commits late
            // (PROTOCOL.md), so a row can land just before a cursor already
            // handed out.
            overlap: DEFAULT_OVERLAP,
            recheck_every: DEFAULT_RECHECK_EVERY,
            include_own: false,
            refreshed: false,
            failures: 0,
            stalled: 0,
            held_page: None,
            delivered: Delivered::default(),
            decoder: SseDecoder::with_max_event_bytes(MAX_EVENT_BYTES),
            queue: VecDeque::new(),
            phase: Phase::Connect,
        })
    }

    /// The stream of `collections` into `replica`: from the replica's read
    /// point (each cursor held back by the replica's overlap), recognising
    /// what the replica's earlier reads delivered, exactly as
    /// [`super::PullInto`] reads; with the replica's overlap, and this
    /// client's own changes included (the replica is the whole collection).
    /// Apply each batch with [`ChangeBatch::apply_to`].
    pub fn for_replica(
        config: &Config,
        app_id: &str,
        collections: &[&str],
        replica: &Replica,
    ) -> Result<Stream, Error> {
        let reads = collections.iter().map(|c| {
            let cursor = replica.cursor(c).cloned().unwrap_or(Cursor::EPOCH);
            ((*c).to_owned(), cursor, replica.seen(c))
        });
        Ok(Stream::resuming(config, app_id, reads, replica.overlap())?.including_own_changes())
    }

    /// The stream of collections read before: each from its cursor held back
    /// by `overlap`, recognising what the earlier reads delivered (`seen`).
    /// What [`Stream::for_replica`] and the engine's live stream start from.
    pub(crate) fn resuming<'a>(
        config: &Config,
        app_id: &str,
        reads: impl IntoIterator<Item = (String, Cursor, Option<&'a Seen>)>,
        overlap: Duration,
    ) -> Result<Stream, Error> {
        let mut seen = Vec::new();
        let mut cursors = BTreeMap::new();
        for (collection, cursor, delivered) in reads {
            if let Some(delivered) = delivered {
                seen.push((collection.clone(), delivered));
            }
            cursors.insert(collection, cursor);
        }
        let mut stream = Stream::from_cursors(config, app_id, cursors)?.overlap(overlap);
        for track in stream.tracks.values_mut() {
            track.exact = false;
        }
        for (collection, delivered) in seen {
            stream.delivered.remember(&collection, delivered);
        }
        Ok(stream)
    }

    /// The backoff between reconnects (and the retries of its pulls). A
    /// stream reconnects for ever unless [`Stream::max_reconnects`] or
    /// [`Stream::max_stalled`] says otherwise; the policy's budget applies
    /// to each of its pulls.
    pub fn retry(mut self, policy: RetryPolicy, rng: JitterRng) -> Stream {
        self.policy = policy;
        self.rng = rng;
        self
    }

    /// Gives up after this many failed connections in a row (by default it
    /// never does). A connection counts as failed when it ends before a
    /// good event (one that decodes) arrived on it.
    pub fn max_reconnects(mut self, limit: u32) -> Stream {
        self.max_reconnects = Some(limit);
        self
    }

    /// Sets or clears the limit of [`Stream::max_reconnects`] on a stream
    /// already running.
    pub fn set_max_reconnects(&mut self, limit: Option<u32>) {
        self.max_reconnects = limit;
    }

    /// Says [`StreamEvent::Stalled`] from this many reconnects in a row
    /// without progress on ([`DEFAULT_STALL_AFTER`] by default).
    pub fn stall_after(mut self, reconnects: u32) -> Stream {
        self.stall_after = reconnects.max(1);
        self
    }

    /// Ends with [`Error::Stalled`] after this many reconnects in a row
    /// without progress ([`DEFAULT_MAX_STALLED`] by default; `None`: never).
    /// Progress is a change delivered that was not before, or a pull that
    /// reached the head of its collection.
    pub fn max_stalled(mut self, limit: Option<u32>) -> Stream {
        self.max_stalled = limit;
        self
    }

    /// Sets or clears the limit of [`Stream::max_stalled`] on a stream
    /// already running.
    pub fn set_max_stalled(&mut self, limit: Option<u32>) {
        self.max_stalled = limit;
    }

    /// Where fresh tokens come from after a 401 (asked after each one).
    pub fn auth(mut self, auth: Auth) -> Stream {
        self.auth = auth;
        self
    }

    /// How far before a collection's cursor its pulls start, and how long
    /// after a batch its re-read waits, to pick up changes that committed
    /// late (what it re-reads is recognised and not delivered again).
    /// [`DEFAULT_OVERLAP`] (5 s, as for a replica) by default. Zero turns
    /// the re-reads after batches off (and with them the promise about late
    /// commits).
    pub fn overlap(mut self, overlap: Duration) -> Stream {
        self.overlap = overlap;
        self
    }

    /// How often every collection is pulled while connected (for a skipped
    /// backlog, a dropped notification, a push the connection's server
    /// instance did not hear of): [`DEFAULT_RECHECK_EVERY`] by default, at
    /// least a millisecond.
    pub fn recheck_every(mut self, every: Duration) -> Stream {
        self.recheck_every = every.max(Duration::from_millis(1));
        self
    }

    /// Reads this client's own changes too, as
    /// [`PullAll::including_own_changes`] does (with
    /// [`Config::reader_client_id`]).
    pub fn including_own_changes(mut self) -> Stream {
        self.include_own = true;
        self
    }

    /// The resume point of each collection (see [`ChangeBatch::cursor`]).
    pub fn cursors(&self) -> BTreeMap<String, Cursor> {
        self.tracks
            .iter()
            .map(|(c, t)| (c.clone(), t.cursor.clone()))
            .collect()
    }

    /// What to do next.
    pub fn step(&mut self, now: Timestamp) -> StreamStep {
        loop {
            if let Some(event) = self.queue.pop_front() {
                return StreamStep::Event(event);
            }
            match std::mem::replace(&mut self.phase, Phase::Finished) {
                Phase::Connect => {
                    if let Some(step) = self.connect(now) {
                        return step;
                    }
                }
                Phase::Pulling {
                    collection,
                    mut pull,
                    purpose,
                    started,
                } => match pull.step(now) {
                    Step::Send(request) => {
                        self.release_page(&collection, None);
                        self.phase = Phase::Pulling {
                            collection,
                            pull,
                            purpose,
                            started,
                        };
                        return StreamStep::Send(request);
                    }
                    Step::Wait(d) => {
                        self.phase = Phase::Pulling {
                            collection,
                            pull,
                            purpose,
                            started,
                        };
                        return StreamStep::Wait(d);
                    }
                    Step::Done(Ok(outcome)) => {
                        self.pulled(&collection, purpose, started, outcome);
                    }
                    Step::Done(Err(e)) => {
                        // What arrived is handed out; the cursor stays.
                        self.release_page(&collection, None);
                        self.fail_or_cut(e);
                    }
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
                Phase::Streaming => {
                    self.phase = Phase::Streaming;
                    match self.decoder.next_event() {
                        Some(Ok(event)) => self.on_event(&event, now),
                        Some(Err(e)) => self.cut(
                            Error::Protocol {
                                reason: format!("the event stream is broken: {e}"),
                            },
                            None,
                        ),
                        None => {
                            if !self.recheck_due(now) {
                                return StreamStep::Read;
                            }
                        }
                    }
                }
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
    pub fn on_open(&mut self, now: Timestamp, head: Result<Response<()>, TransportError>) {
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
                    self.refreshed = false;
                    self.decoder = SseDecoder::with_max_event_bytes(MAX_EVENT_BYTES);
                    for track in self.tracks.values_mut() {
                        track.periodic_at.get_or_insert(
                            now.checked_add(self.recheck_every)
                                .unwrap_or(Timestamp::UNIX_EPOCH),
                        );
                    }
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
                        self.on_event(&event, now);
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
            Phase::Pulling { pull, .. } => {
                pull.on_response(now, response);
                if let Some((page, bound)) = pull.inner_mut().take_page() {
                    self.held_page = Some((page.into_vec(), bound));
                }
            }
            _ => self.phase = misuse("a response was delivered but no request was outstanding"),
        }
    }

    /// Starts a connection round: pulls a collection not caught up yet, or
    /// opens the stream from where they all stand.
    fn connect(&mut self, now: Timestamp) -> Option<StreamStep> {
        let overlap = self.overlap;
        let behind = self
            .tracks
            .iter()
            .find(|(_, t)| !t.caught_up)
            .map(|(c, t)| {
                let from = if t.exact {
                    t.cursor.clone()
                } else {
                    t.cursor.held_back(overlap)
                };
                (c.clone(), from)
            });
        if let Some((collection, from)) = behind {
            self.start_pull(collection, &from, Purpose::CatchUp, now);
            return None;
        }
        let since = self
            .tracks
            .values()
            .map(|t| t.cursor.clone())
            .min_by_key(Cursor::timestamp)
            .unwrap_or(Cursor::EPOCH);
        for track in self.tracks.values_mut() {
            track.caught_up = false;
            // Until a collection's first event on the new connection, the
            // server may send anything after the connection's `since`.
            track.server_view = since.timestamp();
        }
        match self.request(&since) {
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

    fn request(&self, since: &Cursor) -> Result<Request<Vec<u8>>, Error> {
        let collections = self.tracks.keys().cloned().collect::<Vec<_>>().join(",");
        let uri = uri(
            self.config.sync_url(),
            &["sync", &self.app_id, "stream"],
            &[
                ("collections", collections.as_str()),
                ("since", since.as_str()),
            ],
        )?;
        let mut request = authed(&self.config, Method::GET, uri, None)?;
        request.headers_mut().insert(
            header::ACCEPT,
            http::HeaderValue::from_static("text/event-stream"),
        );
        if self.include_own {
            reader_header(&self.config, &mut request)?;
        }
        self.auth.apply(&mut request);
        Ok(request)
    }

    /// Starts pulling `collection` from `from`.
    fn start_pull(&mut self, collection: String, from: &Cursor, purpose: Purpose, now: Timestamp) {
        let pull = match PullAll::new(&self.config, &self.app_id, &collection, from) {
            Ok(pull) if self.include_own => pull.including_own_changes(),
            Ok(pull) => pull,
            Err(e) => {
                self.phase = Phase::Failed(e);
                return;
            }
        };
        let rng = self.rng.fork();
        let pull = Retrying::new(pull.hand_over(), self.policy, rng, self.auth.clone());
        self.phase = Phase::Pulling {
            collection,
            pull: Box::new(pull),
            purpose,
            started: now,
        };
    }

    /// Whether a re-read is due (then it is started).
    fn recheck_due(&mut self, now: Timestamp) -> bool {
        let due = self.tracks.iter().find(|(_, t)| {
            t.recheck_at.is_some_and(|at| at <= now) || t.periodic_at.is_some_and(|at| at <= now)
        });
        let Some((collection, track)) = due else {
            return false;
        };
        let (collection, from) = (collection.clone(), track.cursor.held_back(self.overlap));
        self.start_pull(collection, &from, Purpose::Recheck, now);
        true
    }

    /// A pull finished: its last page is handed out with the collection's
    /// new cursor, and the next re-reads are planned.
    fn pulled(
        &mut self,
        collection: &str,
        purpose: Purpose,
        started: Timestamp,
        outcome: super::PullAllOutcome,
    ) {
        // It reached the head of the collection: progress.
        self.stalled = 0;
        let before = self
            .tracks
            .get(collection)
            .map(|t| t.cursor.clone())
            .unwrap_or(Cursor::EPOCH);
        let overlap = self.overlap;
        let every = self.recheck_every;
        let streaming = purpose != Purpose::CatchUp;
        if let Some(track) = self.tracks.get_mut(collection) {
            match purpose {
                Purpose::CatchUp | Purpose::Recheck => {
                    if outcome.resume.timestamp() > track.cursor.timestamp() {
                        track.cursor = outcome.resume.clone();
                    }
                    track.exact = false;
                    // What arrived within an overlap before this pull began
                    // may still have rows to commit: read again later.
                    let covered = track.last_batch.is_none_or(|at| {
                        started
                            .checked_sub(overlap)
                            .is_some_and(|covered_until| at <= covered_until)
                    });
                    track.recheck_at =
                        (!covered).then(|| started.checked_add(overlap).unwrap_or(started));
                    track.periodic_at = started.checked_add(every);
                    if purpose == Purpose::CatchUp {
                        track.caught_up = true;
                    }
                }
                Purpose::Complete => {
                    // Read live (it completes a stream batch): re-read it
                    // like a batch.
                    track.last_batch = Some(started);
                    track
                        .recheck_at
                        .get_or_insert(started.checked_add(overlap).unwrap_or(started));
                }
            }
        }
        let moved = self
            .tracks
            .get(collection)
            .is_some_and(|t| t.cursor != before);
        self.release_page(collection, Some((outcome.skipped, moved)));
        self.forget(collection);
        self.phase = if streaming {
            Phase::Streaming
        } else {
            Phase::Connect
        };
    }

    /// Hands out the page held back, if any, with the collection's cursor;
    /// once the pull is done, with its skipped changes and whether the
    /// cursor moved (worth a batch of its own).
    fn release_page(&mut self, collection: &str, done: Option<(Vec<SkippedChange>, bool)>) {
        let (changes, bound) = self
            .held_page
            .take()
            .unwrap_or((Vec::new(), Timestamp::UNIX_EPOCH));
        let (skipped, moved) = done.unwrap_or_default();
        if changes.is_empty() && skipped.is_empty() && !moved {
            return;
        }
        self.deliver(collection, changes, bound, skipped, moved);
    }

    fn on_event(&mut self, event: &SseEvent, now: Timestamp) {
        match StreamMessage::from_event(event) {
            Ok(StreamMessage::Changes(batch)) => {
                self.failures = 0;
                self.on_batch(batch, now);
            }
            Ok(StreamMessage::Heartbeat) => {
                self.failures = 0;
                self.queue.push_back(StreamEvent::Heartbeat);
            }
            Ok(_) => self.failures = 0,
            Err(e) => self.cut(e, None),
        }
    }

    fn on_batch(&mut self, batch: StreamBatch, now: Timestamp) {
        let overlap = self.overlap;
        let Some(track) = self.tracks.get_mut(&batch.table) else {
            // The real server also sends tables that were not asked for.
            return;
        };
        let StreamBatch {
            table,
            changes,
            synced_until,
            has_more,
            skipped,
        } = batch;
        track.server_view = synced_until.timestamp();
        if !changes.is_empty() || !skipped.is_empty() {
            // The server's query may have passed rows that commit late:
            // re-read once they can have committed.
            track.last_batch = Some(now);
            if !overlap.is_zero() {
                track
                    .recheck_at
                    .get_or_insert(now.checked_add(overlap).unwrap_or(now));
            }
        }
        self.deliver(&table, changes, synced_until.timestamp(), skipped, false);
        self.forget(&table);
        if has_more {
            // As PullAll goes on after a page: from just before its last
            // instant, so that the rest of a tie there comes too; what the
            // batch delivered is recognised.
            let from = synced_until.held_back(Duration::from_micros(1));
            self.start_pull(table, &from, Purpose::Complete, now);
        }
    }

    /// Hands out what was not delivered before. `moved`: the collection's
    /// cursor may have moved, which is worth a batch of its own.
    fn deliver(
        &mut self,
        collection: &str,
        changes: Vec<Change>,
        bound: Timestamp,
        skipped: Vec<SkippedChange>,
        moved: bool,
    ) {
        let admitted = self.delivered.admit(collection, changes, bound);
        if !admitted.fresh.is_empty() {
            self.stalled = 0;
        }
        let Some(track) = self.tracks.get(collection) else {
            return;
        };
        if !admitted.fresh.is_empty() || !skipped.is_empty() || moved {
            self.queue.push_back(StreamEvent::Changes(ChangeBatch {
                collection: collection.to_owned(),
                changes: admitted.fresh,
                skipped,
                cursor: track.cursor.clone(),
                delivered: admitted.keys,
            }));
        }
    }

    /// Forgets what of `collection` no read can bring again: what the
    /// server may still send on this connection, what a pull from the
    /// cursor, held back by the overlap, re-reads, and what the next
    /// connection (from the oldest cursor) may send again.
    fn forget(&mut self, collection: &str) {
        let oldest = self
            .tracks
            .values()
            .map(|t| t.cursor.timestamp())
            .min()
            .unwrap_or(Timestamp::UNIX_EPOCH);
        if let Some(track) = self.tracks.get(collection) {
            let reread_from = track
                .cursor
                .timestamp()
                .checked_sub(self.overlap)
                .unwrap_or(Timestamp::UNIX_EPOCH);
            let floor = track.server_view.min(reread_from).min(oldest);
            self.delivered.forget_before(collection, floor);
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
            // A fresh token for each 401, but not twice without a
            // connection opening in between (a fresh token refused too).
            Failure::Unauthorized if !self.refreshed => {
                let since = self
                    .tracks
                    .values()
                    .map(|t| t.cursor.clone())
                    .next()
                    .unwrap_or(Cursor::EPOCH);
                let refreshed = match self.request(&since) {
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

    /// The connection is gone: back off and reconnect, unless a limit is
    /// reached.
    fn cut(&mut self, error: Error, retry_after: Option<Duration>) {
        self.failures = self.failures.saturating_add(1);
        self.stalled = self.stalled.saturating_add(1);
        let reason: String = error.to_string().chars().take(500).collect();
        if self.max_reconnects.is_some_and(|max| self.failures > max) {
            self.phase = Phase::Failed(error);
            return;
        }
        if self.max_stalled.is_some_and(|max| self.stalled > max) {
            self.phase = Phase::Failed(Error::Stalled {
                reconnects: self.stalled.saturating_sub(1),
                last: reason,
            });
            return;
        }
        let wait = self
            .policy
            .wait(self.failures.saturating_sub(1), retry_after, &mut self.rng);
        for track in self.tracks.values_mut() {
            track.caught_up = false;
        }
        if self.stalled >= self.stall_after {
            self.queue.push_back(StreamEvent::Stalled {
                reconnects: self.stalled,
                reason: reason.clone(),
            });
        }
        self.queue
            .push_back(StreamEvent::Reconnecting { wait, reason });
        self.phase = Phase::Backoff(wait);
    }
}

fn misuse(reason: &'static str) -> Phase {
    Phase::Failed(Error::Misuse { reason })
}

//! [`PullAll`]: every page of a collection, following `hasMore`, losing
//! nothing at page boundaries and delivering nothing twice.

use std::time::Duration;

use bytes::Bytes;
use hashbrown::HashSet;
use http::Response;

use super::pull::{pull_request, reader_header};
use crate::fold::{Applied, FoldReport, Replica, Seen, SeenKey};
use crate::response::{decode_page, received};
use crate::wire::{ChangePages, Changes};
use crate::{
    ChangeRef, Config, Conflict, Cursor, Error, Operation, SkippedChange, Step, SyncResponse,
    Timestamp, TransportError,
};

/// How many pages a [`PullAll`] follows at most by default (10 million
/// changes at 1000 a page).
pub const DEFAULT_MAX_PAGES: usize = 10_000;

/// What [`PullAll`] returns.
#[derive(Debug, Clone, PartialEq)]
pub struct PullAllOutcome {
    /// Every change after the starting cursor, in the server's order, each
    /// once: changes re-read (see [`PullAll`]) are left out. Kept as the
    /// pages' bytes: [`ChangePages::to_vec`] copies them out.
    pub changes: ChangePages,
    /// Conflicts the server reported (always none today).
    pub conflicts: Vec<Conflict>,
    /// The last page's `syncedUntil`, verbatim.
    pub cursor: Cursor,
    /// Where an incremental read should resume, before its overlap: the
    /// `cursor`, held back by the time the pull took after its first
    /// request when it took several pages (a change that committed late
    /// behind one of its page boundaries lies after this point).
    pub resume: Cursor,
    /// Changes the server sent again and that were skipped as delivered
    /// before (by this pull or, with [`PullAll::skipping`], earlier).
    pub repeated: usize,
    /// How many requests it took.
    pub pages: usize,
    /// Changes dropped as malformed, each with its index in its page.
    pub skipped: Vec<SkippedChange>,
    /// What the read was told to skip ([`PullAll::skipping`]).
    earlier: Seen,
    /// Each page's `syncedUntil` (a bound of its changes), one per page of
    /// `changes`.
    bounds: Vec<Timestamp>,
    /// The changes re-read, with the bound of the page that re-read them.
    pub(crate) refreshed: Vec<(SeenKey, Timestamp)>,
}

/// What [`Seen`] knows a change by.
pub(crate) fn key_of(change: ChangeRef<'_>) -> SeenKey {
    match change.event_id() {
        Some(id) => SeenKey::Event(id.into_owned()),
        None => SeenKey::of(&change.to_change()),
    }
}

impl PullAllOutcome {
    /// Every change delivered, with the bound of its page, and what the
    /// read was told to skip: pass it to the next read
    /// ([`PullAll::skipping`]) to recognise what it re-reads.
    pub fn seen(&self) -> Seen {
        self.seen_from(None)
    }

    /// [`PullAllOutcome::seen`] without the changes whose bound is before
    /// `floor` (which [`Seen::forget_before`] would drop).
    fn seen_from(&self, floor: Option<Timestamp>) -> Seen {
        let mut seen = self.earlier.clone();
        let kept = |bound: &Timestamp| floor.is_none_or(|floor| *bound >= floor);
        for (page, bound) in self.changes.pages().iter().zip(&self.bounds) {
            if kept(bound) {
                for change in page {
                    seen.insert_change(change, *bound);
                }
            }
        }
        for (key, bound) in &self.refreshed {
            if kept(bound) {
                seen.insert(key.clone(), *bound);
            }
        }
        seen
    }

    /// Folds the changes into `replica`, one at a time, and records the
    /// read of `collection` there ([`Replica::set_read`]): its resume point
    /// and the changes the next read may bring again. `now` is not used
    /// (as by [`Replica::apply`]); it stays for compatibility.
    pub fn apply_to(self, replica: &mut Replica, collection: &str, now: Timestamp) -> FoldReport {
        let _ = now;
        let mut report = FoldReport::default();
        for (i, change) in self.changes.iter().enumerate() {
            match replica.apply_ref(change) {
                Applied::Applied(conflicts) => {
                    report.applied = report.applied.saturating_add(1);
                    report.conflicts.extend(conflicts);
                }
                Applied::Ignored => report.ignored = report.ignored.saturating_add(1),
                Applied::Dropped(why) => report.dropped.push((i, why)),
            }
        }
        report.repeated = self.repeated;
        // What set_read keeps of the memory: the rest is not built.
        let overlap = replica.overlap();
        let floor = self
            .resume
            .held_back(overlap)
            .held_back(overlap)
            .timestamp();
        let seen = self.seen_from(Some(floor));
        replica.set_read(collection, self.resume, seen);
        report
    }
}

/// The keys of one page's delivered changes (hashed with `foldhash`,
/// seeded per set): `eventId`s as slices of the page's bytes, and content
/// digests of changes without one.
#[derive(Default)]
struct PageKeys {
    events: HashSet<Bytes>,
    contents: HashSet<String>,
}

impl PageKeys {
    /// Empties it, with room for a page of `len` changes.
    fn clear(&mut self, len: usize) {
        self.events.clear();
        self.contents.clear();
        self.events.reserve(len);
    }
}

enum State {
    Next,
    Awaiting,
    Done(Box<Result<PullAllOutcome, Error>>),
    Finished,
}

/// Pulls a whole collection after a cursor: requests a page, and while the
/// server says `hasMore`, requests the next one. Returns the changes in
/// order and the final cursor, kept at the precision the server sent.
///
/// **The server leaves out the changes of the client id it is sent**, so a
/// client that pushed and then pulls sees none of its own writes; to read
/// them too, use [`PullAll::including_own_changes`] (the facades:
/// `with_own_changes(true)`; `records`, `pull_into`, `list` and `get`
/// always include them).
///
/// Lossless paging: the server asks for rows strictly after a page's last
/// `created_at`, and concurrent pushes can store several rows in the same
/// microsecond, so a page that ends inside such a tie would lose the rest
/// of it. After a page with `hasMore`, the next request starts one
/// microsecond before its cursor, and the rows the previous page already
/// delivered are recognised by `eventId` and dropped (only the previous
/// page's ids are kept for this: no later page of this server can bring
/// them back; one that did anyway would deliver them again, which a fold
/// absorbs). A tie that fills a
/// whole page (1000 changes in one microsecond) cannot be paged through
/// with this server: that is an [`Error::Protocol`], never a loop. So is a
/// server that says `hasMore` for more than [`PullAll::max_pages`] pages.
///
/// With [`PullAll::overlap`], the first request starts a little before the
/// cursor, to pick up changes that committed after an earlier pull's final
/// `syncedUntil`; give it what the earlier pull delivered
/// ([`PullAll::skipping`], or use [`PullAll::for_replica`]) so that the
/// re-read changes are recognised instead of delivered again.
///
/// ```
/// # use mana_sync_core::surface as mana_sync_ureq;
/// use mana_sync_ureq::fold::Replica;
/// use mana_sync_ureq::ops::PullAll;
/// use mana_sync_ureq::{Config, Operation, Step, Timestamp};
///
/// let config = Config::new("http://localhost:3050", "token", "my-app")?;
/// let replica = Replica::new();
/// let mut op = PullAll::for_replica(&config, "todo", "tasks", &replica)?;
/// let Step::Send(request) = op.step(Timestamp::UNIX_EPOCH) else { unreachable!() };
/// // Reads with a client id of its own, so that rows pushed without one
/// // (and this client's own) are included.
/// assert_eq!(request.headers()["x-client-id"], config.reader_client_id());
/// # Ok::<(), mana_sync_ureq::Error>(())
/// ```
pub struct PullAll {
    config: Config,
    app_id: String,
    collection: String,
    since: Cursor,
    /// The previous page's cursor, when it said `hasMore`.
    boundary: Option<Cursor>,
    /// What to skip as delivered before ([`PullAll::skipping`]).
    seen: Seen,
    /// The latest bound of what `seen` knows by content only (a stream's
    /// deliveries): pages that start after it need no content check.
    contents_until: Option<Timestamp>,
    /// The `since` of the request in flight.
    page_since: Cursor,
    /// What the previous page delivered, to recognise its re-read tail.
    previous: PageKeys,
    /// What this page delivers (becomes `previous` for the next one).
    current: PageKeys,
    refreshed: Vec<(SeenKey, Timestamp)>,
    changes: ChangePages,
    bounds: Vec<Timestamp>,
    conflicts: Vec<Conflict>,
    skipped: Vec<SkippedChange>,
    repeated: usize,
    pages: usize,
    max_pages: usize,
    include_own: bool,
    /// When the first request was sent (the caller's clock).
    started: Option<Timestamp>,
    /// Each page is handed over ([`PullAll::take_page`]) instead of kept.
    hand_over: bool,
    /// The last page, with its bound, waiting to be taken (hand-over mode).
    handed: Option<(Changes, Timestamp)>,
    /// How many changes were delivered, kept or handed over.
    delivered_count: usize,
    state: State,
}

impl PullAll {
    /// All of `collection` of app `app_id` after `since`.
    pub fn new(
        config: &Config,
        app_id: &str,
        collection: &str,
        since: &Cursor,
    ) -> Result<PullAll, Error> {
        // Checks the app id and collection now, before anything is sent.
        pull_request(config, app_id, collection, since)?;
        Ok(PullAll {
            config: config.clone(),
            app_id: app_id.to_owned(),
            collection: collection.to_owned(),
            since: since.clone(),
            boundary: None,
            seen: Seen::new(),
            contents_until: None,
            page_since: since.clone(),
            previous: PageKeys::default(),
            current: PageKeys::default(),
            refreshed: Vec::new(),
            changes: ChangePages::new(),
            bounds: Vec::new(),
            conflicts: Vec::new(),
            skipped: Vec::new(),
            repeated: 0,
            pages: 0,
            max_pages: DEFAULT_MAX_PAGES,
            include_own: false,
            started: None,
            hand_over: false,
            handed: None,
            delivered_count: 0,
            state: State::Next,
        })
    }

    /// The incremental read of `collection` into `replica`: from its cursor
    /// held back by its overlap ([`Replica::read_from`]), skipping what it
    /// delivered before, this client's own changes included. Finish with
    /// [`PullAllOutcome::apply_to`].
    pub fn for_replica(
        config: &Config,
        app_id: &str,
        collection: &str,
        replica: &Replica,
    ) -> Result<PullAll, Error> {
        let op = PullAll::new(config, app_id, collection, &replica.read_from(collection))?
            .including_own_changes();
        Ok(match replica.seen(collection) {
            Some(seen) => op.skipping(seen.clone()),
            None => op,
        })
    }

    /// Starts `overlap` before the cursor (off, i.e. zero, by default: what the
    /// browser does). Changes re-read are delivered again unless given to
    /// [`PullAll::skipping`].
    pub fn overlap(mut self, overlap: Duration) -> PullAll {
        if self.pages == 0 {
            self.since = self.since.held_back(overlap);
        }
        self
    }

    /// Skips the changes in `seen` (delivered by an earlier read), counting
    /// them in [`PullAllOutcome::repeated`].
    pub fn skipping(mut self, seen: Seen) -> PullAll {
        self.seen.merge(seen);
        self.contents_until = self.seen.contents_until();
        self
    }

    /// Gives up with an error after `pages` pages that all said `hasMore`
    /// ([`DEFAULT_MAX_PAGES`] by default): a bound on time and memory
    /// against a server that never stops.
    pub fn max_pages(mut self, pages: usize) -> PullAll {
        self.max_pages = pages.max(1);
        self
    }

    /// Reads this client's own changes too. The server leaves out the
    /// changes of the `X-Client-Id` it is sent, and without one it leaves
    /// out every row pushed without a client id; so this reads with
    /// [`Config::reader_client_id`], an id derived from this client's that
    /// never writes. What a reader needs that folds a whole collection, its
    /// own writes included.
    pub fn including_own_changes(mut self) -> PullAll {
        self.include_own = true;
        self
    }

    /// Hands each page over as it arrives ([`PullAll::take_page`]) instead
    /// of keeping it for the outcome, whose `changes` are then empty: what
    /// [`super::PullInto`] folds page by page with. Only the previous page's
    /// bytes stay alive (its ids recognise what the next page re-reads).
    pub(crate) fn hand_over(mut self) -> PullAll {
        self.hand_over = true;
        self
    }

    /// The page that arrived last and its bound (hand-over mode only).
    pub(crate) fn take_page(&mut self) -> Option<(Changes, Timestamp)> {
        self.handed.take()
    }

    /// The cursor the next request will start from.
    pub fn since(&self) -> &Cursor {
        &self.since
    }

    fn protocol(reason: String) -> State {
        State::Done(Box::new(Err(Error::Protocol { reason })))
    }

    fn on_page(&mut self, page: SyncResponse, now: Timestamp) -> State {
        self.pages = self.pages.saturating_add(1);
        let bound = page.synced_until.timestamp();
        // A page of skipped (malformed) changes still moves on.
        let empty = page.server_changes.is_empty() && page.skipped.is_empty();
        self.skipped.extend(page.skipped);
        let mut changes = page.server_changes;
        // A change this read delivered can come back only on the page right
        // after it: the next request starts 1 µs before the page's last
        // instant, so what it brings again is that page's tail (rows at that
        // instant). Later pages start after it. So only the previous page's
        // keys are needed: a set of one page, not of the whole read.
        std::mem::swap(&mut self.previous, &mut self.current);
        self.current.clear(changes.len());
        let (earlier, previous, current) = (&self.seen, &self.previous, &mut self.current);
        let (repeated, refreshed) = (&mut self.repeated, &mut self.refreshed);
        // A change delivered by the stream is remembered by its content (the
        // stream sends no eventId): look for it by content too, on pages
        // that reach back far enough.
        let by_content = self
            .contents_until
            .is_some_and(|until| until > self.page_since.timestamp());
        changes.retain(|change| {
            let new = match change.event_id_bytes() {
                Some(id) => {
                    let delivered_before = earlier
                        .contains_event(std::str::from_utf8(&id).unwrap_or_default())
                        || (by_content
                            && earlier.contains(&SeenKey::content_of(&change.to_change())));
                    !delivered_before && !previous.events.contains(&id) && current.events.insert(id)
                }
                None => match key_of(change) {
                    SeenKey::Content(digest) => {
                        !earlier.contains(&SeenKey::Content(digest.clone()))
                            && !previous.contents.contains(&digest)
                            && current.contents.insert(digest)
                    }
                    SeenKey::Event(_) => true,
                },
            };
            if !new {
                *repeated = repeated.saturating_add(1);
                refreshed.push((key_of(change), bound));
            }
            new
        });
        self.delivered_count = self.delivered_count.saturating_add(changes.len());
        if self.hand_over {
            self.handed = Some((changes, bound));
        } else {
            self.changes.push(changes);
            self.bounds.push(bound);
        }
        self.conflicts.extend(page.conflicts);
        if page.has_more {
            if let Some(boundary) = &self.boundary {
                if page.synced_until <= *boundary {
                    return PullAll::protocol(format!(
                        "a whole page of changes shares the instant {boundary}, and the server \
                         pages by instant: the rest of that tie cannot be read ({} pages, {} \
                         changes read)",
                        self.pages, self.delivered_count
                    ));
                }
            }
            if page.synced_until <= self.since || empty {
                return PullAll::protocol(format!(
                    "page {} said hasMore but the cursor did not move past {}",
                    self.pages, self.since
                ));
            }
            if self.pages >= self.max_pages {
                return PullAll::protocol(format!(
                    "the server still said hasMore after {} pages ({} changes); stopped at the \
                     page limit (PullAll::max_pages)",
                    self.pages, self.delivered_count
                ));
            }
            // Ask again from just before the page's last instant: the rest
            // of a tie there comes back, and what this page delivered is
            // recognised by eventId.
            let before = bound
                .checked_sub(Duration::from_micros(1))
                .filter(|t| *t > Timestamp::UNIX_EPOCH)
                .map_or(Cursor::EPOCH, Cursor::from);
            self.boundary = Some(page.synced_until);
            self.since = before;
            return State::Next;
        }
        let cursor = page.synced_until;
        let resume = match self.started {
            Some(started) if self.pages > 1 => {
                cursor.held_back(now.saturating_duration_since(started))
            }
            _ => cursor.clone(),
        };
        State::Done(Box::new(Ok(PullAllOutcome {
            changes: std::mem::take(&mut self.changes),
            conflicts: std::mem::take(&mut self.conflicts),
            cursor,
            resume,
            repeated: self.repeated,
            pages: self.pages,
            skipped: std::mem::take(&mut self.skipped),
            earlier: std::mem::take(&mut self.seen),
            bounds: std::mem::take(&mut self.bounds),
            refreshed: std::mem::take(&mut self.refreshed),
        })))
    }
}

impl Operation for PullAll {
    type Output = PullAllOutcome;

    fn step(&mut self, now: Timestamp) -> Step<PullAllOutcome> {
        match std::mem::replace(&mut self.state, State::Finished) {
            State::Next => {
                match pull_request(&self.config, &self.app_id, &self.collection, &self.since) {
                    Ok(mut request) => {
                        self.page_since = self.since.clone();
                        if self.include_own {
                            if let Err(e) = reader_header(&self.config, &mut request) {
                                return Step::Done(Err(e));
                            }
                        }
                        self.started.get_or_insert(now);
                        self.state = State::Awaiting;
                        Step::Send(request)
                    }
                    Err(e) => Step::Done(Err(e)),
                }
            }
            State::Awaiting => {
                self.state = State::Awaiting;
                Step::Done(Err(Error::Misuse {
                    reason: "step called before the response to the last request was delivered",
                }))
            }
            State::Done(result) => Step::Done(*result),
            State::Finished => Step::Done(Err(Error::Misuse {
                reason: "step called after the operation finished",
            })),
        }
    }

    fn on_response(&mut self, now: Timestamp, response: Result<Response<Vec<u8>>, TransportError>) {
        self.state = match self.state {
            State::Awaiting => {
                match received(response).and_then(|r| decode_page(r, "pull response")) {
                    Ok(page) => self.on_page(page, now),
                    Err(e) => State::Done(Box::new(Err(e))),
                }
            }
            _ => State::Done(Box::new(Err(Error::Misuse {
                reason: "a response was delivered but no request was outstanding",
            }))),
        };
    }
}

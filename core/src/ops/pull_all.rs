//! [`PullAll`]: every page of a collection, following `hasMore`.

use std::time::Duration;

use http::Response;

use super::pull::pull_request;
use crate::response::{decode, received};
use crate::{
    Change, Config, Conflict, Cursor, Error, Operation, SkippedChange, Step, SyncResponse,
    Timestamp, TransportError,
};

/// What [`PullAll`] returns.
#[derive(Debug, Clone, PartialEq)]
pub struct PullAllOutcome {
    /// Every change after the starting cursor, in the server's order.
    pub changes: Vec<Change>,
    /// Conflicts the server reported (always none today).
    pub conflicts: Vec<Conflict>,
    /// Where to resume: the last page's `syncedUntil`, verbatim.
    pub cursor: Cursor,
    /// How many requests it took.
    pub pages: usize,
    /// Changes dropped as malformed, each with its index in its page.
    pub skipped: Vec<SkippedChange>,
}

enum State {
    Next,
    Awaiting,
    Done(Result<PullAllOutcome, Error>),
    Finished,
}

/// Pulls a whole collection after a cursor: requests a page, and while the
/// server says `hasMore`, requests the next one from the page's
/// `syncedUntil`. Returns the changes in order and the final cursor, kept at
/// the precision the server sent.
///
/// With [`PullAll::overlap`], the first request starts a little before the
/// cursor, to pick up changes that committed after an earlier pull's final
/// `syncedUntil` (the fold is idempotent, so re-reading them is harmless).
pub struct PullAll {
    config: Config,
    app_id: String,
    collection: String,
    since: Cursor,
    changes: Vec<Change>,
    conflicts: Vec<Conflict>,
    skipped: Vec<SkippedChange>,
    pages: usize,
    include_own: bool,
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
            changes: Vec::new(),
            conflicts: Vec::new(),
            skipped: Vec::new(),
            pages: 0,
            include_own: false,
            state: State::Next,
        })
    }

    /// Starts `overlap` before the cursor (off, i.e. zero, by default: what the
    /// browser does).
    pub fn overlap(mut self, overlap: Duration) -> PullAll {
        if self.pages == 0 {
            self.since = self.since.held_back(overlap);
        }
        self
    }

    /// Reads this client's own changes too, by sending no `X-Client-Id`
    /// (the server leaves out the changes of the id it is sent). What a
    /// reader needs that folds a whole collection, its own writes included.
    pub fn including_own_changes(mut self) -> PullAll {
        self.include_own = true;
        self
    }

    /// The cursor the next request will start from.
    pub fn since(&self) -> &Cursor {
        &self.since
    }

    fn on_page(&mut self, page: SyncResponse) -> State {
        self.pages += 1;
        let progressed = page.synced_until > self.since
            && !(page.server_changes.is_empty() && page.skipped.is_empty());
        self.changes.extend(page.server_changes);
        self.conflicts.extend(page.conflicts);
        self.skipped.extend(page.skipped);
        if page.has_more && !progressed {
            return State::Done(Err(Error::Protocol {
                reason: format!(
                    "page {} said hasMore but the cursor did not move past {}",
                    self.pages, self.since
                ),
            }));
        }
        self.since = page.synced_until;
        if page.has_more {
            return State::Next;
        }
        State::Done(Ok(PullAllOutcome {
            changes: std::mem::take(&mut self.changes),
            conflicts: std::mem::take(&mut self.conflicts),
            cursor: self.since.clone(),
            pages: self.pages,
            skipped: std::mem::take(&mut self.skipped),
        }))
    }
}

impl Operation for PullAll {
    type Output = PullAllOutcome;

    fn step(&mut self, _now: Timestamp) -> Step<PullAllOutcome> {
        match std::mem::replace(&mut self.state, State::Finished) {
            State::Next => {
                match pull_request(&self.config, &self.app_id, &self.collection, &self.since) {
                    Ok(mut request) => {
                        if self.include_own {
                            request.headers_mut().remove("x-client-id");
                        }
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
            State::Done(result) => Step::Done(result),
            State::Finished => Step::Done(Err(Error::Misuse {
                reason: "step called after the operation finished",
            })),
        }
    }

    fn on_response(
        &mut self,
        _now: Timestamp,
        response: Result<Response<Vec<u8>>, TransportError>,
    ) {
        self.state = match self.state {
            State::Awaiting => match received(response).and_then(|r| decode(&r, "pull response")) {
                Ok(page) => self.on_page(page),
                Err(e) => State::Done(Err(e)),
            },
            _ => State::Done(Err(Error::Misuse {
                reason: "a response was delivered but no request was outstanding",
            })),
        };
    }
}

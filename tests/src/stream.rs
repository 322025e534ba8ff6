//! The stream endpoint, `GET /sync/{appId}/stream`, as the real server
//! behaves: one `since` for every collection; an initial `changes` event
//! per collection with pending data (up to 1000, with `hasMore`); no
//! initial event for a collection with nothing pending; afterwards a live
//! event per table another client's push touched (requested or not; an
//! unrequested table starts from the request's `since`); heartbeats.
//!
//! A [`StreamSession`] is sans-IO like the rest of the server: it says what
//! is ready to be sent; [`crate::InProcess`] and [`crate::LoopbackServer`]
//! decide when to ask and when a heartbeat is due.

use std::collections::BTreeMap;
use std::sync::Arc;

use mana_sync_core::Timestamp;
use serde_json::{json, Value};

use crate::go_json;
use crate::go_time::rfc3339_nano;
use crate::log::Row;
use crate::server::PULL_PAGE;
use crate::MemoryServer;

/// One heartbeat event, byte for byte as the server writes it.
pub(crate) const HEARTBEAT: &[u8] = b"event: heartbeat\ndata: {}\n\n";

/// A push the server heard of: who pushed, to which app, which tables.
#[derive(Clone, Debug)]
pub(crate) struct Notice {
    pub user: String,
    pub app: String,
    pub client: String,
    pub tables: Vec<String>,
}

/// An open stream: who asked, the cursor per table, and how far it has
/// read the server's notices of pushes.
pub struct StreamSession {
    server: Arc<MemoryServer>,
    user: String,
    app: String,
    client: String,
    since: Timestamp,
    cursors: BTreeMap<String, Timestamp>,
    /// Events ready to send.
    ready: std::collections::VecDeque<Vec<u8>>,
    /// Notices read so far.
    heard: usize,
    /// Events sent on this connection.
    sent: usize,
    /// Bytes sent on this connection.
    sent_bytes: usize,
    /// Cut the connection after this many events.
    cut_after: Option<usize>,
    /// Cut the connection after this many bytes.
    cut_bytes: Option<usize>,
    /// Send nothing at all (a dead connection).
    silent: bool,
}

impl std::fmt::Debug for StreamSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamSession")
            .field("app", &self.app)
            .field("cursors", &self.cursors)
            .finish_non_exhaustive()
    }
}

impl StreamSession {
    /// Opens a session and queues the initial batches.
    pub(crate) fn open(
        server: Arc<MemoryServer>,
        user: String,
        app: String,
        client: String,
        collections: Vec<String>,
        since: Timestamp,
    ) -> StreamSession {
        let open = server.stream_open_state();
        let mut session = StreamSession {
            server,
            user,
            app,
            client,
            since,
            cursors: BTreeMap::new(),
            ready: Default::default(),
            heard: open.heard,
            sent: 0,
            sent_bytes: 0,
            cut_after: open.cut_after,
            cut_bytes: open.cut_bytes,
            silent: open.silent,
        };
        for table in collections {
            if session.cursors.contains_key(&table) {
                continue;
            }
            // The clock is read before the initial queries; a query that
            // fails leaves the cursor there and sends nothing (Races).
            session.cursors.insert(table.clone(), open.now);
            if !session.server.initial_query_fails() {
                session.query(&table, since);
            }
        }
        session
    }

    /// Whether the session sends nothing at all (a dead connection).
    pub fn is_silent(&self) -> bool {
        self.silent
    }

    /// Whether the connection is to be cut now (after the configured
    /// number of events).
    pub fn is_cut(&self) -> bool {
        self.cut_after.is_some_and(|n| self.sent >= n)
            || self.cut_bytes.is_some_and(|n| self.sent_bytes >= n)
    }

    /// Counts `event` as sent, cut to what the byte limit leaves of it.
    fn send(&mut self, mut event: Vec<u8>) -> Vec<u8> {
        if let Some(limit) = self.cut_bytes {
            event.truncate(limit.saturating_sub(self.sent_bytes));
        }
        self.sent += 1;
        self.sent_bytes = self.sent_bytes.saturating_add(event.len());
        event
    }

    /// The next event ready to send, reading the notices of pushes made
    /// since the last call; `None` when nothing is ready (then a heartbeat
    /// is due once the interval has passed) or the connection is cut.
    pub fn next_event(&mut self) -> Option<Vec<u8>> {
        if self.silent || self.is_cut() {
            return None;
        }
        if self.ready.is_empty() {
            let notices = self.server.notices_since(self.heard);
            self.heard += notices.len();
            for notice in notices {
                if notice.user != self.user
                    || notice.app != self.app
                    || notice.client == self.client
                    || self.server.notice_dropped()
                {
                    continue;
                }
                for table in notice.tables {
                    let from = self.cursors.get(&table).copied().unwrap_or(self.since);
                    self.cursors.entry(table.clone()).or_insert(self.since);
                    self.query(&table, from);
                }
            }
        }
        let event = self.ready.pop_front()?;
        Some(self.send(event))
    }

    /// Counts a heartbeat as a sent event (for the cut switch).
    pub fn heartbeat(&mut self) -> Option<Vec<u8>> {
        if self.silent || self.is_cut() {
            return None;
        }
        Some(self.send(HEARTBEAT.to_vec()))
    }

    /// Queues the event of `table`'s rows after `from`, if any, and moves
    /// its cursor to the last one.
    fn query(&mut self, table: &str, from: Timestamp) {
        let rows = self.server.rows_after(
            &self.user,
            &self.app,
            table,
            &self.client,
            from,
            PULL_PAGE + 1,
        );
        if rows.is_empty() {
            return;
        }
        let has_more = rows.len() > PULL_PAGE;
        let page = &rows[..rows.len().min(PULL_PAGE)];
        let Some(last) = page.last() else { return };
        self.cursors.insert(table.to_owned(), last.created_at);
        let data = json!({
            "changes": page.iter().map(Row::to_stream_json).collect::<Vec<Value>>(),
            "hasMore": has_more,
            "syncedUntil": rfc3339_nano(last.created_at),
            "table": table,
        });
        let text = go_json::encode(&data);
        let mut event = Vec::with_capacity(text.len() + 24);
        event.extend_from_slice(b"event: changes\ndata: ");
        event.extend_from_slice(text.trim_end().as_bytes());
        event.extend_from_slice(b"\n\n");
        self.ready.push_back(event);
    }
}

impl Drop for StreamSession {
    fn drop(&mut self) {
        self.server.stream_closed();
    }
}

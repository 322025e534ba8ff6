//! [`MemoryServer`]: mana-sync in memory, as `http::Request -> http::Response`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use base64::Engine;
use http::{header, HeaderMap, Method, Request, Response, StatusCode};
use mana_sync_core::crypto::MasterKey;
use mana_sync_core::{Clock, Timestamp};
use serde_json::{json, Value};

use crate::endpoint::Endpoint;
use crate::faults::{Fault, FaultPlan};
use crate::go_json::{self, go_quote, go_utf8};
use crate::go_time::{parse_rfc3339, rfc3339_nano, rfc3339_seconds, to_micros};
use crate::jwt::{user_at, user_of};
use crate::log::{pg_jsonb, pg_text, space_of, stored_columns, RecordError, Row};
use crate::push_body::{self, IncomingChange};
use crate::races::{RaceState, Races};
use crate::routing::{bad_request_line, clean_path, query_get, redirect, unescape};
use crate::stream::{Notice, StreamSession};
use crate::ManualClock;

/// The server's request body limit (10 MiB).
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;
/// Changes per pull page.
pub const PULL_PAGE: usize = 1000;
/// Most changes in a push response.
pub const PUSH_RESPONSE_CAP: usize = 5000;

/// How many of the last requests a [`MemoryServer`] keeps for
/// [`MemoryServer::requests`] unless told otherwise
/// ([`MemoryServer::keep_requests`]): enough for any test, bounded for a
/// server that runs for days.
pub const DEFAULT_KEPT_REQUESTS: usize = 100_000;

/// A request the server received, for assertions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The method.
    pub method: Method,
    /// The request target as sent (path and query, still encoded).
    pub uri: String,
    /// The `X-Client-Id` header, if any.
    pub client_id: Option<String>,
    /// The body's length in bytes.
    pub body_len: usize,
}

/// What the vault endpoint (`GET /api/v1/me/encryption-vault/key`) holds
/// for a user.
#[derive(Clone, Debug, Default)]
pub enum Vault {
    /// The user never opened the vault: 404 `VAULT_NOT_INITIALISED` (the
    /// default).
    #[default]
    NotInitialised,
    /// Standard mode: 200 with the key.
    Standard(MasterKey),
    /// Zero-knowledge mode: 200 with only a recovery-wrapped blob.
    ZeroKnowledge,
}

/// Marks a response that stands for a connection the real server drops
/// without answering (its handler panicked): [`crate::InProcess`] and
/// [`crate::LoopbackServer`] turn it into a closed connection.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Dropped;

/// What a new stream connection starts with ([`MemoryServer::stream_open_state`]).
pub(crate) struct StreamOpen {
    /// The server's clock, read before the initial queries.
    pub now: Timestamp,
    /// How many notices exist (the stream hears of later ones).
    pub heard: usize,
    /// Cut after this many events.
    pub cut_after: Option<usize>,
    /// Cut after this many bytes.
    pub cut_bytes: Option<usize>,
    /// Send nothing at all.
    pub silent: bool,
}

#[derive(Default)]
struct State {
    vaults: HashMap<String, Vault>,
    /// Per user, the auth service's organisation list ([`MemoryServer::set_spaces`]).
    spaces: HashMap<String, Vec<serde_json::Value>>,
    /// Per user, the log in created_at order.
    logs: BTreeMap<String, Vec<Row>>,
    inactive: HashSet<String>,
    fail_push_after: Option<usize>,
    last_created: Option<Timestamp>,
    next_event: u64,
    /// The last requests received (at most `keep_requests`).
    received: std::collections::VecDeque<Received>,
    /// How many requests were received since the last clear.
    received_total: usize,
    /// How many of the last requests are kept (`None`: the default).
    keep_requests: Option<usize>,
    /// Every push, for the streams to hear of.
    notices: Vec<Notice>,
    open_streams: usize,
    stream_cut_after: Option<usize>,
    stream_cut_bytes: Option<usize>,
    stream_cut_random: Option<(u64, usize)>,
    silent_streams: usize,
    /// Queued faults, each for one endpoint or (`None`) for any request.
    faults: std::collections::VecDeque<(Option<Endpoint>, Fault)>,
    plan: Option<FaultPlan>,
    injected: Vec<Fault>,
    races: RaceState,
    /// The data file, when the log is kept on disk (`persist.rs`).
    journal: Option<crate::persist::Journal>,
}

/// A protocol-faithful mana-sync server in memory, written from the Go
/// server's source and checked against captured exchanges:
///
/// * routes as Go's `ServeMux` has them: `GET /health`, `GET /metrics`,
///   `POST /sync/{appId}`, `GET /sync/{appId}/pull` (HEAD too where GET
///   is), 405 `Method Not Allowed` with `Allow`, 404 `404 page not found`,
///   a 301 to the cleaned path for `//`, `.` or `..` in the path; each
///   path segment is unescaped on its own, so `%2F` stays inside the app
///   id; an optional mount prefix ([`MemoryServer::with_prefix`]);
/// * one change log per user (the token's `sub`, decoded, not verified;
///   `exp` and `nbf` are checked against the server's clock), with the
///   validator's 401 texts, and a 402 switch per user;
/// * push bodies read as Go's `json.Decoder` reads them (10 MiB limit,
///   its error texts, a field's stamp only from `at`, numbers in `data`
///   as `float64`), the exact 400 texts, each change stored with a strictly
///   increasing microsecond `created_at` and the refusals PostgreSQL would
///   give (NUL characters, invalid UTF-8); the real server's races (equal
///   times, late commits) on demand ([`MemoryServer::set_races`]);
/// * push answers with every other client's change of the app since
///   `since` (at most 5000, no `hasMore`); pull answers pages of 1000 with
///   the `hasMore`/cursor rules; the caller's own changes are left out;
///   an unparseable `since` reads as 1970;
/// * JSON written as Go writes it (members in the server's order, `data`
///   sorted, HTML characters escaped, a trailing newline);
/// * a clock that can be injected and a switch that fails a push part-way.
///
/// ```
/// use mana_sync_testkit::{token_for, MemoryServer};
///
/// let server = MemoryServer::new();
/// let response = server.handle(
///     http::Request::get("/sync/todo/pull?collection=tasks&since=1970-01-01T00:00:00Z")
///         .header("authorization", format!("Bearer {}", token_for("u-1")))
///         .body(Vec::new())
///         .unwrap(),
/// );
/// assert_eq!(response.status(), 200);
/// ```
pub struct MemoryServer {
    state: Mutex<State>,
    clock: Arc<dyn Clock>,
    prefix: String,
    heartbeat: Duration,
    /// Counts pushes, for streams waiting on a socket.
    #[cfg(feature = "loopback")]
    pushed: tokio::sync::watch::Sender<usize>,
    cors: Option<crate::Cors>,
    /// Gives a key to a user the vault holds nothing for ([`MemoryServer::mint_vaults`]).
    minter: Option<Arc<KeyMinter>>,
}

/// What [`MemoryServer::mint_vaults`] is given: a key for a user (by id).
pub type KeyMinter = dyn Fn(&str) -> Option<MasterKey> + Send + Sync;

impl Default for MemoryServer {
    fn default() -> Self {
        MemoryServer::new()
    }
}

impl std::fmt::Debug for MemoryServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryServer")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// `http.Error`: text, a newline, `nosniff`.
pub(crate) fn text(status: StatusCode, body: &str) -> Response<Vec<u8>> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .header("x-content-type-options", "nosniff")
        .body(format!("{body}\n").into_bytes())
        .unwrap_or_default()
}

fn json_response(status: StatusCode, body: &Value) -> Response<Vec<u8>> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(go_json::encode(body).into_bytes())
        .unwrap_or_default()
}

fn not_found() -> Response<Vec<u8>> {
    text(StatusCode::NOT_FOUND, "404 page not found")
}

/// An answer standing for a connection closed without one.
pub(crate) fn dropped() -> Response<Vec<u8>> {
    let mut response = Response::builder()
        .status(StatusCode::INTERNAL_SERVER_ERROR)
        .body(Vec::new())
        .unwrap_or_default();
    response.extensions_mut().insert(Dropped);
    response
}

/// The caller of an auth-service route (the vault, the spaces): the token's
/// user, or the auth service's 401 (no subscription check there).
fn auth_service_user(request: &Request<Vec<u8>>) -> Result<String, Box<Response<Vec<u8>>>> {
    let header = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    user_of(header).map_err(|why| {
        Box::new(json_response(
            StatusCode::UNAUTHORIZED,
            &json!({"error": why}),
        ))
    })
}

/// A header's first value as raw bytes (Go's `r.Header.Get`).
fn header_bytes(headers: &HeaderMap, name: &str) -> Option<Vec<u8>> {
    headers.get(name).map(|v| v.as_bytes().to_vec())
}

/// What a request is for, once routed.
enum Route {
    Health,
    Metrics,
    Push(Vec<u8>),
    Pull(Vec<u8>),
    Stream(Vec<u8>),
    VaultKey,
    Spaces,
}

impl MemoryServer {
    /// A server on the system clock, as a real server (and
    /// [`crate::LoopbackServer::new`]) runs: the tokens' `exp` and `nbf`
    /// and the clients' stamps meet the time they expect. For tests that
    /// need fixed times: [`Self::deterministic`], or [`Self::with_clock`]
    /// with a [`ManualClock`] shared with the clients ([`crate::InProcess`]
    /// does that).
    pub fn new() -> MemoryServer {
        MemoryServer::with_clock(mana_sync_core::SystemClock)
    }

    /// A server whose clock is a [`ManualClock`] at [`crate::start_time`]
    /// (2026-01-01T00:00:00Z) that nothing advances: every cursor and
    /// `created_at` is the same from run to run (each row still a
    /// microsecond after the one before).
    ///
    /// ```
    /// use mana_sync_testkit::{start_time, MemoryServer};
    ///
    /// assert_eq!(MemoryServer::deterministic().now(), start_time());
    /// assert!(MemoryServer::new().now() > start_time()); // the system clock
    /// ```
    pub fn deterministic() -> MemoryServer {
        MemoryServer::with_clock(ManualClock::default())
    }

    /// A server reading time from `clock` (a [`ManualClock`] shared with
    /// the clients, or `mana_sync_core::SystemClock`).
    pub fn with_clock(clock: impl Clock) -> MemoryServer {
        MemoryServer {
            state: Mutex::new(State::default()),
            clock: Arc::new(clock),
            prefix: String::new(),
            heartbeat: Duration::from_secs(30),
            #[cfg(feature = "loopback")]
            pushed: tokio::sync::watch::Sender::new(0),
            cors: None,
            minter: None,
        }
    }

    /// Sets the stream's heartbeat interval (30 s by default).
    pub fn with_heartbeat(mut self, interval: Duration) -> MemoryServer {
        self.heartbeat = interval;
        self
    }

    /// The stream's heartbeat interval.
    pub fn heartbeat(&self) -> Duration {
        self.heartbeat
    }

    /// Cuts every stream connection after it has sent `events` events
    /// (heartbeats included); `None` stops cutting.
    pub fn cut_streams_after(&self, events: Option<usize>) {
        self.state().stream_cut_after = events;
    }

    /// Cuts every stream connection once it has sent `bytes` bytes (heartbeats
    /// included), in the middle of an event if that is where the count ends;
    /// `None` stops cutting.
    pub fn cut_streams_after_bytes(&self, bytes: Option<usize>) {
        self.state().stream_cut_bytes = bytes;
    }

    /// Cuts each new stream connection after a number of events drawn from
    /// `1..=max_events` (seeded: the same draws for the same seed); `None`
    /// stops it.
    pub fn cut_streams_randomly(&self, plan: Option<(u64, usize)>) {
        self.state().stream_cut_random = plan.map(|(seed, max)| (seed, max.max(1)));
    }

    /// The next `n` stream connections send their head and then nothing at
    /// all, not even heartbeats: a dead connection, for idle timeouts.
    pub fn silence_next_streams(&self, n: usize) {
        self.state().silent_streams = n;
    }

    /// Answers the next `n` requests (of any kind, streams and the vault
    /// included) with `fault` instead of handling them. To fail only the
    /// requests of one endpoint, see [`Self::fail_next_requests_to`].
    pub fn fail_next_requests(&self, n: usize, fault: Fault) {
        let mut s = self.state();
        s.faults.extend(std::iter::repeat_n((None, fault), n));
    }

    /// Answers the next `n` requests to `endpoint` with `fault`; requests
    /// to the other endpoints are not counted and handled as usual (a
    /// client that fetches the vault key before it pushes gets its key).
    /// Faults queued earlier for any request still come first.
    ///
    /// ```
    /// use mana_sync_testkit::{Endpoint, Fault, MemoryServer};
    ///
    /// let server = MemoryServer::new();
    /// server.fail_next_requests_to(Endpoint::Push, 2, Fault::Unavailable);
    /// let get = |path: &str| server.handle(http::Request::get(path).body(Vec::new()).unwrap());
    /// assert_eq!(get("/health").status(), 200); // not a push: untouched
    /// let push = || server.handle(http::Request::post("/sync/todo").body(Vec::new()).unwrap());
    /// assert_eq!(push().status(), 503);
    /// assert_eq!(push().status(), 503);
    /// assert_eq!(push().status(), 401); // handled again (no token here)
    /// ```
    pub fn fail_next_requests_to(&self, endpoint: Endpoint, n: usize, fault: Fault) {
        let mut s = self.state();
        s.faults
            .extend(std::iter::repeat_n((Some(endpoint), fault), n));
    }

    /// The first queued fault for a request to `endpoint` (`None`: a
    /// request no endpoint answers), taken off the queue.
    fn take_queued(s: &mut State, endpoint: Option<Endpoint>) -> Option<Fault> {
        let at = s
            .faults
            .iter()
            .position(|(aim, _)| aim.is_none() || *aim == endpoint)?;
        s.faults.remove(at).map(|(_, fault)| fault)
    }

    /// The endpoint a request is for, if it is for one.
    fn endpoint(&self, request: &Request<Vec<u8>>) -> Option<Endpoint> {
        Some(match self.routed(request).ok()? {
            Route::Health => Endpoint::Health,
            Route::Metrics => Endpoint::Metrics,
            Route::Push(_) => Endpoint::Push,
            Route::Pull(_) => Endpoint::Pull,
            Route::Stream(_) => Endpoint::Stream,
            Route::VaultKey => Endpoint::Vault,
            Route::Spaces => Endpoint::Spaces,
        })
    }

    /// Lets `plan` fault the requests from now on (streams excepted: see
    /// [`Self::cut_streams_after`] and [`Self::silence_next_streams`]) when
    /// none is queued with [`Self::fail_next_requests`]; `None` stops it.
    ///
    /// ```
    /// use mana_sync_testkit::{FaultPlan, MemoryServer};
    ///
    /// let server = MemoryServer::new();
    /// server.set_fault_plan(Some(FaultPlan::seeded(1).rate(1.0)));
    /// let response = server.handle(http::Request::get("/health").body(Vec::new()).unwrap());
    /// assert_eq!(server.faults_injected().len(), 1);
    /// # let _ = response;
    /// ```
    pub fn set_fault_plan(&self, plan: Option<FaultPlan>) {
        self.state().plan = plan;
    }

    /// Every fault injected so far (queued or planned), oldest first.
    pub fn faults_injected(&self) -> Vec<Fault> {
        self.state().injected.clone()
    }

    /// How many stream connections are open now.
    pub fn open_streams(&self) -> usize {
        self.state().open_streams
    }

    /// Opens a stream (`GET /sync/{appId}/stream`) for `request`: a session
    /// that says what to send, or the response that refuses it (the same
    /// routing, auth and faults as [`Self::handle`]).
    pub fn open_stream(
        self: &Arc<Self>,
        request: Request<Vec<u8>>,
    ) -> Result<StreamSession, Box<Response<Vec<u8>>>> {
        self.note_received(&request, 0);
        let endpoint = self.endpoint(&request);
        let queued = {
            let mut s = self.state();
            let fault = MemoryServer::take_queued(&mut s, endpoint);
            s.injected.extend(fault.clone());
            fault
        };
        if let Some(fault) = queued {
            return Err(Box::new(fault.stream_refusal()));
        }
        let app = match self.routed(&request)? {
            Route::Stream(app) => app,
            _ => return Err(Box::new(not_found())),
        };
        let user = self.caller(&request)?;
        let query = request.uri().query().unwrap_or_default();
        let collections = query_get(query, "collections").unwrap_or_default();
        if collections.is_empty() {
            return Err(Box::new(text(
                StatusCode::BAD_REQUEST,
                "missing collections parameter",
            )));
        }
        let since = query_get(query, "since")
            .and_then(|s| std::str::from_utf8(&s).ok().and_then(parse_rfc3339))
            .unwrap_or(Timestamp::UNIX_EPOCH);
        let client = header_bytes(request.headers(), "x-client-id").unwrap_or_default();
        let collections = go_utf8(&collections)
            .split(',')
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect();
        Ok(StreamSession::open(
            self.clone(),
            user,
            go_utf8(&app),
            go_utf8(&client),
            collections,
            since,
        ))
    }

    /// For a new stream: the clock, how many notices exist, and the
    /// switches that apply to it. Counts the stream as open.
    pub(crate) fn stream_open_state(&self) -> StreamOpen {
        let mut s = self.state();
        s.open_streams += 1;
        let silent = s.silent_streams > 0;
        s.silent_streams = s.silent_streams.saturating_sub(1);
        let random = s.stream_cut_random.as_mut().map(|(seed, max)| {
            // SplitMix64: a new draw per connection.
            *seed = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = *seed;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            let draw = usize::try_from(z % (*max as u64)).unwrap_or(0);
            draw.saturating_add(1)
        });
        let cut_after = match (s.stream_cut_after, random) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        StreamOpen {
            now: self.now_locked(&s),
            heard: s.notices.len(),
            cut_after,
            cut_bytes: s.stream_cut_bytes,
            silent,
        }
    }

    /// Counts an initial stream query: whether it fails ([`Races`]).
    pub(crate) fn initial_query_fails(&self) -> bool {
        self.state().races.initial_query_fails()
    }

    /// Counts a notification heard by a stream: whether it is dropped
    /// ([`Races`]).
    pub(crate) fn notice_dropped(&self) -> bool {
        self.state().races.notice_dropped()
    }

    pub(crate) fn stream_closed(&self) {
        let mut s = self.state();
        s.open_streams = s.open_streams.saturating_sub(1);
    }

    /// The pushes heard of after the first `heard`.
    pub(crate) fn notices_since(&self, heard: usize) -> Vec<Notice> {
        self.state()
            .notices
            .get(heard..)
            .map(<[Notice]>::to_vec)
            .unwrap_or_default()
    }

    /// Waits for pushes: the receiver changes with each one.
    #[cfg(feature = "loopback")]
    pub(crate) fn subscribe(&self) -> tokio::sync::watch::Receiver<usize> {
        self.pushed.subscribe()
    }

    /// Rows of `table` after `from` not pushed by `client`, oldest first.
    pub(crate) fn rows_after(
        &self,
        user: &str,
        app: &str,
        table: &str,
        client: &str,
        from: Timestamp,
        limit: usize,
    ) -> Vec<Row> {
        let s = self.state();
        // The stream's queries see only committed rows (late commits).
        let now = self.now_locked(&s);
        after(&s.logs, user, from)
            .iter()
            .filter(|r| r.app_id == app && r.table == table && r.client_id != client)
            .filter(|r| s.races.visible(&r.event_id, now))
            .take(limit)
            .cloned()
            .collect()
    }

    /// Mounts the server under a path prefix such as `/api/v1`, as behind a
    /// proxy: requests outside it are 404.
    pub fn with_prefix(mut self, prefix: &str) -> MemoryServer {
        let prefix = prefix.trim_end_matches('/');
        self.prefix = if prefix.is_empty() || prefix.starts_with('/') {
            prefix.to_owned()
        } else {
            format!("/{prefix}")
        };
        self
    }

    /// Answers browsers' CORS preflights and marks answers for the origins
    /// `cors` allows (see [`crate::Cors`]); without it, as the captures show,
    /// there is no CORS handling.
    pub fn with_cors(mut self, cors: crate::Cors) -> MemoryServer {
        self.cors = Some(cors);
        self
    }

    /// Restores the rows read back from a data file (`persist.rs`), in any
    /// order: each user's log is sorted once by `created_at` (stable, so
    /// rows of one time keep their file order), O(n log n) however the file
    /// is ordered; the clock and the event ids go on after the newest.
    pub(crate) fn restore_all(&self, rows: Vec<(String, Row)>) {
        let mut s = self.state();
        let mut touched = std::collections::BTreeSet::new();
        for (user, row) in rows {
            if s.last_created.is_none_or(|last| row.created_at > last) {
                s.last_created = Some(row.created_at);
            }
            let event = row
                .event_id
                .rsplit('-')
                .next()
                .and_then(|n| u64::from_str_radix(n, 16).ok());
            s.next_event = s
                .next_event
                .max(event.unwrap_or(0))
                .saturating_add(u64::from(event.is_none()));
            s.logs.entry(user.clone()).or_default().push(row);
            touched.insert(user);
        }
        for user in touched {
            if let Some(log) = s.logs.get_mut(&user) {
                log.sort_by_key(|r| r.created_at);
            }
        }
    }

    /// Keeps every push's new rows in the data file from now on.
    pub(crate) fn set_journal(&self, journal: crate::persist::Journal) {
        self.state().journal = Some(journal);
    }

    /// Writes the rows of `user` stored from index `from` on to the data
    /// file, if there is one; on failure, forgets them.
    fn journal(s: &mut State, user: &str, from: usize) -> Result<(), String> {
        let State { journal, logs, .. } = s;
        let (Some(journal), Some(log)) = (journal.as_mut(), logs.get_mut(user)) else {
            return Ok(());
        };
        match log.get(from..) {
            Some(rows) if !rows.is_empty() => journal.append(user, rows).map_err(|e| {
                log.truncate(from);
                e.to_string()
            }),
            _ => Ok(()),
        }
    }

    /// The mount prefix (`""` when none).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Turns a user's sync subscription on or off (off: 402 on push and
    /// pull, once the token is accepted).
    pub fn set_sync_active(&self, user: &str, active: bool) {
        let mut s = self.state();
        if active {
            s.inactive.remove(user);
        } else {
            s.inactive.insert(user.to_owned());
        }
    }

    /// Arms a one-shot failure: once `n` more changes have been stored, the
    /// push that would store the next one stops there and answers 500
    /// `failed to record change: injected failure`, keeping what it stored
    /// before, as the real server does when a change's transaction fails.
    /// With a push of more than `n` changes, that is the next push.
    pub fn fail_next_push_after(&self, n: usize) {
        self.state().fail_push_after = Some(n);
    }

    /// Switches the real server's races on or off ([`Races`]): rows stored
    /// with equal times, rows that commit late. Off by default.
    pub fn set_races(&self, races: Races) {
        self.state().races.set(races);
    }

    /// For a development server: a user the vault holds nothing for (no
    /// [`Self::set_vault`]) gets the key `mint` gives on their first key
    /// request, kept from then on as [`Vault::Standard`] (`None`: the vault
    /// stays uninitialised). The real vault never does this: a key is made
    /// by the user's browser.
    ///
    /// ```
    /// use mana_sync_core::crypto::MasterKey;
    /// use mana_sync_testkit::{token_for, MemoryServer};
    ///
    /// let server = MemoryServer::new().mint_vaults(|_user| MasterKey::from_bytes(&[7; 32]).ok());
    /// let response = server.handle(
    ///     http::Request::get("/api/v1/me/encryption-vault/key")
    ///         .header("authorization", format!("Bearer {}", token_for("u-1")))
    ///         .body(Vec::new())
    ///         .unwrap(),
    /// );
    /// assert_eq!(response.status(), 200);
    /// ```
    pub fn mint_vaults(
        mut self,
        mint: impl Fn(&str) -> Option<MasterKey> + Send + Sync + 'static,
    ) -> MemoryServer {
        self.minter = Some(Arc::new(mint));
        self
    }

    /// Sets what the vault holds for `user`.
    pub fn set_vault(&self, user: &str, vault: Vault) {
        self.state().vaults.insert(user.to_owned(), vault);
    }

    /// Sets the spaces the auth service lists for `user`
    /// (`GET /api/auth/organization/list`): each an organisation object as
    /// the auth service writes it (`id`, `name`, `slug`, `metadata` with the
    /// space's `type`, as an object or a JSON string). A user without any
    /// set gets one personal space, `personal-{user}`, so that a
    /// development server answers the `spaces.list` tool as a signed-up
    /// user's account would.
    ///
    /// ```
    /// use mana_sync_testkit::{token_for, MemoryServer};
    ///
    /// let server = MemoryServer::new();
    /// server.set_spaces("u-1", vec![serde_json::json!({
    ///     "id": "sp-family", "name": "Family", "metadata": {"type": "family"}
    /// })]);
    /// let response = server.handle(
    ///     http::Request::get("/api/auth/organization/list")
    ///         .header("authorization", format!("Bearer {}", token_for("u-1")))
    ///         .body(Vec::new())
    ///         .unwrap(),
    /// );
    /// assert_eq!(response.status(), 200);
    /// let listed: serde_json::Value = serde_json::from_slice(response.body()).unwrap();
    /// assert_eq!(listed[0]["id"], "sp-family");
    /// ```
    pub fn set_spaces(&self, user: &str, organizations: Vec<serde_json::Value>) {
        self.state().spaces.insert(user.to_owned(), organizations);
    }

    /// Keeps at most the last `n` requests for [`Self::requests`] (the
    /// default is [`DEFAULT_KEPT_REQUESTS`]; 0 keeps none, as a long-running
    /// development server wants). [`Self::request_count`] still counts
    /// every request.
    ///
    /// ```
    /// use mana_sync_testkit::MemoryServer;
    ///
    /// let server = MemoryServer::new().keep_requests(2);
    /// for _ in 0..5 {
    ///     server.handle(http::Request::get("/health").body(Vec::new()).unwrap());
    /// }
    /// assert_eq!((server.requests().len(), server.request_count()), (2, 5));
    /// ```
    pub fn keep_requests(self, n: usize) -> MemoryServer {
        {
            let mut s = self.state();
            s.keep_requests = Some(n);
            while s.received.len() > n {
                s.received.pop_front();
            }
        }
        self
    }

    /// The requests received so far, oldest first: all of them, or the last
    /// [`Self::keep_requests`] when more came.
    pub fn requests(&self) -> Vec<Received> {
        self.state().received.iter().cloned().collect()
    }

    /// Every request received so far (the same as [`Self::requests`]).
    pub fn received(&self) -> Vec<Received> {
        self.requests()
    }

    /// How many requests have been received (kept or not).
    pub fn request_count(&self) -> usize {
        self.state().received_total
    }

    /// Forgets the requests received so far.
    pub fn clear_requests(&self) {
        let mut s = self.state();
        s.received.clear();
        s.received_total = 0;
    }

    /// A user's stored changes of one app, oldest first, as push and pull
    /// return them.
    pub fn changes(&self, user: &str, app_id: &str) -> Vec<Value> {
        let s = self.state();
        s.logs
            .get(user)
            .map(|log| {
                log.iter()
                    .filter(|r| r.app_id == app_id)
                    .map(Row::to_json)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// How many changes a user has stored, all apps together.
    pub fn stored_count(&self, user: &str) -> usize {
        self.state().logs.get(user).map_or(0, Vec::len)
    }

    /// The server's clock: the injected clock, never behind the newest
    /// stored change (what `syncedUntil` says when it is not a cursor).
    pub fn now(&self) -> Timestamp {
        let s = self.state();
        self.now_locked(&s)
    }

    fn now_locked(&self, s: &State) -> Timestamp {
        let now = self.clock.now();
        match s.last_created {
            Some(last) if last > now => last,
            _ => now,
        }
    }

    /// Stores `changes` (push-body change objects) for `user` as if
    /// `client_id` had pushed them to `app_id`, without a request and
    /// without the failure switch. Panics on a change the server would
    /// refuse: this is for setting up tests.
    pub fn seed(&self, user: &str, app_id: &str, client_id: &str, changes: &[Value]) {
        let body = json!({ "changes": changes }).to_string();
        let set = push_body::parse(body.as_bytes(), usize::MAX)
            .unwrap_or_else(|e| panic!("seed: invalid JSON: {e}"));
        let mut s = self.state();
        s.races.begin_push();
        for (i, change) in set.changes.iter().enumerate() {
            if let Err(why) = validate(i, change) {
                panic!("seed: {why}");
            }
            let stored = self.record(
                &mut s,
                user,
                app_id.as_bytes(),
                client_id.as_bytes(),
                change,
                1,
                false,
            );
            if stored.is_err() {
                panic!("seed: change {i} cannot be stored");
            }
        }
        self.notify(
            &mut s,
            user,
            app_id.as_bytes(),
            client_id.as_bytes(),
            &set.changes,
        );
    }

    /// Tells the open streams that `client` stored `changes` (their tables).
    fn notify(
        &self,
        s: &mut State,
        user: &str,
        app: &[u8],
        client: &[u8],
        changes: &[IncomingChange],
    ) {
        let mut tables: Vec<String> = changes.iter().map(|c| c.table.clone()).collect();
        tables.sort();
        tables.dedup();
        s.notices.push(Notice {
            user: user.to_owned(),
            app: go_utf8(app),
            client: go_utf8(client),
            tables,
        });
        #[cfg(feature = "loopback")]
        self.pushed.send_modify(|n| *n += 1);
    }

    /// Answers one request, as the real server would. A request that makes
    /// the real handler panic (an update whose field is `null`) gets an
    /// empty 500 standing for a dropped connection, which
    /// [`crate::InProcess`] and [`crate::LoopbackServer`] turn into one.
    pub fn handle(&self, request: Request<Vec<u8>>) -> Response<Vec<u8>> {
        let len = request.body().len();
        self.handle_sized(request, len)
    }

    /// [`Self::handle`] for a body of which only the first bytes were read
    /// (`body_len` is the length sent).
    pub(crate) fn handle_sized(
        &self,
        request: Request<Vec<u8>>,
        body_len: usize,
    ) -> Response<Vec<u8>> {
        self.note_received(&request, body_len);
        match self.next_fault(&request) {
            Some(fault) => fault.answer(|part_way| self.answer(&request, part_way)),
            None => self.answer(&request, None),
        }
    }

    /// The fault for a request: a queued one, else the plan's, if any.
    fn next_fault(&self, request: &Request<Vec<u8>>) -> Option<Fault> {
        let endpoint = self.endpoint(request);
        let mut s = self.state();
        let fault = match MemoryServer::take_queued(&mut s, endpoint) {
            Some(fault) => Some(fault),
            None => {
                let State { plan, .. } = &mut *s;
                let plan = plan.as_mut()?;
                let changes = (request.method() == Method::POST)
                    .then(|| push_body::parse(request.body(), MAX_BODY_BYTES).ok())
                    .flatten()
                    .map(|set| set.changes.len());
                plan.next_fault(changes)
            }
        };
        s.injected.extend(fault.clone());
        fault
    }

    /// Answers a request normally; a push stores at most `part_way`
    /// changes, then fails.
    fn answer(&self, request: &Request<Vec<u8>>, part_way: Option<usize>) -> Response<Vec<u8>> {
        if let Some(preflight) = self.cors.as_ref().and_then(|c| c.preflight(request)) {
            return preflight;
        }
        let mut response = self.route(request, part_way);
        if request.method() == Method::HEAD {
            response.body_mut().clear();
        }
        if let Some(cors) = &self.cors {
            cors.decorate(request.headers(), &mut response);
        }
        response
    }

    fn note_received(&self, request: &Request<Vec<u8>>, body_len: usize) {
        let uri = request.uri();
        let received = Received {
            method: request.method().clone(),
            uri: uri
                .path_and_query()
                .map_or_else(|| uri.path().to_owned(), |p| p.as_str().to_owned()),
            client_id: header_bytes(request.headers(), "x-client-id").map(|b| go_utf8(&b)),
            body_len,
        };
        let mut s = self.state();
        s.received_total = s.received_total.saturating_add(1);
        let keep = s.keep_requests.unwrap_or(DEFAULT_KEPT_REQUESTS);
        if keep > 0 {
            if s.received.len() >= keep {
                s.received.pop_front();
            }
            s.received.push_back(received);
        }
    }

    fn route(&self, request: &Request<Vec<u8>>, part_way: Option<usize>) -> Response<Vec<u8>> {
        let route = match self.routed(request) {
            Ok(route) => route,
            Err(response) => return *response,
        };
        match route {
            Route::Health => self.health(),
            Route::Metrics => metrics(),
            Route::Push(app) => self.push(request, &app, part_way),
            Route::Pull(app) => self.pull(request, &app),
            // Streams are opened with `open_stream`; over a plain exchange
            // the answer is what is pending now, as one finished body.
            Route::Stream(_) => text(
                StatusCode::BAD_REQUEST,
                "the stream endpoint needs a streaming transport (MemoryServer::open_stream)",
            ),
            Route::VaultKey => self.vault_key(request),
            Route::Spaces => self.spaces(request),
        }
    }

    /// The route of a request, or the response that refuses it (a bad
    /// path, a redirect, 404, 405).
    fn routed(&self, request: &Request<Vec<u8>>) -> Result<Route, Box<Response<Vec<u8>>>> {
        let path = request.uri().path();
        if unescape(path, false).is_none() {
            return Err(Box::new(bad_request_line()));
        }
        let rest = if self.prefix.is_empty() {
            path
        } else {
            match path.strip_prefix(self.prefix.as_str()) {
                Some(rest) if rest.starts_with('/') => rest,
                _ => return Err(Box::new(not_found())),
            }
        };
        let cleaned = clean_path(rest);
        if cleaned != rest {
            let mut location = format!("{}{}", self.prefix, cleaned.replace('%', "%25"));
            if let Some(query) = request.uri().query().filter(|q| !q.is_empty()) {
                location.push('?');
                location.push_str(query);
            }
            return Err(Box::new(redirect(request.method(), &location)));
        }
        let segments: Vec<Vec<u8>> = cleaned[1..]
            .split('/')
            .map(|s| unescape(s, false).unwrap_or_else(|| s.as_bytes().to_vec()))
            .collect();
        let segs: Vec<&[u8]> = segments.iter().map(Vec::as_slice).collect();
        let route = match segs.as_slice() {
            [b"health"] => Route::Health,
            [b"metrics"] => Route::Metrics,
            [b"sync", app] if !app.is_empty() => Route::Push(app.to_vec()),
            [b"sync", app, b"pull"] if !app.is_empty() => Route::Pull(app.to_vec()),
            [b"sync", app, b"stream"] if !app.is_empty() => Route::Stream(app.to_vec()),
            [b"api", b"v1", b"me", b"encryption-vault", b"key"] => Route::VaultKey,
            [b"api", b"auth", b"organization", b"list"] => Route::Spaces,
            _ => return Err(Box::new(not_found())),
        };
        let method = request.method();
        let (allowed, ok) = match route {
            Route::Push(_) => ("POST", method == Method::POST),
            _ => ("GET, HEAD", method == Method::GET || method == Method::HEAD),
        };
        if !ok {
            let mut response = text(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
            if let Ok(v) = http::HeaderValue::from_str(allowed) {
                response.headers_mut().insert(header::ALLOW, v);
            }
            return Err(Box::new(response));
        }
        Ok(route)
    }

    /// The auth service's vault: the same tokens, no subscription check.
    fn vault_key(&self, request: &Request<Vec<u8>>) -> Response<Vec<u8>> {
        let user = match auth_service_user(request) {
            Ok(user) => user,
            Err(refused) => return *refused,
        };
        let held = self.state().vaults.get(&user).cloned();
        let vault = match (held, &self.minter) {
            (Some(vault), _) => vault,
            (None, Some(mint)) => {
                // Minted outside the lock (the minter may print); a request
                // racing this one keeps whichever key was stored first.
                let minted = mint(&user).map_or(Vault::NotInitialised, Vault::Standard);
                self.state()
                    .vaults
                    .entry(user.clone())
                    .or_insert(minted)
                    .clone()
            }
            (None, None) => Vault::NotInitialised,
        };
        let b64 = base64::engine::general_purpose::STANDARD;
        match vault {
            Vault::NotInitialised => json_response(
                StatusCode::NOT_FOUND,
                &json!({"code": "VAULT_NOT_INITIALISED", "message": "Vault has not been initialised"}),
            ),
            Vault::Standard(key) => json_response(
                StatusCode::OK,
                &json!({"masterKey": b64.encode(key.expose()), "formatVersion": 1, "kekId": "kek-testkit"}),
            ),
            Vault::ZeroKnowledge => json_response(
                StatusCode::OK,
                &json!({"requiresRecoveryCode": true, "recoveryWrappedMk": b64.encode([7u8; 48]),
                        "recoveryIv": b64.encode([9u8; 12]), "formatVersion": 1}),
            ),
        }
    }

    /// The auth service's organisation list: the same tokens as the vault.
    fn spaces(&self, request: &Request<Vec<u8>>) -> Response<Vec<u8>> {
        let user = match auth_service_user(request) {
            Ok(user) => user,
            Err(refused) => return *refused,
        };
        let held = self.state().spaces.get(&user).cloned();
        let list = held.unwrap_or_else(|| {
            let id = format!("personal-{user}");
            vec![json!({"id": id, "name": "Personal", "slug": id,
                        "metadata": "{\"type\":\"personal\"}"})]
        });
        json_response(StatusCode::OK, &serde_json::Value::Array(list))
    }

    /// The caller (billing middleware, then the handler's token check):
    /// 402 for an accepted token of an inactive user, 401 for a refused one.
    fn caller(&self, request: &Request<Vec<u8>>) -> Result<String, Box<Response<Vec<u8>>>> {
        let auth = header_bytes(request.headers(), "authorization").map(|b| go_utf8(&b));
        let now = self.now();
        match user_at(auth.as_deref(), now) {
            Ok(user) if self.state().inactive.contains(&user) => Err(Box::new(json_response(
                StatusCode::PAYMENT_REQUIRED,
                &json!({"error": "sync_inactive",
                        "message": "Cloud Sync ist nicht aktiv. Aktiviere Sync in den Einstellungen."}),
            ))),
            Ok(user) => Ok(user),
            Err(why) => Err(Box::new(text(
                StatusCode::UNAUTHORIZED,
                &format!("unauthorized: {why}"),
            ))),
        }
    }

    fn health(&self) -> Response<Vec<u8>> {
        // `users` and `connections` count WebSocket clients, which this
        // server does not serve.
        json_response(
            StatusCode::OK,
            &json!({"connections": 0, "service": "mana-sync", "status": "ok",
                    "timestamp": rfc3339_seconds(self.now()), "users": 0}),
        )
    }

    /// Stores one change (`RecordChange`), unless the failure switch, the
    /// handler or PostgreSQL stops it.
    #[allow(clippy::too_many_arguments)]
    fn record(
        &self,
        s: &mut State,
        user: &str,
        app: &[u8],
        client: &[u8],
        c: &IncomingChange,
        changeset_schema: i64,
        honour_failure: bool,
    ) -> Result<(), RecordError> {
        let (data, field_timestamps) = stored_columns(c)?;
        if honour_failure && s.fail_push_after == Some(0) {
            s.fail_push_after = None;
            return Err(RecordError::Db("injected failure".into()));
        }
        let space_id = space_of(c);
        let jsonb = |v: Value| pg_jsonb(&v).map_err(RecordError::Db);
        let text = |b: &[u8]| pg_text(b).map_err(RecordError::Db);
        text(app)?;
        text(c.table.as_bytes())?;
        text(c.id.as_bytes())?;
        text(user.as_bytes())?;
        text(space_id.as_deref().unwrap_or_default().as_bytes())?;
        text(c.op.as_bytes())?;
        jsonb(data.clone().map_or(Value::Null, Value::Object))?;
        jsonb(json!(field_timestamps))?;
        text(client)?;
        jsonb(c.actor.clone().unwrap_or(Value::Null))?;
        text(c.origin.as_bytes())?;

        let now = to_micros(self.clock.now());
        let created_at = s.races.created_at(s.last_created, now);
        s.last_created = Some(created_at);
        s.next_event += 1;
        let row = Row {
            event_id: format!("00000000-0000-4000-8000-{:012x}", s.next_event),
            schema_version: if c.schema_version > 0 {
                c.schema_version
            } else {
                changeset_schema
            },
            app_id: go_utf8(app),
            client_id: go_utf8(client),
            table: c.table.clone(),
            id: c.id.clone(),
            op: c.op.clone(),
            data,
            field_timestamps,
            space_id,
            actor: c.actor.clone(),
            origin: Some(c.origin.clone()).filter(|o| !o.is_empty()),
            created_at,
        };
        s.races.stored(&row.event_id, created_at);
        s.logs.entry(user.to_owned()).or_default().push(row);
        if honour_failure {
            if let Some(n) = s.fail_push_after.as_mut() {
                *n -= 1;
            }
        }
        Ok(())
    }

    fn push(
        &self,
        request: &Request<Vec<u8>>,
        app: &[u8],
        part_way: Option<usize>,
    ) -> Response<Vec<u8>> {
        let user = match self.caller(request) {
            Ok(user) => user,
            Err(response) => return *response,
        };
        let set = match push_body::parse(request.body(), MAX_BODY_BYTES) {
            Ok(set) => set,
            Err(why) => return text(StatusCode::BAD_REQUEST, &format!("invalid JSON: {why}")),
        };
        let schema = set.schema_version.max(1);
        if schema > 1 {
            return text(
                StatusCode::BAD_REQUEST,
                &format!("unsupported schemaVersion {schema} (max 1)"),
            );
        }
        for (i, c) in set.changes.iter().enumerate() {
            if let Err(why) = validate(i, c) {
                return text(StatusCode::BAD_REQUEST, &why);
            }
        }
        let client = header_bytes(request.headers(), "x-client-id")
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| set.client_id.as_bytes().to_vec());
        let mut s = self.state();
        // A planned failure part-way replaces the switch for this push only.
        let switch = match part_way {
            Some(n) => s.fail_push_after.replace(n),
            None => s.fail_push_after,
        };
        s.races.begin_push();
        let stored_before = s.logs.get(&user).map_or(0, Vec::len);
        let mut failed = None;
        for change in &set.changes {
            match self.record(&mut s, &user, app, &client, change, schema, true) {
                Ok(()) => {}
                Err(RecordError::Panic) => {
                    failed = Some(dropped());
                    break;
                }
                Err(RecordError::Db(why)) => {
                    failed = Some(text(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        &format!("failed to record change: {why}"),
                    ));
                    break;
                }
            }
        }
        if part_way.is_some() {
            s.fail_push_after = switch;
        }
        if let Err(why) = MemoryServer::journal(&mut s, &user, stored_before) {
            return text(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("failed to record change: {why}"),
            );
        }
        // Streams hear of what was stored, even when the push failed
        // part-way.
        self.notify(&mut s, &user, app, &client, &set.changes);
        if let Some(response) = failed {
            return response;
        }
        if pg_text(app).is_err() || pg_text(&client).is_err() {
            return text(StatusCode::INTERNAL_SERVER_ERROR, "internal error");
        }
        let since = parse_rfc3339(&set.since).unwrap_or(Timestamp::UNIX_EPOCH);
        let (app, client) = (go_utf8(app), go_utf8(&client));
        let now = self.now_locked(&s);
        let server_changes: Vec<Value> = after(&s.logs, &user, since)
            .iter()
            .filter(|r| r.app_id == app && r.client_id != client)
            .filter(|r| s.races.visible(&r.event_id, now))
            .take(PUSH_RESPONSE_CAP)
            .map(Row::to_json)
            .collect();
        json_response(
            StatusCode::OK,
            &json!({"serverChanges": server_changes, "conflicts": [],
                    "syncedUntil": rfc3339_nano(now)}),
        )
    }

    fn pull(&self, request: &Request<Vec<u8>>, app: &[u8]) -> Response<Vec<u8>> {
        let user = match self.caller(request) {
            Ok(user) => user,
            Err(response) => return *response,
        };
        let query = request.uri().query().unwrap_or_default();
        let collection = query_get(query, "collection").unwrap_or_default();
        let since = query_get(query, "since").unwrap_or_default();
        if collection.is_empty() || since.is_empty() {
            return text(
                StatusCode::BAD_REQUEST,
                "missing collection or since parameter",
            );
        }
        let client = header_bytes(request.headers(), "x-client-id").unwrap_or_default();
        if pg_text(app).is_err() || pg_text(&collection).is_err() || pg_text(&client).is_err() {
            return text(StatusCode::INTERNAL_SERVER_ERROR, "internal error");
        }
        let since = std::str::from_utf8(&since)
            .ok()
            .and_then(parse_rfc3339)
            .unwrap_or(Timestamp::UNIX_EPOCH);
        let (app, collection, client) = (go_utf8(app), go_utf8(&collection), go_utf8(&client));
        let s = self.state();
        let now = self.now_locked(&s);
        let rows: Vec<&Row> = after(&s.logs, &user, since)
            .iter()
            .filter(|r| r.app_id == app && r.table == collection && r.client_id != client)
            .filter(|r| s.races.visible(&r.event_id, now))
            .take(PULL_PAGE + 1)
            .collect();
        let has_more = rows.len() > PULL_PAGE;
        let page = &rows[..rows.len().min(PULL_PAGE)];
        let synced_until = match page.last() {
            Some(last) if has_more => rfc3339_nano(last.created_at),
            _ => rfc3339_nano(now),
        };
        let mut body = json!({
            "serverChanges": page.iter().map(|r| r.to_json()).collect::<Vec<_>>(),
            "conflicts": [],
            "syncedUntil": synced_until,
        });
        if has_more {
            body["hasMore"] = true.into();
        }
        json_response(StatusCode::OK, &body)
    }
}

/// The rows of `user`'s log stored strictly after `since` (the log is in
/// `created_at` order, so the start is found by binary search: a page costs
/// what it holds, not the whole log).
fn after<'a>(logs: &'a BTreeMap<String, Vec<Row>>, user: &str, since: Timestamp) -> &'a [Row] {
    let log = logs.get(user).map(Vec::as_slice).unwrap_or_default();
    let start = log.partition_point(|r| r.created_at <= since);
    log.get(start..).unwrap_or_default()
}

/// The handler's checks of one change, with its 400 texts.
fn validate(i: usize, c: &IncomingChange) -> Result<(), String> {
    if !matches!(c.op.as_str(), "insert" | "update" | "delete") {
        return Err(format!("invalid op {} in change {i}", go_quote(&c.op)));
    }
    if c.table.is_empty() || c.id.is_empty() {
        return Err(format!("missing table or id in change {i}"));
    }
    Ok(())
}

/// `GET /metrics`: the Prometheus text (no WebSocket clients here).
fn metrics() -> Response<Vec<u8>> {
    let body = "# HELP mana_sync_connections_total Total WebSocket connections\n\
                # TYPE mana_sync_connections_total gauge\n\
                mana_sync_connections_total 0\n\
                # HELP mana_sync_users_connected Connected unique users\n\
                # TYPE mana_sync_users_connected gauge\n\
                mana_sync_users_connected 0\n";
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "text/plain")
        .body(body.as_bytes().to_vec())
        .unwrap_or_default()
}

//! [`MemoryServer`]: mana-sync in memory, as `http::Request -> http::Response`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use base64::Engine;
use http::{header, Method, Request, Response, StatusCode};
use mana_sync_core::crypto::MasterKey;
use mana_sync_core::{Clock, Timestamp};
use percent_encoding::percent_decode_str;
use serde_json::{json, Value};

use crate::jwt::user_of;
use crate::log::{rfc3339_nano, to_micros, Row};
use crate::push_body::{self, IncomingChange};
use crate::ManualClock;

/// The server's request body limit (10 MiB).
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;
/// Changes per pull page.
pub const PULL_PAGE: usize = 1000;
/// Most changes in a push response.
pub const PUSH_RESPONSE_CAP: usize = 5000;

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

#[derive(Default)]
struct State {
    vaults: HashMap<String, Vault>,
    /// Per user, the log in created_at order.
    logs: BTreeMap<String, Vec<Row>>,
    inactive: HashSet<String>,
    fail_push_after: Option<usize>,
    last_created: Option<Timestamp>,
    next_event: u64,
    received: Vec<Received>,
}

/// A protocol-faithful mana-sync server in memory (PROTOCOL.md): one change
/// log per user (the token's `sub`, decoded, not verified), the server's
/// exact 400 texts, pull pages of 1000 with the `hasMore`/cursor rules, the
/// caller's own changes left out, the 5000 cap on push responses, the 10 MiB
/// body limit, strictly increasing change times from an injectable clock, a
/// 402 switch per user and a switch that fails a push part-way.
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
}

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

fn text(status: StatusCode, body: &str) -> Response<Vec<u8>> {
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
        .body(format!("{body}\n").into_bytes())
        .unwrap_or_default()
}

fn query_param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        let k = percent_decode_str(&k.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned();
        (k == name).then(|| {
            percent_decode_str(&v.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        })
    })
}

/// The server reads an unparseable `since` as the epoch.
fn since_of(text: Option<&str>) -> Timestamp {
    text.and_then(|s| Timestamp::parse(s).ok())
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

impl MemoryServer {
    /// A server whose clock is a [`ManualClock`] at 2026-01-01T00:00:00Z.
    pub fn new() -> MemoryServer {
        MemoryServer::with_clock(ManualClock::default())
    }

    /// A server reading time from `clock`.
    pub fn with_clock(clock: impl Clock) -> MemoryServer {
        MemoryServer {
            state: Mutex::new(State::default()),
            clock: Arc::new(clock),
            prefix: String::new(),
        }
    }

    /// Mounts the server under a path prefix such as `/api/v1`.
    pub fn with_prefix(mut self, prefix: &str) -> MemoryServer {
        self.prefix = prefix.trim_end_matches('/').to_owned();
        self
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Turns a user's sync subscription on or off (off: 402 on push and pull).
    pub fn set_sync_active(&self, user: &str, active: bool) {
        let mut s = self.state();
        if active {
            s.inactive.remove(user);
        } else {
            s.inactive.insert(user.to_owned());
        }
    }

    /// After `n` more changes are stored (across pushes), the push that would
    /// store the next one fails there with 500 `failed to record change:
    /// injected failure`, keeping what it stored before (once).
    pub fn fail_next_push_after(&self, n: usize) {
        self.state().fail_push_after = Some(n);
    }

    /// Sets what the vault holds for `user`.
    pub fn set_vault(&self, user: &str, vault: Vault) {
        self.state().vaults.insert(user.to_owned(), vault);
    }

    /// Every request received so far.
    pub fn received(&self) -> Vec<Received> {
        self.state().received.clone()
    }

    /// A user's stored changes of one app, oldest first, as the server
    /// returns them.
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

    /// Stores `changes` (push-body JSON objects) for `user` as if `client_id`
    /// had pushed them, without a request. Panics on a malformed change:
    /// this is for setting up tests.
    pub fn seed(&self, user: &str, app_id: &str, client_id: &str, changes: &[Value]) {
        let body = json!({ "clientId": client_id, "changes": changes }).to_string();
        let parsed = push_body::parse(body.as_bytes()).unwrap_or_else(|e| panic!("seed: {e}"));
        let mut s = self.state();
        for change in parsed.changes {
            self.store(&mut s, user, app_id, client_id, change);
        }
    }

    /// Answers one request, as the real server would.
    pub fn handle(&self, request: Request<Vec<u8>>) -> Response<Vec<u8>> {
        let uri = request.uri().clone();
        let client_id = request
            .headers()
            .get("x-client-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        self.state().received.push(Received {
            method: request.method().clone(),
            uri: uri
                .path_and_query()
                .map_or_else(|| uri.path().to_owned(), |p| p.as_str().to_owned()),
            client_id: client_id.clone(),
            body_len: request.body().len(),
        });
        let Some(path) = uri.path().strip_prefix(self.prefix.as_str()) else {
            return text(StatusCode::NOT_FOUND, "404 page not found");
        };
        let segments: Vec<String> = path
            .split('/')
            .skip(1)
            .map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned())
            .collect();
        let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
        let method = request.method().clone();
        match segs.as_slice() {
            ["health"] => match method {
                Method::GET => self.health(),
                _ => text(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed"),
            },
            ["sync", app] if !app.is_empty() => match method {
                Method::POST => self.authed(&request, |user| {
                    self.push(user, app, client_id, request.body())
                }),
                _ => text(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed"),
            },
            ["sync", app, "pull"] if !app.is_empty() => match method {
                Method::GET => self.authed(&request, |user| {
                    self.pull(user, app, client_id, uri.query().unwrap_or(""))
                }),
                _ => text(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed"),
            },
            ["api", "v1", "me", "encryption-vault", "key"] => match method {
                Method::GET => self.vault_key(&request),
                _ => text(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed"),
            },
            _ => text(StatusCode::NOT_FOUND, "404 page not found"),
        }
    }

    /// The auth service's vault: the same tokens, no subscription check.
    fn vault_key(&self, request: &Request<Vec<u8>>) -> Response<Vec<u8>> {
        let header = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let user = match user_of(header) {
            Ok(user) => user,
            Err(why) => return json_response(StatusCode::UNAUTHORIZED, &json!({"error": why})),
        };
        let vault = self.state().vaults.get(&user).cloned().unwrap_or_default();
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

    fn authed(
        &self,
        request: &Request<Vec<u8>>,
        then: impl FnOnce(&str) -> Response<Vec<u8>>,
    ) -> Response<Vec<u8>> {
        let header = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let user = match user_of(header) {
            Ok(user) => user,
            Err(why) => return text(StatusCode::UNAUTHORIZED, &why),
        };
        if self.state().inactive.contains(&user) {
            return json_response(
                StatusCode::PAYMENT_REQUIRED,
                &json!({"error": "sync_inactive",
                        "message": "Cloud Sync ist nicht aktiv. Aktiviere Sync in den Einstellungen."}),
            );
        }
        then(&user)
    }

    /// The server's clock: never behind a row it stored.
    fn server_now(&self, s: &State) -> Timestamp {
        let now = self.clock.now();
        match s.last_created {
            Some(last) if last > now => last,
            _ => now,
        }
    }

    fn health(&self) -> Response<Vec<u8>> {
        let s = self.state();
        let now = self.server_now(&s);
        let seconds =
            Timestamp::from_unix_millis(now.unix_millis() - now.unix_millis().rem_euclid(1000))
                .unwrap_or(now);
        json_response(
            StatusCode::OK,
            &json!({"connections": 0, "service": "mana-sync", "status": "ok",
                    "timestamp": rfc3339_nano(seconds), "users": s.logs.len()}),
        )
    }

    fn store(&self, s: &mut State, user: &str, app_id: &str, client_id: &str, c: IncomingChange) {
        let now = to_micros(self.clock.now());
        let created_at = match s.last_created {
            Some(last) if last >= now => last
                .checked_add(std::time::Duration::from_micros(1))
                .unwrap_or(last),
            _ => now,
        };
        s.last_created = Some(created_at);
        s.next_event += 1;
        let event_id = format!("00000000-0000-4000-8000-{:012x}", s.next_event);
        let fields = c.fields.map(|fs| {
            fs.into_iter()
                .map(|(name, value, at)| (name, json!({"value": value, "at": at})))
                .collect::<serde_json::Map<_, _>>()
        });
        let space_id = c
            .space_id
            .clone()
            .or_else(|| {
                c.data
                    .as_ref()
                    .and_then(|d| d.get("spaceId"))
                    .and_then(|v| v.as_str())
                    .map(str::to_owned)
            })
            .or_else(|| {
                fields
                    .as_ref()
                    .and_then(|f| f.get("spaceId"))
                    .and_then(|f| f.get("value"))
                    .and_then(|v| v.as_str())
                    .map(str::to_owned)
            });
        let row = Row {
            event_id,
            schema_version: if c.schema_version == 0 {
                1
            } else {
                c.schema_version
            },
            app_id: app_id.to_owned(),
            client_id: client_id.to_owned(),
            table: c.table,
            id: c.id,
            data: if c.op == "delete" { None } else { c.data },
            fields,
            deleted_at: c.deleted_at,
            space_id,
            actor: c.actor,
            origin: c.origin,
            op: c.op,
            created_at,
        };
        s.logs.entry(user.to_owned()).or_default().push(row);
    }

    fn push(
        &self,
        user: &str,
        app_id: &str,
        header_client: Option<String>,
        body: &[u8],
    ) -> Response<Vec<u8>> {
        if body.len() > MAX_BODY_BYTES {
            return text(
                StatusCode::BAD_REQUEST,
                "invalid JSON: http: request body too large",
            );
        }
        let set = match push_body::parse(body) {
            Ok(set) => set,
            Err(why) => return text(StatusCode::BAD_REQUEST, &why),
        };
        if set.schema_version > 1 {
            return text(
                StatusCode::BAD_REQUEST,
                &format!("unsupported schemaVersion {} (max 1)", set.schema_version),
            );
        }
        for (i, c) in set.changes.iter().enumerate() {
            if !matches!(c.op.as_str(), "insert" | "update" | "delete") {
                return text(
                    StatusCode::BAD_REQUEST,
                    &format!("invalid op {:?} in change {i}", c.op),
                );
            }
            if c.table.is_empty() || c.id.is_empty() {
                return text(
                    StatusCode::BAD_REQUEST,
                    &format!("missing table or id in change {i}"),
                );
            }
        }
        let client_id = header_client
            .filter(|c| !c.is_empty())
            .unwrap_or(set.client_id);
        let since = since_of(set.since.as_deref());
        let mut s = self.state();
        for change in set.changes {
            match s.fail_push_after {
                Some(0) => {
                    s.fail_push_after = None;
                    return text(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "failed to record change: injected failure",
                    );
                }
                Some(n) => s.fail_push_after = Some(n - 1),
                None => {}
            }
            self.store(&mut s, user, app_id, &client_id, change);
        }
        let server_changes: Vec<Value> = s
            .logs
            .get(user)
            .into_iter()
            .flatten()
            .filter(|r| r.app_id == app_id && r.client_id != client_id && r.created_at > since)
            .take(PUSH_RESPONSE_CAP)
            .map(Row::to_json)
            .collect();
        let now = self.server_now(&s);
        json_response(
            StatusCode::OK,
            &json!({"serverChanges": server_changes, "conflicts": [], "syncedUntil": rfc3339_nano(now)}),
        )
    }

    fn pull(
        &self,
        user: &str,
        app_id: &str,
        client_id: Option<String>,
        query: &str,
    ) -> Response<Vec<u8>> {
        let (Some(collection), Some(since)) = (
            query_param(query, "collection"),
            query_param(query, "since"),
        ) else {
            return text(
                StatusCode::BAD_REQUEST,
                "missing collection or since parameter",
            );
        };
        if collection.is_empty() || since.is_empty() {
            return text(
                StatusCode::BAD_REQUEST,
                "missing collection or since parameter",
            );
        }
        let since = since_of(Some(&since));
        let client_id = client_id.unwrap_or_default();
        let s = self.state();
        let rows: Vec<&Row> = s
            .logs
            .get(user)
            .into_iter()
            .flatten()
            .filter(|r| {
                r.app_id == app_id
                    && r.table == collection
                    && r.client_id != client_id
                    && r.created_at > since
            })
            .take(PULL_PAGE + 1)
            .collect();
        let has_more = rows.len() > PULL_PAGE;
        let page = &rows[..rows.len().min(PULL_PAGE)];
        let mut body = json!({
            "serverChanges": page.iter().map(|r| r.to_json()).collect::<Vec<_>>(),
            "conflicts": [],
        });
        let synced_until = match page.last() {
            Some(last) if has_more => rfc3339_nano(last.created_at),
            _ => rfc3339_nano(self.server_now(&s)),
        };
        body["syncedUntil"] = synced_until.into();
        if has_more {
            body["hasMore"] = true.into();
        }
        json_response(StatusCode::OK, &body)
    }
}

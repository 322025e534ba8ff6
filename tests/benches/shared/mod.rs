//! A loopback server holding a collection of N changes, and the same pull
//! made through a bare HTTP request loop.

#![allow(dead_code)] // each bench uses part of it

use mana_sync_testkit::{token_for, LoopbackServer, MemoryServer};
use serde_json::json;

/// The user, app, collection and client ids of the benches.
pub const USER: &str = "u-1";
pub const APP: &str = "todo";
pub const COLLECTION: &str = "tasks_bulk";
pub const CLIENT: &str = "bench-reader";

/// The bearer token the loopback server accepts for [`USER`].
pub fn token() -> String {
    token_for(USER)
}

/// A loopback server holding `n` changes of [`COLLECTION`] pushed by another
/// client: inserts of small rows, as in the captured pages, with every 4th
/// an update of two fields.
pub fn server_with(n: usize) -> LoopbackServer {
    let memory = MemoryServer::new();
    let batch = 10_000;
    let mut i = 0;
    while i < n {
        let end = (i + batch).min(n);
        let changes: Vec<_> = (i..end)
            .map(|k| {
                if k % 4 == 3 {
                    json!({"table": COLLECTION, "id": format!("r-{:07}", k - 1), "op": "update",
                        "fields": {"title": {"value": format!("row {k} edited"), "at": "2026-11-24T10:00:00.000Z"},
                                   "done": {"value": true, "at": "2026-11-24T10:00:00.000Z"}}})
                } else {
                    json!({"table": COLLECTION, "id": format!("r-{k:07}"), "op": "insert",
                        "data": {"n": k, "title": format!("row {k}"), "done": false}})
                }
            })
            .collect();
        memory.seed(USER, APP, "bench-writer", &changes);
        i = end;
    }
    LoopbackServer::start(memory).unwrap_or_else(|e| panic!("loopback server: {e}"))
}

/// The cursor and `hasMore` of a page, found by searching its bytes (the
/// server writes them after `serverChanges`), without decoding the page.
fn tail(body: &[u8]) -> Option<(String, bool)> {
    let key = b"\"syncedUntil\":\"";
    let at = body.windows(key.len()).rposition(|w| w == key)? + key.len();
    let end = at + body.get(at..)?.iter().position(|b| *b == b'"')?;
    let cursor = String::from_utf8(body.get(at..end)?.to_vec()).ok()?;
    let more = body
        .get(end..)?
        .windows(14)
        .any(|w| w == b"\"hasMore\":true");
    Some((cursor, more))
}

/// The pull of the whole collection through plain ureq requests: the same
/// requests and the same bytes as the library's, read and not decoded (the
/// cursor is found by a byte search). Returns (pages, bytes).
pub fn bare_pull_all(base_url: &str, token: &str, decode: bool) -> (usize, usize) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let auth = format!("Bearer {token}");
    let mut since = "1970-01-01T00:00:00.000Z".to_owned();
    let (mut pages, mut bytes) = (0, 0);
    loop {
        let url = format!("{base_url}/sync/{APP}/pull?collection={COLLECTION}&since={since}");
        let mut response = agent
            .get(&url)
            .header("authorization", &auth)
            .header("x-client-id", CLIENT)
            .call()
            .unwrap_or_else(|e| panic!("{e}"));
        let body = response
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_vec()
            .unwrap_or_else(|e| panic!("{e}"));
        if decode {
            std::hint::black_box(serde_json::from_slice::<serde_json::Value>(&body).ok());
        }
        pages += 1;
        bytes += body.len();
        let Some((cursor, more)) = tail(&body) else {
            panic!("no syncedUntil in the page")
        };
        if !more {
            return (pages, bytes);
        }
        since = cursor;
    }
}

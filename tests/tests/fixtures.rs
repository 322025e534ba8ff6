//! The captured exchanges with the real server (`testdata/fixtures`, or the
//! folder named by `MANA_FIXTURES_DIR`, relative to the workspace root),
//! replayed against the in-memory server in their order: the status, the
//! content type and the body must come back byte for byte. The clock is set
//! to the instant each capture's `syncedUntil` names, so only the event ids
//! (random UUIDs upstream) and the paging cursors (row times) differ.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use http::Request;
use mana_sync_core::Timestamp;
use mana_sync_testkit::{token_for, token_with_claims, ManualClock, MemoryServer};
use serde_json::{json, Value};

const USER: &str = "fixture-user";

/// Captures this replay cannot make: they need signatures checked (the
/// in-memory server decodes tokens without verifying them) or the stream.
const NOT_REPLAYED: [&str; 3] = [
    "14-pull-bad-signature",
    "16-pull-unknown-kid",
    "24-stream-initial-live-heartbeat",
];

fn fixtures_dir() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    match std::env::var_os("MANA_FIXTURES_DIR") {
        Some(dir) => root.join(dir),
        None => root.join("testdata/fixtures"),
    }
}

fn names() -> BTreeSet<String> {
    std::fs::read_dir(fixtures_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter_map(|n| n.strip_suffix(".json").map(str::to_owned))
        .collect()
}

fn load(name: &str) -> Value {
    let path = fixtures_dir().join(format!("{name}.json"));
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

fn ts(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

/// The captured request, with `token` for `<token>` and `body` for a
/// placeholder body.
fn request_of(fx: &Value, token: &str, body: Option<Vec<u8>>) -> Request<Vec<u8>> {
    let r = &fx["request"];
    let query = r["query"].as_str().unwrap();
    let uri = if query.is_empty() {
        r["path"].as_str().unwrap().to_owned()
    } else {
        format!("{}?{query}", r["path"].as_str().unwrap())
    };
    let mut b = Request::builder()
        .method(r["method"].as_str().unwrap())
        .uri(uri);
    for (name, value) in r["headers"].as_object().unwrap() {
        b = b.header(name, value.as_str().unwrap().replace("<token>", token));
    }
    let body = body.unwrap_or_else(|| match &r["body"] {
        Value::Null => Vec::new(),
        Value::String(s) => s.as_bytes().to_vec(),
        other => other.to_string().into_bytes(),
    });
    b.body(body).unwrap()
}

/// `"key":"…"` values replaced by `*`.
fn blank(body: &str, key: &str) -> String {
    let needle = format!("\"{key}\":\"");
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(at) = rest.find(&needle) {
        let start = at + needle.len();
        out.push_str(&rest[..start]);
        out.push('*');
        let end = rest[start..].find('"').unwrap();
        rest = &rest[start + end..];
    }
    out.push_str(rest);
    out
}

/// Replays `name` and compares; `blank_keys` are compared as `*`.
fn replay(
    server: &MemoryServer,
    name: &str,
    token: &str,
    body: Option<Vec<u8>>,
    blank_keys: &[&str],
) -> Value {
    let fx = load(name);
    let response = server.handle(request_of(&fx, token, body));
    let want = &fx["response"];
    let got_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(
        response.status().as_u16(),
        want["status"].as_u64().unwrap() as u16,
        "{name}"
    );
    assert_eq!(got_type.as_deref(), want["content_type"].as_str(), "{name}");
    let mut got = String::from_utf8(response.body().clone()).unwrap();
    let mut expected = want["body"].as_str().unwrap().to_owned();
    for key in ["eventId"].iter().chain(blank_keys) {
        got = blank(&got, key);
        expected = blank(&expected, key);
    }
    assert_eq!(got, expected, "{name}");
    serde_json::from_str(&String::from_utf8(response.body().clone()).unwrap())
        .unwrap_or(Value::Null)
}

/// The `syncedUntil` a capture's response holds.
fn synced_until(name: &str) -> Timestamp {
    let fx = load(name);
    let body: Value = serde_json::from_str(fx["response"]["body"].as_str().unwrap()).unwrap();
    ts(body["syncedUntil"].as_str().unwrap())
}

#[test]
fn every_capture_is_replayed_or_named() {
    let replayed: BTreeSet<String> = names()
        .into_iter()
        .filter(|n| !NOT_REPLAYED.contains(&n.as_str()))
        .collect();
    let expected: BTreeSet<String> = (1..=23)
        .filter(|i| ![14, 16].contains(i))
        .map(|i| format!("{i:02}"))
        .collect();
    let prefixes: BTreeSet<String> = replayed.iter().map(|n| n[..2].to_owned()).collect();
    assert_eq!(prefixes, expected, "a capture was added: replay it here");
}

/// 01-19: health, the three pushes and three pulls of the small log, and
/// every refusal.
#[test]
fn small_log_and_refusals() {
    let clock = ManualClock::new(ts("2026-11-24T22:21:43.210Z"));
    let server = MemoryServer::with_clock(clock.clone());
    let token = token_for(USER);
    let name = |prefix: &str| names().into_iter().find(|n| n.starts_with(prefix)).unwrap();

    replay(&server, &name("01-"), &token, None, &[]);
    // The three deletes of 04 are stored a microsecond apart from one
    // frozen instant, so that answer's clock is the last row's time.
    let none: &[&str] = &[];
    for (prefix, blank) in [
        ("02-", none),
        ("03-", none),
        ("04-", &["syncedUntil"]),
        ("05-", none),
        ("06-", none),
        ("07-", none),
    ] {
        let n = name(prefix);
        clock.set(synced_until(&n));
        replay(&server, &n, &token, None, blank);
    }
    for prefix in ["08-", "09-", "10-", "11-", "13-", "18-"] {
        replay(&server, &name(prefix), &token, None, &[]);
    }
    let truncated = format!("{:<37}", r#"{"clientId": "client-a", "changes": ["#);
    replay(
        &server,
        &name("12-"),
        &token,
        Some(truncated.into_bytes()),
        &[],
    );
    let expired = token_with_claims(&json!({"sub": USER, "exp": 1_764_000_000}));
    replay(&server, &name("15-"), &expired, None, &[]);
    server.set_sync_active(USER, false);
    replay(&server, &name("17-"), &token, None, &[]);
    server.set_sync_active(USER, true);
    let head = r#"{"clientId":"client-a","changes":[{"table":"tasks","id":"big","op":"insert","data":{"blob":""#;
    let tail = r#""}}]}"#;
    let big = format!(
        "{head}{}{tail}",
        "x".repeat(11_534_462 - head.len() - tail.len())
    );
    replay(&server, &name("19-"), &token, Some(big.into_bytes()), &[]);
    assert_eq!(
        server.stored_count(USER),
        5,
        "the refused pushes stored nothing"
    );
}

/// 20-23: 2,500 changes in three pages, then a push answer capped at 5000.
#[test]
fn pages_and_the_push_cap() {
    let clock = ManualClock::new(ts("2026-11-24T22:21:44Z"));
    let server = MemoryServer::with_clock(clock.clone());
    let token = token_for(USER);
    let name = |prefix: &str| names().into_iter().find(|n| n.starts_with(prefix)).unwrap();
    let bulk = |i: usize| json!({"table": "tasks_bulk", "id": format!("r-{i:04}"), "op": "insert", "data": {"n": i, "title": format!("row {i}")}});
    // Rows up to r-1482 before the push's `since` (22:21:44.996), the rest
    // after it, then the capped table.
    server.seed(
        USER,
        "todo",
        "seeder",
        &(0..1483).map(bulk).collect::<Vec<_>>(),
    );
    clock.set(ts("2026-11-24T22:21:45Z"));
    server.seed(
        USER,
        "todo",
        "seeder",
        &(1483..2500).map(bulk).collect::<Vec<_>>(),
    );
    let cap: Vec<Value> = (0..5200)
        .map(|i| json!({"table": "tasks_bulk_cap", "id": format!("c-{i:05}"), "op": "insert", "data": {"n": i}}))
        .collect();
    server.seed(USER, "todo", "seeder", &cap);

    let first = replay(&server, &name("20-"), &token, None, &["syncedUntil"]);
    let cursor = first["syncedUntil"].as_str().unwrap().to_owned();
    assert_eq!(cursor, "2026-11-24T22:21:44.000999Z");
    let page = |since: &str, n: &str, blank: &[&str]| {
        let fx = load(n);
        let mut fx_req = request_of(&fx, &token, None);
        let path = format!("/sync/todo/pull?collection=tasks_bulk&since={since}");
        *fx_req.uri_mut() = path.parse().unwrap();
        let response = server.handle(fx_req);
        let want = blank_all(fx["response"]["body"].as_str().unwrap(), blank);
        let got = blank_all(std::str::from_utf8(response.body()).unwrap(), blank);
        assert_eq!(got, want, "{n}");
        serde_json::from_slice::<Value>(response.body()).unwrap()
    };
    let second = page(&cursor, &name("21-"), &["eventId", "syncedUntil"]);
    let cursor = second["syncedUntil"].as_str().unwrap().to_owned();
    assert_eq!(cursor, "2026-11-24T22:21:45.000516Z");
    clock.set(synced_until(&name("22-")));
    page(&cursor, &name("22-"), &["eventId"]);

    clock.set(synced_until(&name("23-")));
    replay(&server, &name("23-"), &token, None, &[]);
}

fn blank_all(body: &str, keys: &[&str]) -> String {
    keys.iter().fold(body.to_owned(), |b, k| blank(&b, k))
}

//! The captured exchanges with the real server (`testdata/fixtures`, or the
//! folder named by `MANA_FIXTURES_DIR`, relative to the workspace root),
//! replayed against the in-memory server in their (file name) order.
//!
//! Nothing here knows the shared set: every table name, client id, count,
//! time and body size comes from the captures themselves. Each capture is
//! planned from its own content:
//!
//! * **exact**: health, every refusal, and every push or pull whose answer
//!   holds only changes that earlier replayed captures pushed. The clock is
//!   set to the instant the answer names (`syncedUntil`, health's
//!   `timestamp`); the token is derived from the answer (none when the
//!   capture sent none, an expired one when the answer says so); a 402 turns
//!   the user's sync off for that request; a placeholder body (`<N bytes>`)
//!   is rebuilt at N bytes, over the limit or cut short as the answer says.
//!   Status, content type and body must come back byte for byte, with event
//!   ids (random upstream) blanked.
//! * **paging chain**: pulls of one collection whose changes come from a
//!   writer the captures do not show, each starting from the previous one's
//!   `syncedUntil`: those changes (read from the answers) are seeded first;
//!   each page is then asked from this server's own previous cursor, and must
//!   come back byte for byte but for event ids and cursors (row times).
//! * **streams** (`every_stream_capture_is_replayed`): the changes of the
//!   captured events are stored by another client, the first event of each
//!   collection before the stream opens (the initial batches), the later
//!   ones while it is open (live events), and what an initial `hasMore`
//!   says was waiting; each event must come back byte for byte but for
//!   `syncedUntil` (row times), heartbeats included. A capture of another
//!   shape, written to a folder of its own, is replayed the same way.
//! * **skipped, by name, with the reason**: streams (above), refusals that need a
//!   signature checked (the in-memory server decodes tokens, it does not
//!   verify them), and answers holding changes from an unseen writer at
//!   times the captures do not give.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use http::Request;
use mana_sync_core::limits::MAX_REQUEST_BODY_BYTES;
use mana_sync_core::Timestamp;
use mana_sync_testkit::{token_for, token_with_claims, ManualClock, MemoryServer};
use serde_json::{json, Value};

const USER: &str = "fixture-user";
/// The client id that seeds changes the captures show but did not push.
const SEEDER: &str = "fixture-seeder";

fn fixtures_dir() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    match std::env::var_os("MANA_FIXTURES_DIR") {
        Some(dir) => root.join(dir),
        None => root.join("testdata/fixtures"),
    }
}

struct Capture {
    name: String,
    fx: Value,
}

impl Capture {
    fn request(&self) -> &Value {
        &self.fx["request"]
    }
    fn response(&self) -> &Value {
        &self.fx["response"]
    }
    fn status(&self) -> u16 {
        self.response()["status"].as_u64().unwrap() as u16
    }
    fn body_text(&self) -> &str {
        self.response()["body"].as_str().unwrap_or_default()
    }
    fn body_json(&self) -> Value {
        serde_json::from_str(self.body_text()).unwrap_or(Value::Null)
    }
    fn path(&self) -> &str {
        self.request()["path"].as_str().unwrap_or_default()
    }
    fn query(&self, key: &str) -> Option<String> {
        let query = self.request()["query"].as_str().unwrap_or_default();
        query.split('&').find_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            (k == key).then(|| v.to_owned())
        })
    }
    fn is_pull(&self) -> bool {
        self.path().ends_with("/pull") && self.request()["method"] == "GET"
    }
    fn is_push(&self) -> bool {
        self.request()["method"] == "POST"
            && self.path().starts_with("/sync/")
            && !self.path().ends_with("/pull")
    }
    fn changes(&self) -> Vec<Value> {
        self.body_json()["serverChanges"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
    fn pushed(&self) -> Vec<Value> {
        self.request()["body"]["changes"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

fn captures() -> Vec<Capture> {
    captures_in(&fixtures_dir())
}

/// The captures of `dir`, in file name order.
fn captures_in(dir: &Path) -> Vec<Capture> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    assert!(!names.is_empty(), "no *.json captures in {}", dir.display());
    names
        .into_iter()
        .map(|name| {
            let fx = serde_json::from_slice(&std::fs::read(dir.join(&name)).unwrap()).unwrap();
            Capture { name, fx }
        })
        .collect()
}

/// What identifies a change across a push and its echo.
fn key_of(change: &Value) -> (String, String, String) {
    let s = |k: &str| change[k].as_str().unwrap_or_default().to_owned();
    (s("table"), s("id"), s("op"))
}

/// A change as the server answered it, as a push body would carry it.
fn as_pushed(change: &Value) -> Value {
    let mut c = change.clone();
    if let Some(o) = c.as_object_mut() {
        o.remove("eventId");
        o.remove("schemaVersion");
    }
    c
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

fn blank_all(body: &str, keys: &[&str]) -> String {
    keys.iter().fold(body.to_owned(), |b, k| blank(&b, k))
}

/// A body of exactly `len` bytes standing for a placeholder: a well-formed
/// push over the server's limit, or JSON cut short.
fn placeholder_body(len: usize, answer: &str) -> Vec<u8> {
    if len > MAX_REQUEST_BODY_BYTES || answer.contains("too large") {
        let head =
            r#"{"clientId":"c","changes":[{"table":"t","id":"big","op":"insert","data":{"blob":""#;
        let tail = r#""}}]}"#;
        let pad = len.saturating_sub(head.len() + tail.len());
        return format!("{head}{}{tail}", "x".repeat(pad)).into_bytes();
    }
    let head = r#"{"clientId": "c", "changes": ["#;
    let mut body = head.as_bytes()[..head.len().min(len)].to_vec();
    body.resize(len, b' ');
    body
}

fn request_of(c: &Capture, token: Option<&str>, since: Option<&str>) -> Request<Vec<u8>> {
    let r = c.request();
    let mut query = r["query"].as_str().unwrap_or_default().to_owned();
    if let (Some(since), Some(old)) = (since, c.query("since")) {
        query = query.replace(&format!("since={old}"), &format!("since={since}"));
    }
    let uri = if query.is_empty() {
        c.path().to_owned()
    } else {
        format!("{}?{query}", c.path())
    };
    let mut b = Request::builder()
        .method(r["method"].as_str().unwrap())
        .uri(uri);
    for (name, value) in r["headers"].as_object().unwrap() {
        let value = value.as_str().unwrap();
        if value.contains("<token>") {
            match token {
                Some(t) => b = b.header(name, value.replace("<token>", t)),
                None => continue,
            }
        } else {
            b = b.header(name, value);
        }
    }
    let body = match &r["body"] {
        Value::Null => Vec::new(),
        Value::String(s) => match s
            .strip_prefix('<')
            .and_then(|s| s.strip_suffix(" bytes>"))
            .and_then(|n| n.parse::<usize>().ok())
        {
            Some(len) => placeholder_body(len, c.body_text()),
            None => s.as_bytes().to_vec(),
        },
        other => other.to_string().into_bytes(),
    };
    b.body(body).unwrap()
}

fn ts(s: &str) -> Option<Timestamp> {
    Timestamp::parse(s).ok()
}

/// Why a capture is not replayed, if it is not.
fn skip_reason(c: &Capture, known: &BTreeSet<(String, String, String)>) -> Option<String> {
    if is_stream(c) {
        return Some("a stream: replayed as a stream by `every_stream_capture_is_replayed`".into());
    }
    let text = c.body_text();
    if c.status() == 401
        && ["signature", "key ID", "keyfunc", "unverifiable"]
            .iter()
            .any(|w| text.contains(w))
    {
        return Some("needs a signature checked; the in-memory server only decodes tokens".into());
    }
    let foreign = c
        .changes()
        .iter()
        .filter(|ch| !known.contains(&key_of(ch)))
        .count();
    if foreign > 0 && !c.is_pull() {
        return Some(format!(
            "its answer holds {foreign} changes of a writer the captures do not show, at times they do not give"
        ));
    }
    None
}

/// Replays one capture exactly; returns this server's answer.
fn replay_exact(server: &MemoryServer, clock: &ManualClock, c: &Capture) -> Value {
    let answer = c.body_json();
    if let Some(t) = answer["syncedUntil"]
        .as_str()
        .or(answer["timestamp"].as_str())
        .and_then(ts)
    {
        clock.set(t);
    }
    let has_auth = c.request()["headers"].as_object().is_some_and(|h| {
        h.values()
            .any(|v| v.as_str().is_some_and(|v| v.contains("<token>")))
    });
    let token = if c.body_text().contains("expired") {
        token_with_claims(&json!({"sub": USER, "exp": 1}))
    } else {
        token_for(USER)
    };
    let inactive = c.status() == 402;
    if inactive {
        server.set_sync_active(USER, false);
    }
    let response = server.handle(request_of(c, has_auth.then_some(token.as_str()), None));
    if inactive {
        server.set_sync_active(USER, true);
    }
    let name = &c.name;
    assert_eq!(response.status().as_u16(), c.status(), "{name}");
    let got_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(
        got_type.as_deref(),
        c.response()["content_type"].as_str(),
        "{name}"
    );
    let got = String::from_utf8(response.body().clone()).unwrap();
    let got_json: Value = serde_json::from_str(&got).unwrap_or(Value::Null);
    let mut blanks = vec!["eventId"];
    // A server stamps every row of one push from one frozen instant, a
    // microsecond apart, and may answer with the last row's time rather
    // than the instant its answer was made: a cursor within a millisecond
    // of the captured one is the same answer.
    if let (Some(want), Some(have)) = (
        answer["syncedUntil"].as_str().and_then(ts),
        got_json["syncedUntil"].as_str().and_then(ts),
    ) {
        let apart = want
            .saturating_duration_since(have)
            .max(have.saturating_duration_since(want));
        assert!(
            apart < Duration::from_millis(1),
            "{name}: {have:?} vs {want:?}"
        );
        blanks.push("syncedUntil");
    }
    assert_eq!(
        blank_all(&got, &blanks),
        blank_all(c.body_text(), &blanks),
        "{name}"
    );
    got_json
}

#[test]
fn every_capture_is_replayed_or_skipped_by_name() {
    let all = captures();
    let clock = ManualClock::new(Timestamp::UNIX_EPOCH);
    let server = MemoryServer::with_clock(clock.clone());
    // What the replay itself pushed, by (table, id, op).
    let mut known: BTreeSet<(String, String, String)> = BTreeSet::new();
    // A captured cursor, and this server's cursor at the same point.
    let mut cursors: BTreeMap<String, String> = BTreeMap::new();
    let mut replayed = Vec::new();
    let mut skipped = Vec::new();
    // What the server must hold at the end: the changes of the accepted
    // pushes and the seeded ones; a refused push stores nothing.
    let mut stored = 0;
    for c in &all {
        if let Some(why) = skip_reason(c, &known) {
            skipped.push(format!("{}: {why}", c.name));
            continue;
        }
        let foreign: Vec<Value> = c
            .changes()
            .into_iter()
            .filter(|ch| !known.contains(&key_of(ch)))
            .collect();
        if foreign.is_empty() {
            let got = replay_exact(&server, &clock, c);
            if c.status() / 100 == 2 && c.is_push() {
                known.extend(c.pushed().iter().map(key_of));
                stored += c.pushed().len();
            }
            if let (Some(want), Some(have)) = (
                c.body_json()["syncedUntil"].as_str(),
                got["syncedUntil"].as_str(),
            ) {
                cursors.insert(want.to_owned(), have.to_owned());
            }
        } else {
            stored += replay_page(&server, &clock, c, &foreign, &mut cursors, &all);
            known.extend(foreign.iter().map(key_of));
        }
        replayed.push(c.name.clone());
    }
    println!("replayed {} captures: {replayed:?}", replayed.len());
    println!("skipped {}:", skipped.len());
    for s in &skipped {
        println!("  {s}");
    }
    assert!(!replayed.is_empty(), "no capture could be replayed");
    assert_eq!(
        server.stored_count(USER),
        stored,
        "refused pushes store nothing"
    );
}

/// A pull page whose changes come from an unseen writer: the changes of the
/// whole chain of pages it starts are seeded (once) after its `since`, then
/// the page is asked from this server's own cursor.
fn replay_page(
    server: &MemoryServer,
    clock: &ManualClock,
    c: &Capture,
    foreign: &[Value],
    cursors: &mut BTreeMap<String, String>,
    all: &[Capture],
) -> usize {
    let mut seeded = 0;
    let name = &c.name;
    let captured_since = c.query("since").unwrap_or_default();
    let since = match cursors.get(&captured_since) {
        Some(ours) => ours.clone(),
        None => {
            // The first page of a chain: seed every later page of it too,
            // so that `hasMore` comes out as captured.
            let start = ts(&captured_since).unwrap_or(Timestamp::UNIX_EPOCH);
            let at = start
                .max(clock_now(clock))
                .checked_add(Duration::from_millis(1))
                .unwrap();
            clock.set(at);
            let collection = c.query("collection");
            let mut chain: Vec<Value> = foreign.to_vec();
            let mut next = c.body_json()["syncedUntil"].as_str().map(str::to_owned);
            for later in all
                .iter()
                .filter(|l| l.is_pull() && l.query("collection") == collection)
            {
                if later.query("since") == next && later.name > c.name {
                    chain.extend(later.changes());
                    next = later.body_json()["syncedUntil"].as_str().map(str::to_owned);
                }
            }
            let app = c
                .path()
                .trim_start_matches("/sync/")
                .trim_end_matches("/pull");
            let rows: Vec<Value> = chain.iter().map(as_pushed).collect();
            server.seed(USER, app, SEEDER, &rows);
            seeded = rows.len();
            captured_since.clone()
        }
    };
    let response = server.handle(request_of(c, Some(&token_for(USER)), Some(&since)));
    assert_eq!(response.status().as_u16(), c.status(), "{name}");
    let got = std::str::from_utf8(response.body()).unwrap();
    let keys = ["eventId", "syncedUntil"];
    assert_eq!(
        blank_all(got, &keys),
        blank_all(c.body_text(), &keys),
        "{name}"
    );
    let got: Value = serde_json::from_str(got).unwrap();
    if let (Some(want), Some(have)) = (
        c.body_json()["syncedUntil"].as_str(),
        got["syncedUntil"].as_str(),
    ) {
        cursors.insert(want.to_owned(), have.to_owned());
    }
    seeded
}

fn clock_now(clock: &ManualClock) -> Timestamp {
    clock.now()
}

/// The events of an SSE body.
fn sse_events(body: &[u8]) -> Vec<mana_sync_core::sse::SseEvent> {
    let mut decoder = mana_sync_core::sse::SseDecoder::new();
    decoder.feed(body);
    let mut events = Vec::new();
    while let Some(e) = decoder.next_event() {
        events.push(e.unwrap());
    }
    while let Some(e) = decoder.finish() {
        events.push(e.unwrap());
    }
    events
}

fn is_stream(c: &Capture) -> bool {
    c.path().ends_with("/stream") || c.fx["operation"] == "stream"
}

#[test]
fn every_stream_capture_is_replayed() {
    let streams: Vec<Capture> = captures().into_iter().filter(is_stream).collect();
    for c in &streams {
        replay_stream(c);
    }
}

/// The data of a captured event, as JSON.
fn event_data(e: &mana_sync_core::sse::SseEvent) -> Value {
    serde_json::from_str(&e.data).unwrap()
}

/// Replays one stream capture. Everything comes from the capture: the app,
/// `since`, the collections; the changes of its events are stored by
/// another client, the first event of each collection before the stream
/// opens (the initial batches), the later ones while it is open (live
/// events). An initial batch that says `hasMore` had more waiting: the
/// first change of that collection's next event is stored before the
/// stream opens too (the rest of that event when it comes), or, when no
/// event follows, one more change that is never sent.
fn replay_stream(c: &Capture) {
    let name = &c.name;
    let captured = sse_events(c.body_text().as_bytes());
    let app = c
        .path()
        .trim_start_matches("/sync/")
        .trim_end_matches("/stream")
        .to_owned();
    let since = c.query("since").and_then(|s| ts(&s));
    let clock = ManualClock::new(
        since
            .unwrap_or(Timestamp::UNIX_EPOCH)
            .checked_add(Duration::from_secs(1))
            .unwrap(),
    );
    let server = std::sync::Arc::new(MemoryServer::with_clock(clock.clone()));
    // The initial batches: the first event of each collection, up to the
    // first collection seen twice or the first heartbeat.
    let mut tables_seen = BTreeSet::new();
    let initial = captured
        .iter()
        .take_while(|e| {
            e.event == "changes"
                && tables_seen.insert(
                    event_data(e)["table"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                )
        })
        .count();
    let rows_of = |e: &mana_sync_core::sse::SseEvent| -> Vec<Value> {
        let changes = event_data(e)["changes"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        changes.iter().map(as_pushed).collect()
    };
    let seed = |rows: &[Value]| {
        clock.advance(Duration::from_millis(1));
        server.seed(USER, &app, SEEDER, rows);
    };
    for e in &captured[..initial] {
        seed(&rows_of(e));
    }
    // What an initial `hasMore` says was waiting: stored now; `skip[i]`
    // rows of event i are then already stored when it comes.
    let mut skip = vec![0usize; captured.len()];
    for e in captured[..initial]
        .iter()
        .filter(|e| event_data(e)["hasMore"] == true)
    {
        let table = event_data(e)["table"].clone();
        let next = (initial..captured.len()).find(|&i| {
            captured[i].event == "changes" && event_data(&captured[i])["table"] == table
        });
        match next.map(|i| (i, rows_of(&captured[i]))) {
            Some((i, rows)) if !rows.is_empty() => {
                seed(&rows[..1]);
                skip[i] = 1;
            }
            _ => {
                let mut more = rows_of(e).pop().unwrap();
                more["id"] = json!(format!("{}-more", more["id"].as_str().unwrap_or_default()));
                seed(&[more]);
            }
        }
    }
    let mut session = server
        .open_stream(request_of(c, Some(&token_for(USER)), None))
        .unwrap_or_else(|r| panic!("{name}: refused with {}", r.status()));
    for (i, want) in captured.iter().enumerate() {
        let got = if want.event == "heartbeat" {
            assert!(session.next_event().is_none(), "{name}: event {i}");
            session.heartbeat().unwrap()
        } else {
            if i >= initial {
                let rows = rows_of(want);
                if rows.len() > skip[i] {
                    seed(&rows[skip[i]..]);
                }
            }
            session
                .next_event()
                .unwrap_or_else(|| panic!("{name}: event {i} missing"))
        };
        let got = sse_events(&got);
        assert_eq!(got.len(), 1, "{name}: event {i}");
        assert_eq!(got[0].event, want.event, "{name}: event {i}");
        let keys = ["syncedUntil"];
        assert_eq!(
            blank_all(&got[0].data, &keys),
            blank_all(&want.data, &keys),
            "{name}: event {i}"
        );
    }
    println!("{name}: {} events replayed as a stream", captured.len());
}

/// A stream capture of the same format as the shared one but another shape
/// (another app, collection, client and `since`; an initial batch of
/// exactly 1,000 rows with `hasMore`, then a live event and a heartbeat),
/// written to a folder of its own: the replay derives all of it from the
/// capture.
#[test]
fn a_stream_capture_of_another_shape_is_replayed_too() {
    let row = |i: usize| {
        format!(
            r#"{{"table":"notes","id":"n-{i:04}","op":"insert","data":{{"body":"note {i}","order":{i}}}}}"#
        )
    };
    let event = |rows: std::ops::Range<usize>, more: bool| {
        let changes: Vec<String> = rows.map(row).collect();
        format!(
            "event: changes\ndata: {{\"changes\":[{}],\"hasMore\":{more},\"syncedUntil\":\"2025-03-04T05:06:07.123456Z\",\"table\":\"notes\"}}\n\n",
            changes.join(",")
        )
    };
    let body = format!(
        "{}{}event: heartbeat\ndata: {{}}\n\n",
        event(0..1000, true),
        event(1000..1003, false)
    );
    let capture = json!({
        "name": "stream-1000-has-more-live-heartbeat",
        "operation": "stream",
        "request": {"method": "GET", "path": "/sync/journal/stream",
                    "query": "collections=notes&since=2025-03-01T00:00:00Z",
                    "headers": {"authorization": "Bearer <token>", "x-client-id": "phone-7"}, "body": null},
        "response": {"status": 200, "content_type": "text/event-stream", "body": body},
    });
    let dir = std::env::temp_dir().join(format!("mana-stream-capture-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("01-stream.json"),
        serde_json::to_vec_pretty(&capture).unwrap(),
    )
    .unwrap();
    let streams: Vec<Capture> = captures_in(&dir).into_iter().filter(is_stream).collect();
    assert_eq!(streams.len(), 1);
    assert_eq!(sse_events(streams[0].body_text().as_bytes()).len(), 3);
    replay_stream(&streams[0]);
    let _ = std::fs::remove_dir_all(&dir);
}

//! Inputs shared by the benches (also included by the testkit's `compare`
//! bench): the captured pull page, a synthetic page of ~1 KB changes, and
//! the fold benches' log.

#![allow(dead_code)] // each bench uses part of it

use std::path::PathBuf;

use mana_sync_core::{Change, Timestamp};
use serde_json::{json, Value};

/// The folder of the captures: `MANA_FIXTURES_DIR`, else `../shared/fixtures`
/// beside the workspace, else the checked-in `testdata/fixtures`.
pub fn fixtures_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("MANA_FIXTURES_DIR") {
        return PathBuf::from(dir);
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let shared = root.join("../shared/fixtures");
    if shared.join("20-pull-page-1.json").exists() {
        shared
    } else {
        root.join("testdata/fixtures")
    }
}

/// The body of the captured 1000-change pull page.
pub fn captured_page() -> String {
    let path = fixtures_dir().join("20-pull-page-1.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let capture: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
    capture["response"]["body"]
        .as_str()
        .unwrap_or_else(|| panic!("no response body in {}", path.display()))
        .to_owned()
}

/// A deterministic xorshift stream.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn base64(&mut self, chars: usize) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        (0..chars)
            .map(|_| char::from(A[(self.next() % 64) as usize]))
            .collect()
    }
}

fn stamp(i: usize) -> String {
    let ms = i % 1000;
    let s = (i / 1000) % 60;
    let m = (i / 60_000) % 60;
    format!("2026-11-24T10:{m:02}:{s:02}.{ms:03}Z")
}

/// Change `i` of a synthetic log of ~1 KB changes: inserts with nested
/// `data`, updates of 2–4 fields, soft deletes, with `enc:1:` strings.
pub fn synthetic_change(i: usize, rng: &mut Rng) -> Value {
    let id = format!("rec-{:06}", i / 3);
    let at = stamp(i);
    let enc = |rng: &mut Rng, n: usize| format!("enc:1:{}.{}", rng.base64(16), rng.base64(n));
    let common = json!({
        "eventId": format!("{:08x}-{:04x}-4b5b-9db4-{:012x}", rng.next() as u32, i % 65536, rng.next() % (1 << 48)),
        "schemaVersion": 1,
        "table": "tasks",
        "id": id,
        "spaceId": "space-7f3a9c",
        "actor": {"kind": "user", "userId": "u-1"},
        "origin": "user",
    });
    let Value::Object(mut c) = common else {
        unreachable!()
    };
    match i % 10 {
        9 => {
            c.insert("op".into(), json!("delete"));
            c.insert("deletedAt".into(), json!(at));
        }
        0..=3 => {
            c.insert("op".into(), json!("insert"));
            c.insert(
                "data".into(),
                json!({
                    "title": enc(rng, 120),
                    "notes": enc(rng, 240),
                    "isCompleted": i.is_multiple_of(7),
                    "priority": (i % 5) as u64,
                    "dueDate": at,
                    "tags": ["work", "home", format!("t{}", i % 13)],
                    "subtasks": [
                        {"title": "first step", "done": false, "order": 1},
                        {"title": "second step", "done": true, "order": 2.5},
                    ],
                    "meta": {"source": "import", "weight": 0.25, "nested": {"a": [1, 2, 3], "b": null}},
                    "createdAt": at,
                    "updatedAt": at,
                }),
            );
        }
        _ => {
            c.insert("op".into(), json!("update"));
            let mut fields = serde_json::Map::new();
            fields.insert("title".into(), json!({"value": enc(rng, 160), "at": at}));
            fields.insert("notes".into(), json!({"value": enc(rng, 200), "at": at}));
            fields.insert(
                "isCompleted".into(),
                json!({"value": i.is_multiple_of(2), "at": at}),
            );
            if i.is_multiple_of(3) {
                fields.insert(
                    "meta".into(),
                    json!({"value": {"source": "edit", "tags": ["x", "y"], "n": i}, "at": at}),
                );
            }
            c.insert("fields".into(), Value::Object(fields));
        }
    }
    Value::Object(c)
}

/// A pull page of `n` synthetic changes, as the server writes it.
pub fn synthetic_page(n: usize) -> String {
    let mut rng = Rng::new(0x5eed);
    let changes: Vec<Value> = (0..n).map(|i| synthetic_change(i, &mut rng)).collect();
    json!({
        "serverChanges": changes,
        "conflicts": [],
        "syncedUntil": "2026-11-24T22:21:44.564112Z",
        "hasMore": true,
    })
    .to_string()
}

/// The fold bench's log: per record an insert, then updates of 1–2 fields,
/// a soft delete every 97th change and a hard delete every 1009th.
pub fn fold_changes(n: usize) -> Vec<Change> {
    let records = (n / 20).max(1);
    let base = 1_767_225_600_000i64;
    let mut rng = Rng::new(0x9e37_79b9_7f4a_7c15);
    (0..n)
        .map(|i| {
            let at = Timestamp::from_unix_millis(base + i as i64).unwrap_or(Timestamp::UNIX_EPOCH);
            let r = if i < records {
                i
            } else {
                (rng.next() % records as u64) as usize
            };
            let id = format!("rec-{r:07}");
            if i < records {
                let data = json!({"title": format!("task {i}"), "isCompleted": false,
                    "order": i, "updatedAt": at.to_string()});
                return Change::insert("tasks", id, data.as_object().cloned().unwrap_or_default());
            }
            match i % 1009 {
                0 => Change::hard_delete("tasks", id),
                _ if i % 97 == 0 => Change::delete("tasks", id, at),
                _ => {
                    let mut c =
                        Change::update("tasks", id).with_field("title", format!("edit {i}"), at);
                    if rng.next().is_multiple_of(2) {
                        c = c.with_field("isCompleted", true, at);
                    }
                    c
                }
            }
        })
        .collect()
}

/// CPU time of the calling thread so far, from the scheduler (Linux; zero
/// elsewhere).
pub fn thread_cpu() -> std::time::Duration {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    let ns = text
        .split_whitespace()
        .next()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(0);
    std::time::Duration::from_nanos(ns)
}

/// A `/proc/self/status` line's value in KiB (`"VmRSS:"`, `"VmHWM:"`; Linux;
/// zero elsewhere).
pub fn proc_status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// One page through [`Pull`](mana_sync_core::ops::Pull): the request, then
/// `body` as its response, decoded.
pub fn pull_page(
    config: &mana_sync_core::Config,
    body: &[u8],
    now: Timestamp,
) -> mana_sync_core::SyncResponse {
    use mana_sync_core::{ops::Pull, Cursor, Operation, Step};
    let mut op =
        Pull::new(config, "todo", "tasks", &Cursor::EPOCH).unwrap_or_else(|e| panic!("{e}"));
    let Step::Send(_) = op.step(now) else {
        panic!("no request")
    };
    let response = http::Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(body.to_vec())
        .unwrap_or_else(|e| panic!("{e}"));
    op.on_response(now, Ok(response));
    match op.step(now) {
        Step::Done(Ok(page)) => page,
        _ => panic!("the page did not decode"),
    }
}

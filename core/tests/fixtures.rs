//! Every exchange captured from a real mana-sync server (`testdata/fixtures`,
//! or the folder named by `MANA_FIXTURES_DIR`) is read by the core, which must
//! make exactly what the capture's `expect` names of the response (a stream
//! capture: its events, through the SSE decoder).
//!
//! A relative `MANA_FIXTURES_DIR` is taken from the workspace root.

#![allow(clippy::unwrap_used)] // test code: a panic is a failure report

mod shared;

use std::collections::BTreeMap;

use mana_sync_core::ops::{Health, Pull, Push};
use mana_sync_core::{Config, Cursor, Error, Operation, Step, SyncResponse, Timestamp};
use serde_json::Value;

fn now() -> Timestamp {
    Timestamp::parse("2026-11-24T22:21:50Z").unwrap()
}

fn config(client_id: &str) -> Config {
    Config::new("http://localhost:3050", "fixture-token", client_id).unwrap()
}

fn response(fixture: &Value) -> http::Response<Vec<u8>> {
    let r = &fixture["response"];
    let mut b = http::Response::builder().status(r["status"].as_u64().unwrap() as u16);
    if let Some(ct) = r["content_type"].as_str() {
        b = b.header("content-type", ct);
    }
    b.body(r["body"].as_str().unwrap_or_default().as_bytes().to_vec())
        .unwrap()
}

/// Drives `op` through one exchange, returning the request it built and its
/// result for the captured response.
fn exchange<O: Operation>(
    mut op: O,
    fixture: &Value,
) -> (http::Request<Vec<u8>>, Result<O::Output, Error>) {
    let Step::Send(request) = op.step(now()) else {
        panic!("the operation did not start with a request")
    };
    op.on_response(now(), Ok(response(fixture)));
    match op.step(now()) {
        Step::Done(result) => (request, result),
        Step::Send(_) => panic!("the operation wanted a second request"),
        Step::Wait(_) => panic!("the operation wanted to wait"),
    }
}

fn kind(e: &Error) -> (&'static str, String) {
    match e {
        Error::BadRequest { message } => ("bad_request", message.clone()),
        Error::Unauthorized { body, .. } => ("unauthorized", body.clone()),
        Error::PaymentRequired { body, .. } => ("payment_required", body.clone()),
        Error::MethodNotAllowed { body } => ("method_not_allowed", body.clone()),
        Error::Server { body, .. } => ("server", body.clone()),
        other => panic!("not an error a fixture can name: {other:?}"),
    }
}

fn check_ok(page: &SyncResponse, expect: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let mut ops: BTreeMap<String, u64> = BTreeMap::new();
    for c in &page.server_changes {
        *ops.entry(c.op().to_string()).or_default() += 1;
    }
    let want_ops: BTreeMap<String, u64> = serde_json::from_value(expect["ops"].clone()).unwrap();
    let checks = [
        (
            "changes",
            Value::from(page.server_changes.len()),
            expect["changes"].clone(),
        ),
        (
            "hasMore",
            Value::from(page.has_more),
            expect["hasMore"].clone(),
        ),
        (
            "syncedUntil",
            Value::from(page.synced_until.as_str()),
            expect["syncedUntil"].clone(),
        ),
        (
            "conflicts",
            Value::from(page.conflicts.len()),
            expect["conflicts"].clone(),
        ),
    ];
    for (what, got, want) in checks {
        if got != want {
            problems.push(format!("{what}: got {got}, want {want}"));
        }
    }
    if ops != want_ops {
        problems.push(format!("ops: got {ops:?}, want {want_ops:?}"));
    }
    problems
}

fn check(fixture: &Value) -> Result<(), String> {
    let operation = fixture["operation"].as_str().unwrap_or_default();
    let request = &fixture["request"];
    let client_id = request["headers"]["x-client-id"]
        .as_str()
        .unwrap_or("fixture-client");
    let path = request["path"].as_str().unwrap_or_default();
    let query = request["query"].as_str().unwrap_or_default();
    let app_id = path.split('/').nth(2).unwrap_or("todo");
    let expect = &fixture["expect"];
    let param = |name: &str| {
        query
            .split('&')
            .find_map(|kv| kv.strip_prefix(name).and_then(|v| v.strip_prefix('=')))
            .unwrap_or("")
            .to_owned()
    };

    let (built, outcome): (http::Request<Vec<u8>>, Result<Outcome, Error>) = match operation {
        "health" => {
            let (req, r) = exchange(Health::new(config(client_id).sync_url()).unwrap(), fixture);
            (req, r.map(|h| Outcome::Health(h.status)))
        }
        "push" => {
            let since = request["body"]["since"]
                .as_str()
                .and_then(|s| Cursor::parse(s).ok());
            let op = Push::new(
                &config(client_id),
                app_id,
                &[],
                &since.unwrap_or(Cursor::EPOCH),
            )
            .unwrap();
            let (req, r) = exchange(op, fixture);
            (
                req,
                r.map(|o| {
                    Outcome::Page(SyncResponse {
                        server_changes: o.server_changes.into(),
                        conflicts: o.conflicts,
                        synced_until: o.synced_until,
                        has_more: false,
                        skipped: o.skipped,
                    })
                }),
            )
        }
        "pull" => {
            // A capture may send what this client never would (an
            // unparseable `since`); the response is read all the same.
            let since = Cursor::parse(&param("since")).unwrap_or(Cursor::EPOCH);
            let collection = param("collection");
            let collection = if collection.is_empty() {
                "tasks".to_owned()
            } else {
                collection
            };
            let op = Pull::new(&config(client_id), app_id, &collection, &since).unwrap();
            let (req, r) = exchange(op, fixture);
            if fixture["request"]["method"] == "GET"
                && Cursor::parse(&param("since")).is_ok()
                && !param("collection").is_empty()
                && req.uri().query() != Some(&query.replace(':', "%3A"))
            {
                return Err(format!(
                    "built query {:?}, captured {query:?}",
                    req.uri().query()
                ));
            }
            (req, r.map(Outcome::Page))
        }
        other => return Err(format!("unknown operation {other:?}")),
    };
    if built.uri().path() != path && fixture["request"]["method"] == built.method().as_str() {
        return Err(format!(
            "built path {}, captured {path}",
            built.uri().path()
        ));
    }

    match (outcome, expect.get("ok"), expect.get("error")) {
        (Ok(Outcome::Health(status)), Some(want), _) => {
            if want["health"] != status.as_str() {
                return Err(format!("health {status:?}, want {}", want["health"]));
            }
        }
        (Ok(Outcome::Page(page)), Some(want), _) => {
            let problems = check_ok(&page, want);
            if !problems.is_empty() {
                return Err(problems.join("; "));
            }
        }
        (Err(e), _, Some(want_kind)) => {
            let (kind, message) = kind(&e);
            if kind != want_kind {
                return Err(format!("error kind {kind}, want {want_kind}: {e}"));
            }
            if e.status() != expect["status"].as_u64().map(|s| s as u16) {
                return Err(format!(
                    "status {:?}, want {}",
                    e.status(),
                    expect["status"]
                ));
            }
            let want_message = expect["message"].as_str().unwrap_or_default();
            if !message.starts_with(want_message) {
                return Err(format!(
                    "message {message:?}, want it to start with {want_message:?}"
                ));
            }
            if let (Error::PaymentRequired { error, message, .. }, Ok(body)) =
                (&e, serde_json::from_str::<Value>(want_message))
            {
                if body["error"] != error.as_str() || body["message"] != message.as_str() {
                    return Err(format!(
                        "402 surfaced {error:?}/{message:?}, body says {body}"
                    ));
                }
            }
        }
        (Ok(_), None, _) => return Err("succeeded, but the capture expects an error".into()),
        (Err(e), _, None) => return Err(format!("failed, but the capture expects success: {e}")),
    }
    Ok(())
}

/// What an operation made of a captured response.
enum Outcome {
    Health(String),
    Page(SyncResponse),
}

#[test]
fn every_captured_exchange_reads_as_expected() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for (name, fixture) in shared::json_files("MANA_FIXTURES_DIR", "fixtures") {
        // A stream capture is read through the SSE decoder (fed whole and in
        // every chunking, as `stream_fixtures.rs` does too).
        let result = if fixture["operation"] == "stream" {
            shared::stream::check(&fixture).map(drop)
        } else {
            check(&fixture)
        };
        match result {
            Ok(()) => checked += 1,
            Err(why) => failures.push(format!("{name}: {why}")),
        }
    }
    assert!(
        failures.is_empty(),
        "fixtures not read as expected:\n{}",
        failures.join("\n")
    );
    assert!(checked > 0, "no fixture");
    eprintln!("{checked} captured exchanges read as expected");
}

//! The operations driven by hand with canned responses: exact requests,
//! paging, splitting, errors, misuse.

#![allow(clippy::unwrap_used)] // test code: a panic is a failure report

use std::time::Duration;

use mana_sync_core::limits::MAX_REQUEST_BODY_BYTES;
use mana_sync_core::ops::{Pull, PullAll, Push};
use mana_sync_core::{Change, Config, Cursor, Error, Operation, Step, Timestamp, TransportError};
use serde_json::{json, Map, Value};

const SENTINEL: &str = "SENTINEL-TOKEN-7f3a9c";

fn now() -> Timestamp {
    Timestamp::parse("2026-04-23T11:18:35.000Z").unwrap()
}

fn config() -> Config {
    Config::new("https://sync.example.com/prefix/", SENTINEL, "agent-1").unwrap()
}

fn ok(body: Value) -> Result<http::Response<Vec<u8>>, TransportError> {
    Ok(http::Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&body).unwrap())
        .unwrap())
}

fn status(code: u16, ct: &str, body: &str) -> Result<http::Response<Vec<u8>>, TransportError> {
    Ok(http::Response::builder()
        .status(code)
        .header("content-type", ct)
        .body(body.as_bytes().to_vec())
        .unwrap())
}

fn send<T: std::fmt::Debug>(step: Step<T>) -> http::Request<Vec<u8>> {
    match step {
        Step::Send(r) => r,
        other => panic!("expected a request, got {other:?}"),
    }
}

fn done<T: std::fmt::Debug>(step: Step<T>) -> Result<T, Error> {
    match step {
        Step::Done(r) => r,
        other => panic!("expected the end, got {other:?}"),
    }
}

fn change_json(i: usize) -> Value {
    json!({"eventId": format!("e-{i}"), "schemaVersion": 1, "table": "tasks", "id": format!("t-{i}"),
           "op": "insert", "data": {"n": i}})
}

#[test]
fn pull_request_is_exact() {
    let since = Cursor::parse("2026-11-24T22:21:44.564112Z").unwrap();
    let mut op = Pull::new(&config(), "todo", "tasks", &since).unwrap();
    let req = send(op.step(now()));
    assert_eq!(req.method(), http::Method::GET);
    assert_eq!(
        req.uri(),
        "https://sync.example.com/prefix/sync/todo/pull?collection=tasks&since=2026-11-24T22%3A21%3A44.564112Z"
    );
    assert_eq!(
        req.headers()["authorization"],
        format!("Bearer {SENTINEL}").as_str()
    );
    assert!(req.headers()["authorization"].is_sensitive());
    assert_eq!(req.headers()["x-client-id"], "agent-1");
    assert!(req.body().is_empty());
    assert!(req.headers().get("content-type").is_none());
}

#[test]
fn hostile_app_id_is_one_segment() {
    let mut op = Pull::new(&config(), "../admin?x=#y", "a/b", &Cursor::EPOCH).unwrap();
    let req = send(op.step(now()));
    assert_eq!(
        req.uri().to_string(),
        "https://sync.example.com/prefix/sync/..%2Fadmin%3Fx%3D%23y/pull?collection=a%2Fb&since=1970-01-01T00%3A00%3A00.000Z"
    );
    let mut op = Push::new(&config(), "../admin?x=#y", &[], &Cursor::EPOCH).unwrap();
    assert_eq!(
        send(op.step(now())).uri().to_string(),
        "https://sync.example.com/prefix/sync/..%2Fadmin%3Fx%3D%23y"
    );
    assert!(matches!(
        Push::new(&config(), "..", &[], &Cursor::EPOCH),
        Err(Error::InvalidRequest { .. })
    ));
    assert!(matches!(
        Pull::new(&config(), "todo", "", &Cursor::EPOCH),
        Err(Error::InvalidRequest { .. })
    ));
}

#[test]
fn base_url_without_prefix_or_slash() {
    for base in ["http://localhost:3050", "http://localhost:3050/"] {
        let config = Config::new(base, "t", "c").unwrap();
        let mut op = Push::new(&config, "todo", &[], &Cursor::EPOCH).unwrap();
        assert_eq!(
            send(op.step(now())).uri(),
            "http://localhost:3050/sync/todo"
        );
    }
}

#[test]
fn push_body_is_exact() {
    let at = Timestamp::parse("2026-04-23T11:19:00Z").unwrap();
    let changes = vec![
        Change::insert(
            "tasks",
            "t-1",
            json!({"title": "Buy milk", "isCompleted": false})
                .as_object()
                .unwrap()
                .clone(),
        )
        .with_space("s-1"),
        Change::update("tasks", "t-1").with_field("isCompleted", true, at),
        Change::delete("tasks", "t-1", at),
    ];
    let since = Cursor::parse("2026-04-23T11:18:35.000Z").unwrap();
    let mut op = Push::new(&config(), "todo", &changes, &since).unwrap();
    let req = send(op.step(now()));
    assert_eq!(req.method(), http::Method::POST);
    assert_eq!(req.headers()["content-type"], "application/json");
    assert_eq!(req.headers()["x-client-id"], "agent-1");
    assert_eq!(
        std::str::from_utf8(req.body()).unwrap(),
        concat!(
            r#"{"clientId":"agent-1","since":"2026-04-23T11:18:35.000Z","schemaVersion":1,"changes":["#,
            r#"{"table":"tasks","id":"t-1","op":"insert","data":{"title":"Buy milk","isCompleted":false},"spaceId":"s-1"},"#,
            r#"{"table":"tasks","id":"t-1","op":"update","fields":{"isCompleted":{"value":true,"at":"2026-04-23T11:19:00.000Z"}}},"#,
            r#"{"table":"tasks","id":"t-1","op":"delete","deletedAt":"2026-04-23T11:19:00.000Z"}]}"#
        )
    );
    op.on_response(
        now(),
        ok(json!({"serverChanges": [change_json(9)], "conflicts": [],
        "syncedUntil": "2026-04-23T11:18:36.123456789Z"})),
    );
    let out = done(op.step(now())).unwrap();
    assert_eq!(out.requests, 1);
    assert_eq!(out.server_changes.len(), 1);
    assert_eq!(out.synced_until.as_str(), "2026-04-23T11:18:36.123456789Z");
    assert!(!out.maybe_truncated);
}

#[test]
fn push_refuses_invalid_changes_before_sending() {
    let bad = [
        Change::insert("", "t-1", Map::new()),
        Change::insert("tasks", "", Map::new()),
        Change {
            op: "upsert".into(),
            ..Change::hard_delete("tasks", "t-1")
        },
        Change {
            schema_version: Some(2),
            ..Change::hard_delete("tasks", "t-1")
        },
    ];
    for change in bad {
        let err = Push::new(
            &config(),
            "todo",
            &[Change::hard_delete("a", "b"), change],
            &Cursor::EPOCH,
        )
        .err()
        .expect("refused");
        assert!(
            matches!(err, Error::InvalidRequest { ref reason } if reason.starts_with("change 1 ")),
            "{err}"
        );
    }
    let huge = Change::insert(
        "tasks",
        "t",
        json!({"blob": "x".repeat(MAX_REQUEST_BODY_BYTES)})
            .as_object()
            .unwrap()
            .clone(),
    );
    assert!(matches!(
        Push::new(&config(), "todo", &[huge], &Cursor::EPOCH),
        Err(Error::InvalidRequest { .. })
    ));
}

#[test]
fn push_of_25_mib_is_split_under_the_limits_and_chains_cursors() {
    let blob = "x".repeat(25 * 1024);
    let changes: Vec<Change> = (0..1000)
        .map(|i| {
            Change::insert(
                "notes",
                format!("n-{i}"),
                json!({"body": blob}).as_object().unwrap().clone(),
            )
        })
        .collect();
    let mut op = Push::new(&config(), "notes", &changes, &Cursor::EPOCH).unwrap();
    assert!(op.request_count() >= 3);
    let mut sent = 0;
    let mut sinces = Vec::new();
    for i in 0..op.request_count() {
        let req = send(op.step(now()));
        assert!(
            req.body().len() < MAX_REQUEST_BODY_BYTES,
            "request {i} is {} bytes",
            req.body().len()
        );
        let body: Value = serde_json::from_slice(req.body()).unwrap();
        let n = body["changes"].as_array().unwrap().len();
        assert!(n <= 200);
        assert_eq!(body["changes"][0]["id"], format!("n-{sent}"));
        sent += n;
        sinces.push(body["since"].as_str().unwrap().to_owned());
        op.on_response(
            now(),
            ok(json!({"serverChanges": [], "conflicts": [],
            "syncedUntil": format!("2026-04-23T11:18:3{i}.000001Z")})),
        );
    }
    assert_eq!(sent, 1000);
    assert_eq!(sinces[0], "1970-01-01T00:00:00.000Z");
    assert_eq!(sinces[1], "2026-04-23T11:18:30.000001Z");
    let out = done(op.step(now())).unwrap();
    assert_eq!(out.requests, sinces.len());
}

#[test]
fn push_batches_of_at_most_200() {
    let changes: Vec<Change> = (0..450)
        .map(|i| Change::hard_delete("t", format!("{i}")))
        .collect();
    let op = Push::new(&config(), "todo", &changes, &Cursor::EPOCH).unwrap();
    assert_eq!(op.request_count(), 3);
}

#[test]
fn push_reports_possible_truncation_at_5000() {
    let mut op = Push::new(&config(), "todo", &[], &Cursor::EPOCH).unwrap();
    send(op.step(now()));
    let changes: Vec<Value> = (0..5000).map(change_json).collect();
    op.on_response(now(), ok(json!({"serverChanges": changes, "conflicts": [], "syncedUntil": "2026-04-23T11:18:36Z"})));
    let out = done(op.step(now())).unwrap();
    assert!(out.maybe_truncated);
    assert_eq!(out.server_changes.len(), 5000);
}

#[test]
fn push_failing_after_a_stored_request_is_partial() {
    let changes: Vec<Change> = (0..300)
        .map(|i| Change::hard_delete("t", format!("{i}")))
        .collect();
    let mut op = Push::new(&config(), "todo", &changes, &Cursor::EPOCH).unwrap();
    send(op.step(now()));
    op.on_response(
        now(),
        ok(json!({"serverChanges": [], "conflicts": [], "syncedUntil": "2026-04-23T11:18:36Z"})),
    );
    send(op.step(now()));
    op.on_response(
        now(),
        status(500, "text/plain", "failed to record change: boom\n"),
    );
    match done(op.step(now())) {
        Err(Error::PartialPush {
            stored_at_least,
            stored_at_most,
            total,
            cause,
        }) => {
            // The second request's changes are each their own transaction:
            // all but the failing one may be stored.
            assert_eq!((stored_at_least, stored_at_most, total), (200, 299, 300));
            assert!(
                matches!(*cause, Error::Server { status: 500, ref body } if body == "failed to record change: boom")
            );
        }
        other => panic!("{other:?}"),
    }
    // A failure of the first request is the plain error.
    let mut op = Push::new(&config(), "todo", &changes, &Cursor::EPOCH).unwrap();
    send(op.step(now()));
    op.on_response(
        now(),
        status(401, "text/plain", "unauthorized: token is expired\n"),
    );
    assert!(matches!(
        done(op.step(now())),
        Err(Error::Unauthorized { status: 401, .. })
    ));
}

#[test]
fn pull_all_follows_has_more_and_keeps_cursor_precision() {
    let mut op = PullAll::new(&config(), "todo", "tasks", &Cursor::EPOCH).unwrap();
    let pages = [
        (0..1000, true, "2026-11-24T22:21:44.564112Z"),
        (1000..2000, true, "2026-11-24T22:21:45.48841Z"),
        (2000..2500, false, "2026-11-24T22:21:45.993070461Z"),
    ];
    let mut sinces = Vec::new();
    for (range, more, until) in pages.clone() {
        let req = send(op.step(now()));
        sinces.push(req.uri().query().unwrap().to_owned());
        let changes: Vec<Value> = range.map(change_json).collect();
        let mut body = json!({"serverChanges": changes, "conflicts": [], "syncedUntil": until});
        if more {
            body["hasMore"] = json!(true);
        }
        op.on_response(now(), ok(body));
    }
    let out = done(op.step(now())).unwrap();
    assert_eq!(out.pages, 3);
    assert_eq!(out.changes.len(), 2500);
    assert!(out
        .changes
        .iter()
        .enumerate()
        .all(|(i, c)| c.id() == format!("t-{i}")));
    assert_eq!(out.cursor.as_str(), "2026-11-24T22:21:45.993070461Z");
    assert_eq!(
        sinces[1], "collection=tasks&since=2026-11-24T22%3A21%3A44.564111Z",
        "one microsecond before the page's last instant, for the rest of a tie"
    );
    assert_eq!(
        sinces[2],
        "collection=tasks&since=2026-11-24T22%3A21%3A45.488409Z"
    );
}

#[test]
fn pull_all_refuses_a_server_that_does_not_advance() {
    let since = Cursor::parse("2026-11-24T22:21:44Z").unwrap();
    let mut op = PullAll::new(&config(), "todo", "tasks", &since).unwrap();
    send(op.step(now()));
    op.on_response(now(), ok(json!({"serverChanges": [], "conflicts": [], "syncedUntil": "2026-11-24T22:21:44Z", "hasMore": true})));
    assert!(matches!(done(op.step(now())), Err(Error::Protocol { .. })));
}

#[test]
fn pull_all_overlap_starts_earlier() {
    let since = Cursor::parse("2026-11-24T22:21:44.5Z").unwrap();
    let mut op = PullAll::new(&config(), "todo", "tasks", &since)
        .unwrap()
        .overlap(Duration::from_secs(3));
    let req = send(op.step(now()));
    assert_eq!(
        req.uri().query(),
        Some("collection=tasks&since=2026-11-24T22%3A21%3A41.500Z")
    );
}

#[test]
fn bad_responses_are_typed_errors() {
    type Case = (
        Result<http::Response<Vec<u8>>, TransportError>,
        fn(&Error) -> bool,
    );
    let cases: Vec<Case> = vec![
        (status(200, "application/json", "{\"serverChanges\": ["), |e| matches!(e, Error::Decode { .. })),
        (status(200, "application/json", "{\"serverChanges\": 5, \"syncedUntil\": \"2026-11-24T22:21:44Z\"}"),
            |e| matches!(e, Error::Decode { path, .. } if path == "serverChanges")),
        // (A malformed change is skipped, not an error: see tests/hardening.rs.)
        (status(200, "application/json", "{\"serverChanges\": [], \"conflicts\": 5, \"syncedUntil\": \"2026-11-24T22:21:44Z\"}"),
            |e| matches!(e, Error::Decode { path, .. } if path == "conflicts")),
        (status(200, "application/json", ""), |e| matches!(e, Error::Decode { .. })),
        (status(200, "application/json", "[]"), |e| matches!(e, Error::Decode { .. })),
        (status(502, "text/html", "<html><body><h1>502 Bad Gateway</h1></body></html>"),
            |e| matches!(e, Error::Server { status: 502, body } if body.contains("Bad Gateway"))),
        (status(200, "text/html", "<html>login</html>"), |e| matches!(e, Error::Decode { message, .. } if message.contains("text/html"))),
        (Err(TransportError::TooLarge { limit: 10 }), |e| matches!(e, Error::ResponseTooLarge { limit: 10 })),
        (Err(TransportError::message("connection refused")), |e| matches!(e, Error::Transport(_))),
    ];
    for (i, (response, is_expected)) in cases.into_iter().enumerate() {
        let mut op = Pull::new(&config(), "todo", "tasks", &Cursor::EPOCH).unwrap();
        send(op.step(now()));
        op.on_response(now(), response);
        let err = done(op.step(now())).expect_err("an error");
        assert!(is_expected(&err), "case {i}: {err:?}");
    }
}

#[test]
fn misuse_is_an_error_not_a_panic() {
    let mut op = Pull::new(&config(), "todo", "tasks", &Cursor::EPOCH).unwrap();
    op.on_response(now(), ok(json!({})));
    assert!(matches!(done(op.step(now())), Err(Error::Misuse { .. })));
    let mut op = PullAll::new(&config(), "todo", "tasks", &Cursor::EPOCH).unwrap();
    send(op.step(now()));
    assert!(matches!(done(op.step(now())), Err(Error::Misuse { .. })));
    let mut op = Push::new(&config(), "todo", &[], &Cursor::EPOCH).unwrap();
    send(op.step(now()));
    op.on_response(now(), ok(json!({"syncedUntil": "2026-11-24T22:21:44Z"})));
    done(op.step(now())).unwrap();
    assert!(matches!(done(op.step(now())), Err(Error::Misuse { .. })));
}

#[test]
fn the_token_never_shows() {
    let config = config();
    let mut shown = vec![format!("{config:?}"), format!("{:?}", config.token())];
    let mut op = Pull::new(&config, "todo", "tasks", &Cursor::EPOCH).unwrap();
    let req = send(op.step(now()));
    shown.push(format!("{req:?}"));
    shown.push(format!("{:?}", req.headers()));
    let mut op = Push::new(&config, "todo", &[], &Cursor::EPOCH).unwrap();
    shown.push(format!("{:?}", send(op.step(now()))));
    let errors = [
        Error::Unauthorized {
            status: 401,
            body: "unauthorized: token is expired".into(),
        },
        Error::PartialPush {
            stored_at_least: 1,
            stored_at_most: 2,
            total: 2,
            cause: Box::new(Error::Server {
                status: 500,
                body: "x".into(),
            }),
        },
        Config::new("http://h", "bad token with space", "c")
            .err()
            .unwrap(),
        Config::new("http://h", format!("{SENTINEL} x"), "c")
            .err()
            .unwrap(),
        Config::new("https://user:SENTINEL@h", "t", "c")
            .err()
            .unwrap(),
    ];
    for e in &errors {
        shown.push(format!("{e:?}"));
        shown.push(e.to_string());
    }
    for (i, text) in shown.iter().enumerate() {
        assert!(
            !text.contains(SENTINEL) && !text.contains("SENTINEL"),
            "{i}: {text}"
        );
    }
}

#[test]
fn pull_all_can_include_own_changes() {
    let mut op = PullAll::new(&config(), "todo", "tasks", &Cursor::EPOCH).unwrap();
    assert_eq!(send(op.step(now())).headers()["x-client-id"], "agent-1");
    let mut op = PullAll::new(&config(), "todo", "tasks", &Cursor::EPOCH)
        .unwrap()
        .including_own_changes();
    let req = send(op.step(now()));
    assert_eq!(req.headers()["x-client-id"], "agent-1#reader");
    assert!(req.headers()["authorization"].is_sensitive());
}

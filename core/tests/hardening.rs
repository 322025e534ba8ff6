//! Hostile answers, one finding each: a malformed change never fails a page,
//! every text taken from a response is bounded, no secret reaches an error.

#![allow(clippy::unwrap_used, clippy::type_complexity)] // test code: a panic is a failure report

use mana_sync_core::crypto::MasterKey;
use mana_sync_core::fold::Replica;
use mana_sync_core::ops::{Pull, PullAll, Push};
use mana_sync_core::{
    Change, Config, Cursor, Error, Operation, Step, TableSpec, Timestamp, TransportError,
};
use serde_json::{json, Value};

const SENTINEL: &str = "SENTINEL-TOKEN-7f3a9c";
const MIB: usize = 1 << 20;

fn now() -> Timestamp {
    Timestamp::parse("2026-04-23T11:18:35.000Z").unwrap()
}

fn config() -> Config {
    Config::new("https://sync.example.com/", SENTINEL, "agent-1").unwrap()
}

fn response(
    code: u16,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<http::Response<Vec<u8>>, TransportError> {
    let mut b = http::Response::builder().status(code);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    Ok(b.body(body.to_vec()).unwrap())
}

fn ok(body: &Value) -> Result<http::Response<Vec<u8>>, TransportError> {
    response(
        200,
        &[("content-type", "application/json")],
        &serde_json::to_vec(body).unwrap(),
    )
}

fn drive<O: Operation>(
    mut op: O,
    mut answers: Vec<Result<http::Response<Vec<u8>>, TransportError>>,
) -> (Result<O::Output, Error>, Vec<http::Request<Vec<u8>>>) {
    answers.reverse();
    let mut sent = Vec::new();
    loop {
        match op.step(now()) {
            Step::Send(r) => {
                sent.push(r);
                op.on_response(now(), answers.pop().expect("an answer for every request"));
            }
            Step::Wait(_) => {}
            Step::Done(r) => return (r, sent),
        }
    }
}

fn pull_error(answer: Result<http::Response<Vec<u8>>, TransportError>) -> Error {
    let op = Pull::new(&config(), "todo", "tasks", &Cursor::EPOCH).unwrap();
    drive(op, vec![answer]).0.expect_err("an error")
}

fn good(i: usize) -> Value {
    json!({"eventId": format!("e-{i}"), "table": "tasks", "id": format!("t-{i}"), "op": "insert", "data": {"n": i}})
}

#[test]
fn one_malformed_change_never_blocks_a_collection() {
    // Page 1 holds only a bad change and says hasMore: the cursor moves on.
    let page1 = json!({"serverChanges": [{"table": "tasks", "id": "t-x", "op": "update",
        "fields": {"title": ["hacked", "2030-01-01T00:00:00Z"]}}],
        "syncedUntil": "2026-11-24T22:21:44.100001Z", "hasMore": true});
    let page2 = json!({"serverChanges": [good(1), {"table": "tasks", "id": "t-y", "op": 5}, good(2)],
        "syncedUntil": "2026-11-24T22:21:44.200002Z", "hasMore": true});
    let bad_number = br#"{"serverChanges":[{"table":"tasks","id":"t-z","op":"insert","data":{"n":1e400}}],"syncedUntil":"2026-11-24T22:21:44.300003Z"}"#;
    let op = PullAll::new(&config(), "todo", "tasks", &Cursor::EPOCH).unwrap();
    let (out, sent) = drive(
        op,
        vec![ok(&page1), ok(&page2), response(200, &[], bad_number)],
    );
    let out = out.unwrap();
    assert_eq!(sent.len(), 3);
    // Each next page asks from just before the last one's cursor (1 µs,
    // for ties at the boundary): the cursor moved past the bad change.
    assert!(
        sent[1]
            .uri()
            .to_string()
            .contains("since=2026-11-24T22%3A21%3A44.100Z"),
        "{}",
        sent[1].uri()
    );
    assert!(
        sent[2]
            .uri()
            .to_string()
            .contains("since=2026-11-24T22%3A21%3A44.200001Z"),
        "{}",
        sent[2].uri()
    );
    assert_eq!(
        out.changes
            .iter()
            .map(|c| c.id().into_owned())
            .collect::<Vec<_>>(),
        ["t-1", "t-2"]
    );
    assert_eq!(out.cursor.as_str(), "2026-11-24T22:21:44.300003Z");
    let skipped: Vec<_> = out
        .skipped
        .iter()
        .map(|s| (s.index, s.id.clone().unwrap()))
        .collect();
    assert_eq!(
        skipped,
        [
            (0, "t-x".to_owned()),
            (1, "t-y".to_owned()),
            (0, "t-z".to_owned())
        ]
    );

    // A push response too.
    let answer = json!({"serverChanges": [good(1), {"table": "tasks", "id": "t-y", "op": "insert", "deletedAt": 5}],
        "conflicts": [], "syncedUntil": "2026-11-24T22:21:44Z"});
    let op = Push::new(&config(), "todo", &[], &Cursor::EPOCH).unwrap();
    let out = drive(op, vec![ok(&answer)]).0.unwrap();
    assert_eq!(out.server_changes.len(), 1);
    assert_eq!(out.skipped.len(), 1);
    assert!(
        out.skipped[0].reason.contains("deletedAt"),
        "{}",
        out.skipped[0]
    );
}

#[test]
fn every_text_taken_from_a_response_is_bounded() {
    let big = "m".repeat(MIB);
    let cases: Vec<(&str, Result<http::Response<Vec<u8>>, TransportError>)> = vec![
        (
            "402 message",
            response(
                402,
                &[],
                json!({"error": "sync_inactive", "message": big})
                    .to_string()
                    .as_bytes(),
            ),
        ),
        (
            "402 error",
            response(
                402,
                &[],
                json!({"error": big, "message": "m"}).to_string().as_bytes(),
            ),
        ),
        (
            "location",
            response(301, &[("location", &format!("https://x/{big}"))], b""),
        ),
        (
            "hasMore",
            ok(
                &json!({"serverChanges": [], "syncedUntil": "2026-11-24T22:21:44Z", "hasMore": big}),
            ),
        ),
        (
            "syncedUntil",
            ok(&json!({"serverChanges": [], "syncedUntil": big})),
        ),
        (
            "syncedUntil type",
            ok(&json!({"serverChanges": [], "syncedUntil": {big.clone(): 1}})),
        ),
        (
            "unknown key path",
            ok(&json!({"serverChanges": {big.clone(): 1}, "syncedUntil": "2026-11-24T22:21:44Z"})),
        ),
        ("500 body", response(500, &[], big.as_bytes())),
        ("400 body", response(400, &[], big.as_bytes())),
        (
            "html 200",
            response(
                200,
                &[("content-type", &format!("text/{}", "h".repeat(4000)))],
                big.as_bytes(),
            ),
        ),
        ("transport", Err(TransportError::message(big.clone()))),
    ];
    for (what, answer) in cases {
        let e = pull_error(answer);
        let shown = format!("{e} {e:?}");
        assert!(
            shown.chars().count() < 6000,
            "{what}: {} chars",
            shown.chars().count()
        );
    }
}

#[test]
fn no_token_or_key_reaches_an_error() {
    let jwt = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ1LTEifQ.c2lnbmF0dXJlc2lnbmF0dXJl";
    let echo = format!(
        "GET /sync/todo/pull HTTP/1.1\r\nHost: sync.example.com\r\nAuthorization: Bearer {SENTINEL}\r\n\r\n"
    );
    let long_echo = format!("{}{echo}", " ".repeat(490));
    let bodies = [
        echo.clone(),
        long_echo,
        format!("{{\"headers\":{{\"authorization\":\"Bearer {SENTINEL}\"}}}}"),
        format!("{{\"token\":\"{SENTINEL}\"}}"),
        format!("your token {jwt} is bad"),
        r#"{"masterKey":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=","serverChanges":5,"syncedUntil":"2026-11-24T22:21:44Z"}"#.to_owned(),
    ];
    for body in &bodies {
        for code in [200, 400, 401, 402, 403, 404, 405, 429, 500, 502] {
            let e = pull_error(response(
                code,
                &[("content-type", "text/plain")],
                body.as_bytes(),
            ));
            let shown = format!("{e} {e:?}");
            assert!(!shown.contains("SENTINEL"), "{code}: {shown}");
            assert!(!shown.contains("eyJzdWIi"), "{code}: {shown}");
            assert!(!shown.contains("AAECAwQF"), "{code}: {shown}");
        }
    }
}

#[test]
fn a_record_type_error_never_shows_the_decrypted_value() {
    #[derive(serde::Serialize, serde::Deserialize, Debug)]
    struct Note {
        title: String,
    }
    #[derive(serde::Serialize, serde::Deserialize, Debug)]
    struct Strict {
        title: u32,
    }
    let key = MasterKey::from_bytes(&[9; 32]).unwrap();
    let writer: TableSpec<Note> = TableSpec::new("notes", "notes").encrypted(&["title"]);
    let change = writer
        .create_change(
            "n-1",
            &Note {
                title: "PLAINTEXT-SECRET".into(),
            },
            Some(&key),
            now(),
        )
        .unwrap();
    assert!(!serde_json::to_string(&change)
        .unwrap()
        .contains("PLAINTEXT"));
    let mut replica = Replica::new();
    replica.apply_all(&[change]);
    let record = replica.record("notes", "n-1").unwrap();
    let reader: TableSpec<Strict> = TableSpec::new("notes", "notes").encrypted(&["title"]);
    let e = reader.decode(record, Some(&key)).unwrap_err();
    let shown = format!("{e} {e:?}");
    assert!(matches!(e, Error::Decode { .. }));
    assert!(!shown.contains("PLAINTEXT"), "{shown}");
    assert!(shown.contains("title") && shown.contains("u32"), "{shown}");
}

#[test]
fn client_ids_near_the_body_limit_are_refused_at_config() {
    for len in [10 * MIB - 200, 10 * MIB, 10 * MIB + 1] {
        let id = "c".repeat(len);
        let e = Config::new("https://h", "t", &id).unwrap_err();
        assert!(matches!(e, Error::InvalidConfig { .. }));
        assert!(e.to_string().len() < 400);
    }
    // The largest accepted id still leaves room for a push.
    let config = Config::new("https://h", "t", &"\"".repeat(1024)).unwrap();
    let change = Change::insert(
        "t",
        "1",
        json!({"x": "y".repeat(9 * MIB)})
            .as_object()
            .unwrap()
            .clone(),
    );
    assert_eq!(
        Push::new(&config, "todo", &[change], &Cursor::EPOCH)
            .unwrap()
            .request_count(),
        1
    );
}

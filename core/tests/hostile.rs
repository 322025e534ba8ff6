//! A table of hostile inputs: responses (wrong types at every level, huge
//! and deep values, invalid UTF-8, a BOM, duplicate keys, trailing data, odd
//! statuses, cursors backwards or unchanged) and requests (CR, LF, NUL and
//! friends in every string that reaches a header or a path). Each gives a
//! typed error or the documented lenient result, never a panic, a hang (every
//! operation here is driven to its end with a bounded number of steps) or an
//! unbounded error text.

#![allow(clippy::unwrap_used, clippy::type_complexity)]

use mana_sync_core::crypto::MasterKey;
use mana_sync_core::ops::{Health, Pull, PullAll, Push, VaultKey};
use mana_sync_core::{
    BaseUrl, Change, Config, Cursor, Error, Operation, Step, SyncResponse, Timestamp,
    TransportError,
};
use serde_json::json;

const MIB: usize = 1 << 20;
/// No error's `Display` and `Debug` together may be longer than this.
const MAX_SHOWN: usize = 4000;
/// An operation that takes more steps than this is hanging.
const MAX_STEPS: usize = 64;

fn now() -> Timestamp {
    Timestamp::parse("2026-04-23T11:18:35.000Z").unwrap()
}

fn config() -> Config {
    Config::new("https://sync.example.com/", "SENTINEL-TOKEN", "agent-1")
        .unwrap()
        .with_auth_url("https://auth.example.com")
        .unwrap()
}

/// What a case must give.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// `Error::Decode`.
    Decode,
    /// An error whose `status()` is this.
    Status(u16),
    /// `Error::Protocol`.
    Protocol,
    /// A transient error.
    Transient,
    /// A page: this many changes kept and this many skipped.
    Page(usize, usize),
    /// Any typed error (the exact one is not part of the contract).
    AnyError,
}

type Answer = Result<http::Response<Vec<u8>>, TransportError>;

fn answer(status: u16, headers: &[(&str, &[u8])], body: &[u8]) -> Answer {
    let mut b = http::Response::builder().status(status);
    for (k, v) in headers {
        b = b.header(*k, http::HeaderValue::from_bytes(v).unwrap());
    }
    Ok(b.body(body.to_vec()).unwrap())
}

fn json_ok(body: &[u8]) -> Answer {
    answer(200, &[("content-type", b"application/json")], body)
}

/// Drives `op` with `answers` in turn; a missing answer is a hang.
fn drive<O: Operation>(mut op: O, answers: Vec<Answer>) -> Result<O::Output, Error> {
    let mut answers = answers.into_iter();
    for _ in 0..MAX_STEPS {
        match op.step(now()) {
            Step::Send(_) => match answers.next() {
                Some(a) => op.on_response(now(), a),
                None => panic!("the operation asked for more answers than the case holds"),
            },
            Step::Wait(_) => {}
            Step::Done(r) => return r,
        }
    }
    panic!("the operation did not end in {MAX_STEPS} steps");
}

fn check_error(name: &str, e: &Error, expect: Expect) {
    let shown = format!("{e} {e:?}");
    assert!(
        shown.chars().count() <= MAX_SHOWN,
        "{name}: {} chars shown",
        shown.chars().count()
    );
    assert!(!shown.contains("SENTINEL"), "{name}: {shown}");
    assert!(!matches!(e, Error::Misuse { .. }), "{name}: {e}");
    let ok = match expect {
        Expect::Decode => matches!(e, Error::Decode { .. }),
        Expect::Status(s) => e.status() == Some(s),
        Expect::Protocol => matches!(e, Error::Protocol { .. }),
        Expect::Transient => e.is_transient(),
        Expect::AnyError => true,
        Expect::Page(..) => false,
    };
    assert!(ok, "{name}: expected {expect:?}, got {e:?}");
}

fn check_page(name: &str, r: Result<SyncResponse, Error>, expect: Expect) {
    match (r, expect) {
        (Ok(p), Expect::Page(kept, skipped)) => {
            assert_eq!(
                (p.server_changes.len(), p.skipped.len()),
                (kept, skipped),
                "{name}: {:?}",
                p.skipped
            );
            for s in &p.skipped {
                assert!(s.reason.chars().count() <= 500, "{name}");
                assert!(s.to_string().chars().count() <= MAX_SHOWN, "{name}");
            }
        }
        (Ok(p), other) => panic!(
            "{name}: expected {other:?}, got a page of {}",
            p.server_changes.len()
        ),
        (Err(e), expect) => check_error(name, &e, expect),
    }
}

const GOOD: &str = r#"{"eventId":"e-1","table":"tasks","id":"t-1","op":"update","fields":{"a":{"value":1,"at":"2026-01-01T00:00:00.000Z"}}}"#;
const SU: &str = r#""syncedUntil":"2026-11-24T22:21:44.5Z""#;

fn envelope(changes: &str) -> Vec<u8> {
    format!(r#"{{"serverChanges":[{GOOD},{changes}],"conflicts":[],{SU}}}"#).into_bytes()
}

/// Response bodies of a pull, each with what it must give.
fn pull_cases() -> Vec<(String, Answer, Expect)> {
    let mut cases: Vec<(String, Answer, Expect)> = Vec::new();
    let mut add = |name: String, a: Answer, e: Expect| cases.push((name, a, e));
    let deep = |n: usize| format!("{}1{}", "[".repeat(n), "]".repeat(n));
    let big = "x".repeat(MIB);

    // The envelope: wrong types at the top level and for every member.
    for body in [
        "null",
        "true",
        "0",
        "\"x\"",
        "[]",
        r#"[[],[],"2026-11-24T22:21:44Z",true]"#,
        "{}",
        r#"{"serverChanges":[]}"#,
    ] {
        add(
            format!("envelope {body}"),
            json_ok(body.as_bytes()),
            Expect::Decode,
        );
    }
    add(
        "serverChanges holding one deep array".into(),
        json_ok(format!(r#"{{"serverChanges":{},{SU}}}"#, deep(200)).as_bytes()),
        Expect::Page(0, 1),
    );
    for v in ["null", "true", "1", "\"x\"", "{}"] {
        add(
            format!("serverChanges {}", &v[..v.len().min(20)]),
            json_ok(format!(r#"{{"serverChanges":{v},{SU}}}"#).as_bytes()),
            Expect::Decode,
        );
    }
    for v in [
        "null",
        "1",
        "\"x\"",
        "{}",
        "[1]",
        "[[]]",
        r#"[{"table":5}]"#,
    ] {
        add(
            format!("conflicts {v}"),
            json_ok(format!(r#"{{"serverChanges":[],"conflicts":{v},{SU}}}"#).as_bytes()),
            Expect::Decode,
        );
    }
    let bad_cursors: Vec<String> = vec![
        "null".into(),
        "1".into(),
        "true".into(),
        "[]".into(),
        "{}".into(),
        "\"\"".into(),
        "\"yesterday\"".into(),
        "\"2026-11-24t22:21:44z\"".into(),
        "\"2026-11-24 22:21:44Z\"".into(),
        "\"20261124T222144Z\"".into(),
        "\"2026-11-24T22:21Z\"".into(),
        "\"+012026-11-24T22:21:44Z\"".into(),
        "\"2026-11-24T22:21:44+24:00\"".into(),
        "\"2026-12-31T23:59:60Z\"".into(),
        "\"2026-11-24T22:21:44.1234567890Z\"".into(),
        "\"2026-11-24T22:21:44,5Z\"".into(),
        "\"2026-02-30T00:00:00Z\"".into(),
        format!("\"{big}\""),
        "\"2026-11-24T22:21:44Z\\u0000\"".into(),
        "\"2026-11-24T22:21:44Z\\r\\nX: y\"".into(),
        "\"2026-11-24T22:21:44Z \"".into(),
    ];
    for v in &bad_cursors {
        add(
            format!("syncedUntil {}", &v[..v.len().min(40)]),
            json_ok(format!(r#"{{"serverChanges":[],"syncedUntil":{v}}}"#).as_bytes()),
            Expect::Decode,
        );
    }
    for v in ["null", "1", "\"true\"", "[]", "{}", &format!("\"{big}\"")] {
        add(
            format!("hasMore {}", &v[..v.len().min(20)]),
            json_ok(format!(r#"{{"serverChanges":[],{SU},"hasMore":{v}}}"#).as_bytes()),
            Expect::Decode,
        );
    }

    // One malformed change among good ones: skipped, the page kept.
    let bad_changes: Vec<String> = vec![
        "null".into(),
        "true".into(),
        "1".into(),
        "\"x\"".into(),
        "[]".into(),
        "[1,2]".into(),
        r#"{"table":null,"id":"1","op":"delete"}"#.into(),
        r#"{"table":1,"id":"1","op":"delete"}"#.into(),
        r#"{"table":"","id":"1","op":"delete"}"#.into(),
        r#"{"table":"t","id":[],"op":"delete"}"#.into(),
        r#"{"table":"t","op":"delete"}"#.into(),
        r#"{"table":"t","id":"1"}"#.into(),
        r#"{"table":"t","id":"1","op":5}"#.into(),
        r#"{"table":"t","id":"1","op":"upsert"}"#.into(),
        r#"{"table":"t","id":"1","op":"INSERT"}"#.into(),
        r#"{"table":"t","id":"1","op":{}}"#.into(),
        r#"{"table":"t","id":"1","op":"update","fields":[]}"#.into(),
        r#"{"table":"t","id":"1","op":"update","fields":"x"}"#.into(),
        r#"{"table":"t","id":"1","op":"update","fields":5}"#.into(),
        r#"{"table":"t","id":"1","op":"update","fields":{"a":["hacked","2030-01-01T00:00:00Z"]}}"#
            .into(),
        r#"{"table":"t","id":"1","op":"update","fields":{"a":"x"}}"#.into(),
        r#"{"table":"t","id":"1","op":"update","fields":{"a":null}}"#.into(),
        r#"{"table":"t","id":"1","op":"update","fields":{"a":{"at":"2026-01-01T00:00:00Z"}}}"#
            .into(),
        r#"{"table":"t","id":"1","op":"update","fields":{"a":{"value":1,"at":5}}}"#.into(),
        r#"{"table":"t","id":"1","op":"update","fields":{"a":{"value":1,"at":{}}}}"#.into(),
        r#"{"table":"t","id":"1","op":"update","fields":{"a":{"value":1,"updatedAt":[]}}}"#.into(),
        r#"{"table":"t","id":"1","op":"update","fields":{"a":{"value":1e400,"at":""}}}"#.into(),
        r#"{"table":"t","id":"1","op":"insert","data":[]}"#.into(),
        r#"{"table":"t","id":"1","op":"insert","data":"x"}"#.into(),
        r#"{"table":"t","id":"1","op":"insert","data":{"n":1e400}}"#.into(),
        r#"{"table":"t","id":"1","op":"insert","data":{"n":-1e400}}"#.into(),
        format!(
            r#"{{"table":"t","id":"1","op":"insert","data":{{"d":{}}}}}"#,
            deep(129)
        ),
        format!(
            r#"{{"table":"t","id":"1","op":"insert","data":{{"d":{}}}}}"#,
            deep(100_000)
        ),
        r#"{"table":"t","id":"1","op":"delete","deletedAt":5}"#.into(),
        r#"{"table":"t","id":"1","op":"delete","deletedAt":true}"#.into(),
        r#"{"table":"t","id":"1","op":"delete","deletedAt":[]}"#.into(),
        r#"{"table":"t","id":"1","op":"delete","deletedAt":{}}"#.into(),
        r#"{"table":"t","id":"1","op":"delete","eventId":5}"#.into(),
        r#"{"table":"t","id":"1","op":"delete","eventId":{}}"#.into(),
        r#"{"table":"t","id":"1","op":"delete","spaceId":5}"#.into(),
        r#"{"table":"t","id":"1","op":"delete","spaceId":[]}"#.into(),
        r#"{"table":"t","id":"1","op":"delete","actor":"me"}"#.into(),
        r#"{"table":"t","id":"1","op":"delete","actor":[]}"#.into(),
        r#"{"table":"t","id":"1","op":"delete","actor":5}"#.into(),
        r#"{"table":"t","id":"1","op":"delete","origin":5}"#.into(),
        r#"{"table":"t","id":"1","op":"delete","origin":{}}"#.into(),
        r#"{"table":"t","id":"1","op":"delete","schemaVersion":"1"}"#.into(),
        r#"{"table":"t","id":"1","op":"delete","schemaVersion":-1}"#.into(),
        r#"{"table":"t","id":"1","op":"delete","schemaVersion":1.5}"#.into(),
        r#"{"table":"t","id":"1","op":"delete","schemaVersion":1e10}"#.into(),
        r#"{"table":"t","id":"1","op":"delete","schemaVersion":{}}"#.into(),
        format!(r#"{{"table":"{big}","id":"{big}","op":"{big}"}}"#),
    ];
    for c in &bad_changes {
        add(
            format!("change {}", &c[..c.len().min(60)]),
            json_ok(&envelope(c)),
            Expect::Page(1, 1),
        );
    }
    // Lenient and well formed: kept.
    let fine_changes: Vec<String> = vec![
        format!(r#"{{"table":"t","id":"1","op":"insert","data":{{"blob":"{big}"}}}}"#),
        format!(r#"{{"table":"t","id":"1","op":"insert","data":{{"d":{}}}}}"#, deep(100)),
        r#"{"table":"t","id":"1","op":"delete","deletedAt":null,"origin":null,"actor":null}"#.into(),
        r#"{"table":"t","id":"1","op":"delete","op":"insert"}"#.into(),
        r#"{"table":"t","id":"1","op":"update","fields":{"a":{"value":1,"at":"soon"}}}"#.into(),
        r#"{"table":"t","id":"1","op":"update","fields":{"a":{"value":1,"at":""},"a":{"value":2,"at":""}}}"#.into(),
        r#"{"table":"t\u0000\r\n","id":"1\u2028","op":"delete","unknown":[1,{"x":2}]}"#.into(),
        r#"{"table":"t","id":"1","op":"insert","data":{"n":1.7976931348623157e308,"m":-0,"k":123456789012345678901234567890}}"#.into(),
    ];
    for c in &fine_changes {
        add(
            format!("fine {}", &c[..c.len().min(60)]),
            json_ok(&envelope(c)),
            Expect::Page(2, 0),
        );
    }

    // Bytes: invalid UTF-8, a BOM, duplicate keys, trailing data.
    add(
        "invalid utf-8 in the envelope".into(),
        json_ok(b"{\"serverChanges\":[],\"syncedUntil\":\"2026-11-24T22:21:44\xffZ\"}"),
        Expect::Decode,
    );
    add(
        "invalid utf-8 in a change".into(),
        json_ok(&{
            let mut b = envelope(r#"{"table":"tX","id":"1","op":"delete"}"#);
            let at = b.windows(2).position(|w| w == b"tX").unwrap() + 1;
            b[at] = 0xff;
            b
        }),
        Expect::Decode,
    );
    add(
        "lone surrogate escape".into(),
        json_ok(&envelope(r#"{"table":"t\ud800","id":"1","op":"delete"}"#)),
        Expect::Page(1, 1),
    );
    let mut bom = b"\xef\xbb\xbf".to_vec();
    bom.extend_from_slice(&envelope("null"));
    add("a BOM".into(), json_ok(&bom), Expect::Decode);
    add(
        "duplicate syncedUntil".into(),
        json_ok(format!(r#"{{"serverChanges":[],{SU},{SU}}}"#).as_bytes()),
        Expect::Decode,
    );
    add(
        "duplicate serverChanges".into(),
        json_ok(format!(r#"{{"serverChanges":[],"serverChanges":[],{SU}}}"#).as_bytes()),
        Expect::Decode,
    );
    for tail in [" x", "{}", "[]", "\u{0}", ",", "}"] {
        let mut b = format!(r#"{{"serverChanges":[],{SU}}}"#).into_bytes();
        b.extend_from_slice(tail.as_bytes());
        add(format!("trailing {tail:?}"), json_ok(&b), Expect::Decode);
    }
    add(
        "trailing white space".into(),
        json_ok(format!("{{\"serverChanges\":[],{SU}}}\r\n\t ").as_bytes()),
        Expect::Page(0, 0),
    );
    add("empty body".into(), json_ok(b""), Expect::Decode);
    add("white space body".into(), json_ok(b" \n"), Expect::Decode);
    add(
        "truncated".into(),
        json_ok(&envelope("")[..40]),
        Expect::Decode,
    );
    add(
        "deep envelope".into(),
        json_ok(deep(100_000).as_bytes()),
        Expect::Decode,
    );
    add(
        "huge unknown member".into(),
        json_ok(format!(r#"{{"x":"{big}","serverChanges":[],{SU}}}"#).as_bytes()),
        Expect::Page(0, 0),
    );

    // Odd statuses.
    let page = format!(r#"{{"serverChanges":[],{SU}}}"#);
    for s in [200u16, 201, 203, 206, 299] {
        add(
            format!("status {s}"),
            answer(s, &[], page.as_bytes()),
            Expect::Page(0, 0),
        );
    }
    add(
        "status 204 empty".into(),
        answer(204, &[], b""),
        Expect::Decode,
    );
    for s in [
        100u16, 101, 300, 301, 302, 304, 307, 308, 404, 409, 410, 413, 418, 451, 499, 600, 999,
    ] {
        add(
            format!("status {s}"),
            answer(s, &[], page.as_bytes()),
            Expect::Status(s),
        );
    }
    for s in [408u16, 429, 500, 502, 503, 504, 599] {
        add(
            format!("status {s}"),
            answer(s, &[("content-type", b"text/html")], b"<html>proxy</html>"),
            Expect::Transient,
        );
    }
    for (s, body) in [
        (400u16, &b"bad"[..]),
        (401, b""),
        (403, b"\xff\xfe"),
        (405, b"Method Not Allowed"),
    ] {
        add(
            format!("status {s}"),
            answer(s, &[], body),
            Expect::Status(s),
        );
    }
    for body in [
        &b"{}"[..],
        b"[]",
        b"null",
        br#"{"error":5,"message":[]}"#,
        br#"["sync_inactive","x"]"#,
        b"\xff",
        big.as_bytes(),
    ] {
        add(
            format!("402 {:?}", &body[..body.len().min(20)]),
            answer(402, &[], body),
            Expect::Status(402),
        );
    }
    add(
        "redirect to a huge location".into(),
        answer(
            301,
            &[("location", format!("https://x/{big}").as_bytes())],
            b"",
        ),
        Expect::Status(301),
    );
    add(
        "redirect to obs-text".into(),
        answer(302, &[("location", b"https://x/\xff\xfe")], b""),
        Expect::Status(302),
    );
    add(
        "html on 200".into(),
        answer(
            200,
            &[("content-type", b"text/html")],
            b"<html>login</html>",
        ),
        Expect::Decode,
    );

    // Transport failures.
    add(
        "timeout".into(),
        Err(TransportError::Timeout {
            kind: mana_sync_core::TimeoutKind::Total,
            limit: std::time::Duration::from_secs(1),
        }),
        Expect::Transient,
    );
    add(
        "too large".into(),
        Err(TransportError::TooLarge { limit: 10 }),
        Expect::AnyError,
    );
    add(
        "huge transport message".into(),
        Err(TransportError::message(big.clone())),
        Expect::Transient,
    );
    cases
}

#[test]
fn hostile_responses() {
    let cases = pull_cases();
    let mut count = 0;
    for (name, a, expect) in cases {
        // The same answer to a pull and to a push: the envelope is shared.
        let copy = match &a {
            Ok(r) => {
                let mut b = http::Response::builder().status(r.status());
                for (k, v) in r.headers() {
                    b = b.header(k, v);
                }
                Ok(b.body(r.body().clone()).unwrap())
            }
            Err(TransportError::Timeout { kind, limit }) => Err(TransportError::Timeout {
                kind: *kind,
                limit: *limit,
            }),
            Err(TransportError::TooLarge { limit }) => {
                Err(TransportError::TooLarge { limit: *limit })
            }
            Err(e) => Err(TransportError::message(e.to_string())),
        };
        let pulled = drive(
            Pull::new(&config(), "todo", "tasks", &Cursor::EPOCH).unwrap(),
            vec![a],
        );
        check_page(&format!("pull: {name}"), pulled, expect);
        let pushed = drive(
            Push::new(&config(), "todo", &[], &Cursor::EPOCH).unwrap(),
            vec![copy],
        );
        let pushed = pushed.map(|o| SyncResponse {
            server_changes: o.server_changes.into(),
            conflicts: o.conflicts,
            synced_until: o.synced_until,
            has_more: false,
            skipped: o.skipped,
        });
        check_page(&format!("push: {name}"), pushed, expect);
        count += 2;
    }
    assert!(count >= 300, "{count} cases");
}

fn page_json(changes: usize, until: &str, has_more: bool) -> Answer {
    let list: Vec<_> = (0..changes)
        .map(|i| json!({"table": "tasks", "id": format!("t-{i}"), "op": "delete"}))
        .collect();
    json_ok(
        json!({"serverChanges": list, "syncedUntil": until, "hasMore": has_more})
            .to_string()
            .as_bytes(),
    )
}

#[test]
fn hostile_paging() {
    let t1 = "2026-11-24T22:21:44.000001Z";
    let t2 = "2026-11-24T22:21:44.000002Z";
    let before = "2026-11-24T22:21:43Z";
    let since = Cursor::parse(t1).unwrap();
    let cases: Vec<(&str, Cursor, Vec<Answer>, Expect)> = vec![
        (
            "unchanged cursor",
            since.clone(),
            vec![page_json(1, t1, true)],
            Expect::Protocol,
        ),
        (
            "cursor backwards",
            since.clone(),
            vec![page_json(1, before, true)],
            Expect::Protocol,
        ),
        (
            "hasMore with no changes",
            since.clone(),
            vec![page_json(0, t2, true)],
            Expect::Protocol,
        ),
        (
            "unchanged on page 2",
            Cursor::EPOCH,
            vec![page_json(1, t1, true), page_json(1, t1, true)],
            Expect::Protocol,
        ),
        (
            "backwards on page 2",
            Cursor::EPOCH,
            vec![page_json(1, t2, true), page_json(1, t1, true)],
            Expect::Protocol,
        ),
        (
            "final page behind the cursor",
            Cursor::EPOCH,
            vec![page_json(1, t2, true), page_json(0, t1, false)],
            Expect::Page(1, 0),
        ),
        (
            "error on page 2",
            Cursor::EPOCH,
            vec![page_json(1, t1, true), answer(500, &[], b"x")],
            Expect::Transient,
        ),
        (
            "garbage on page 2",
            Cursor::EPOCH,
            vec![page_json(1, t1, true), json_ok(b"[]")],
            Expect::Decode,
        ),
    ];
    for (name, since, answers, expect) in cases {
        let r = drive(
            PullAll::new(&config(), "todo", "tasks", &since).unwrap(),
            answers,
        );
        match (r, expect) {
            (Ok(out), Expect::Page(n, s)) => {
                assert_eq!((out.changes.len(), out.skipped.len()), (n, s), "{name}");
                // Documented: a final cursor behind the one sent is kept as
                // the server sent it (the server's clock is the truth).
            }
            (Ok(out), e) => panic!("{name}: expected {e:?}, got {} changes", out.changes.len()),
            (Err(e), expect) => check_error(name, &e, expect),
        }
    }
}

#[test]
fn hostile_health_and_vault_answers() {
    let base = BaseUrl::parse("https://sync.example.com").unwrap();
    let health: Vec<(&[u8], bool)> = vec![
        (br#"{"status":"ok"}"#, true),
        (br#"{"status":"ok","connections":-1}"#, false),
        (br#"{"status":"ok","connections":1e400}"#, false),
        (br#"["ok","mana-sync",null,1,1]"#, false),
        (br#"{"status":5}"#, false),
        (b"null", false),
        (br#"{"status":"ok"} x"#, false),
    ];
    for (body, ok) in health {
        let r = drive(Health::new(&base).unwrap(), vec![json_ok(body)]);
        assert_eq!(r.is_ok(), ok, "{}", String::from_utf8_lossy(body));
        if let Err(e) = r {
            check_error("health", &e, Expect::Decode);
        }
    }
    let key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    let vault: Vec<(u16, String, Expect)> = vec![
        (
            200,
            format!(r#"{{"masterKey":"{key}"}}"#),
            Expect::Page(0, 0),
        ),
        (200, r#"{"masterKey":5}"#.into(), Expect::Decode),
        (200, r#"{"masterKey":"AAAA"}"#.into(), Expect::Decode),
        (200, r#"{"masterKey":"!!!"}"#.into(), Expect::Decode),
        (200, format!(r#"["{key}"]"#), Expect::AnyError),
        (200, "null".into(), Expect::AnyError),
        (200, "not json".into(), Expect::Decode),
        (
            200,
            format!(r#"{{"masterKey":"{}"}}"#, "A".repeat(MIB)),
            Expect::Decode,
        ),
        (
            404,
            r#"{"code":"VAULT_NOT_INITIALISED"}"#.into(),
            Expect::Status(404),
        ),
        (404, "x".repeat(MIB), Expect::Status(404)),
        (
            500,
            format!(r#"{{"masterKey":"{key}"}}"#),
            Expect::Transient,
        ),
        (401, "".into(), Expect::Status(401)),
    ];
    for (status, body, expect) in vault {
        let r = drive(
            VaultKey::new(&config()).unwrap(),
            vec![answer(status, &[], body.as_bytes())],
        );
        match (r, expect) {
            (Ok(k), Expect::Page(..)) => assert_eq!(k, MasterKey::from_base64(key).unwrap()),
            (Ok(_), e) => panic!("{status} {}: expected {e:?}", &body[..body.len().min(40)]),
            (Err(e), expect) => {
                check_error("vault", &e, expect);
                assert!(!format!("{e:?}").contains("AAECAwQF"), "{e:?}");
            }
        }
    }
}

/// Strings that must never reach a header or a path unencoded.
const NASTY: [&str; 14] = [
    "a\rb",
    "a\nb",
    "a\0b",
    "a\r\nX-Injected: 1",
    "a b",
    "a#b",
    "a?b=c",
    "a/b",
    "..",
    ".",
    "a%2Fb",
    "\u{7f}",
    "é\u{2028}",
    "a\tb",
];

/// Every request is well formed: no control character, space or raw
/// non-ASCII in its URI or headers, and path segments stay segments.
fn check_request(what: &str, input: &str, req: &http::Request<Vec<u8>>, segments: usize) {
    let uri = req.uri().to_string();
    assert!(
        uri.bytes().all(|b| b.is_ascii_graphic()),
        "{what} {input:?}: {uri}"
    );
    let path = req.uri().path();
    assert_eq!(
        path.split('/').count(),
        segments,
        "{what} {input:?}: {path}"
    );
    for (name, value) in req.headers() {
        assert!(
            !value
                .as_bytes()
                .iter()
                .any(|b| matches!(b, b'\r' | b'\n' | 0)),
            "{what} {input:?}: {name}"
        );
    }
}

#[test]
fn hostile_request_inputs() {
    let mut count = 0;
    for nasty in NASTY {
        // App id: a path segment, encoded, or refused.
        match Pull::new(&config(), nasty, "tasks", &Cursor::EPOCH) {
            Ok(mut op) => {
                let Step::Send(req) = op.step(now()) else {
                    panic!()
                };
                check_request("app id", nasty, &req, 4);
            }
            Err(e) => check_error(&format!("app id {nasty:?}"), &e, Expect::AnyError),
        }
        match Push::new(&config(), nasty, &[], &Cursor::EPOCH) {
            Ok(mut op) => {
                let Step::Send(req) = op.step(now()) else {
                    panic!()
                };
                check_request("push app id", nasty, &req, 3);
            }
            Err(e) => check_error(&format!("push app id {nasty:?}"), &e, Expect::AnyError),
        }
        // Collection: a query value, encoded.
        let mut op = Pull::new(&config(), "todo", nasty, &Cursor::EPOCH).unwrap();
        let Step::Send(req) = op.step(now()) else {
            panic!()
        };
        check_request("collection", nasty, &req, 4);
        assert_eq!(
            req.uri().query().unwrap().matches('&').count(),
            1,
            "{nasty:?}"
        );
        // Table and id: in the body only, as JSON.
        let change = Change::hard_delete(nasty, nasty);
        let pushed = Push::new(&config(), "todo", &[change], &Cursor::EPOCH);
        if nasty.contains('\0') {
            // PostgreSQL refuses NUL: refused before anything is sent.
            let e = pushed.err().unwrap();
            assert!(e.to_string().contains("NUL"), "{e}");
        } else {
            let mut op = pushed.unwrap();
            let Step::Send(req) = op.step(now()) else {
                panic!()
            };
            check_request("table", nasty, &req, 3);
            let body: serde_json::Value = serde_json::from_slice(req.body()).unwrap();
            assert_eq!(body["changes"][0]["table"], nasty);
        }
        // Client id and token: headers, refused unless a header can hold them.
        match Config::new("https://h", "tok", nasty) {
            Ok(c) => {
                let mut op = Pull::new(&c, "todo", "tasks", &Cursor::EPOCH).unwrap();
                let Step::Send(req) = op.step(now()) else {
                    panic!()
                };
                check_request("client id", nasty, &req, 4);
            }
            Err(e) => check_error("client id", &e, Expect::AnyError),
        }
        match Config::new("https://h", format!("tok{nasty}"), "c") {
            Ok(c) => {
                let mut op = Pull::new(&c, "todo", "tasks", &Cursor::EPOCH).unwrap();
                let Step::Send(req) = op.step(now()) else {
                    panic!()
                };
                check_request("token", nasty, &req, 4);
            }
            Err(e) => {
                check_error("token", &e, Expect::AnyError);
                assert!(!e.to_string().contains(nasty) || nasty.len() < 3);
            }
        }
        // Base URL: refused, or a clean prefix.
        for url in [
            format!("https://h/{nasty}"),
            format!("https://h{nasty}"),
            format!("https://{nasty}@h"),
        ] {
            match Config::new(&url, "tok", "c") {
                Ok(c) => {
                    let mut op = Pull::new(&c, "todo", "tasks", &Cursor::EPOCH).unwrap();
                    let Step::Send(req) = op.step(now()) else {
                        panic!()
                    };
                    let uri = req.uri().to_string();
                    assert!(uri.bytes().all(|b| b.is_ascii_graphic()), "{url:?}: {uri}");
                }
                Err(e) => check_error(&format!("base url {url:?}"), &e, Expect::AnyError),
            }
            count += 1;
        }
        count += 6;
    }
    assert!(count >= 100, "{count}");
}

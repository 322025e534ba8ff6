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

// Issue 20, causes 4 and 5: one verdict per change, whichever reading
// decides it, and the nesting limit (127 levels, the change counted) the
// same in every reading, and what is kept reads back through serde_json.

/// `levels` nested arrays around `1`.
fn nested(levels: usize) -> String {
    format!("{}1{}", "[".repeat(levels), "]".repeat(levels))
}

fn page_of(change: &str) -> mana_sync_core::SyncResponse {
    let body = format!(
        r#"{{"serverChanges":[{change}],"syncedUntil":"2026-11-24T22:21:44.5Z","hasMore":false}}"#
    );
    serde_json::from_str(&body).unwrap()
}

#[test]
fn an_unknown_member_never_changes_the_verdict() {
    // The same change, on the fast path (plain), and on the full reading
    // (a null field value; a duplicate member): the member the client does
    // not read is only checked to be JSON, so it keeps each one.
    let bases = [
        r#""table":"t","id":"1","op":"delete""#,
        r#""table":"t","id":"1","op":"update","fields":{"a":{"value":null,"at":""}}"#,
        r#""table":"u","table":"t","id":"1","op":"delete""#,
    ];
    let deep = nested(300);
    let hostile = [
        "1e400",
        r#""\ud800""#,
        r#"["\udfff",-1e999]"#,
        deep.as_str(),
    ];
    for base in bases {
        let plain = page_of(&format!("{{{base}}}"));
        assert_eq!(plain.server_changes.len(), 1, "{base}");
        for value in hostile {
            for change in [
                format!(r#"{{{base},"extra":{value}}}"#),
                format!(r#"{{"extra":{value},{base}}}"#),
            ] {
                let p = page_of(&change);
                assert_eq!(p.server_changes.len(), 1, "{change}: {:?}", p.skipped);
                assert!(p.skipped.is_empty(), "{change}");
                assert_eq!(p.server_changes.to_vec(), plain.server_changes.to_vec());
            }
        }
    }
}

#[test]
fn exactly_127_levels_read_and_128_are_skipped_saying_so() {
    let limit = mana_sync_core::limits::MAX_DEPTH;
    assert_eq!(limit, 127);
    // The change is level 1 and `data` level 2: `levels` counts them all.
    let change = |levels: usize, extra: &str| {
        format!(
            r#"{{"table":"t","id":"d","op":"insert","data":{{"x":{}}}{extra}}}"#,
            nested(levels - 2)
        )
    };
    for extra in ["", r#","fields":{"a":{"value":null}}"#, r#","id":"d""#] {
        let at = page_of(&change(limit, extra));
        assert_eq!(at.server_changes.len(), 1, "{extra}: {:?}", at.skipped);
        let read = at.server_changes.to_vec();
        let mut x = &read[0].data.as_ref().unwrap()["x"];
        let mut depth = 0;
        while let Some(inner) = x.get(0) {
            depth += 1;
            x = inner;
        }
        assert_eq!(depth, limit - 2, "{extra}");
        let text = serde_json::to_string(&read[0]).unwrap();
        assert_eq!(serde_json::from_str::<Change>(&text).unwrap(), read[0]);
        let beyond = page_of(&change(limit + 1, extra));
        assert!(beyond.server_changes.is_empty(), "{extra}");
        let reason = &beyond.skipped[0].reason;
        assert!(
            reason.contains("deeper than 127 levels"),
            "{extra}: {reason}"
        );
    }
}

/// A value nested `levels` deep, built and later taken apart without
/// recursion (dropping it whole would recurse once a level).
fn deep_value(levels: usize) -> Value {
    let mut v = json!(1);
    for _ in 0..levels {
        v = Value::Array(vec![v]);
    }
    v
}

fn dismantle(mut v: Value) {
    while let Value::Array(mut items) = v {
        v = items.pop().unwrap_or(Value::Null);
    }
}

// Issue 20, cause 8: no walk over a caller's value recurses without bound.
#[test]
fn a_value_nested_10000_deep_is_refused_not_a_stack_overflow() {
    use mana_sync_core::Patch;
    use std::collections::BTreeMap;
    let limit = mana_sync_core::limits::MAX_DEPTH;
    let deep = deep_value(10_000);
    let e = Patch::<BTreeMap<String, Value>>::new()
        .set("x", &deep)
        .unwrap_err();
    assert!(matches!(e, Error::InvalidRequest { .. }), "{e}");
    assert!(e.to_string().contains("deeper than 127"), "{e}");
    // The change pushed is refused alike.
    let change = Change::insert("t", "1", json!({}).as_object().unwrap().clone());
    let mut change = change;
    change.data.as_mut().unwrap().insert("x".into(), deep);
    let Err(e) = Push::new(
        &config(),
        "todo",
        std::slice::from_ref(&change),
        &Cursor::EPOCH,
    ) else {
        panic!("a change nested 10,000 deep was taken");
    };
    assert!(e.to_string().contains("deeper than 127"), "{e}");
    let x = change.data.as_mut().unwrap().remove("x").unwrap();
    // Encrypting it is refused; the wire form of any depth is written, and
    // refused on reading.
    let key = MasterKey::from_bytes(&[7; 32]).unwrap();
    let mut record = serde_json::Map::new();
    record.insert("x".into(), x);
    let e = mana_sync_core::crypto::encrypt_fields(
        &key,
        &mut record,
        &["x"],
        &mut mana_sync_core::crypto::OsRng,
    )
    .unwrap_err();
    assert_eq!(e, mana_sync_core::crypto::CryptoError::TooDeep);
    assert!(e.to_string().contains("deeper than 127"), "{e}");
    let x = record.remove("x").unwrap();
    let iv = mana_sync_core::crypto::Iv::from_bytes([1; 12]);
    let sealed = mana_sync_core::crypto::encrypt_value(&key, &iv, &x);
    let e = mana_sync_core::crypto::decrypt_value(&key, &sealed).unwrap_err();
    assert_eq!(e, mana_sync_core::crypto::CryptoError::TooDeep);
    dismantle(x);
    // Exactly the limit is taken.
    let at = deep_value(limit);
    Patch::<BTreeMap<String, Value>>::new()
        .set("x", &at)
        .unwrap();
    let beyond = deep_value(limit + 1);
    assert!(Patch::<BTreeMap<String, Value>>::new()
        .set("x", &beyond)
        .is_err());
}

// Issue 20, cause 9: the push's NUL check writes one path, the one found;
// before, it wrote every ancestor's path for every element (954 MB and
// elements × depth steps for a 1 MB change).

/// The change of a NUL check: 1 MB of short strings at the bottom of 120
/// levels, the NUL last; or 100 levels of objects each named by 100,000
/// characters (a 10 MB change), the NUL in the last name.
fn nul_case(wide: bool) -> (Change, &'static str) {
    let value = if wide {
        let mut items: Vec<Value> = (0..200_000).map(|_| json!("x")).collect();
        items.push(json!("a\u{0}b"));
        let mut v = Value::Array(items);
        for _ in 0..120 {
            v = Value::Array(vec![v]);
        }
        v
    } else {
        let name = "n".repeat(100_000);
        let mut v = json!({"\u{0}": 1});
        for _ in 0..100 {
            v = json!({ name.clone(): v });
        }
        v
    };
    let mut data = serde_json::Map::new();
    data.insert("v".into(), value);
    let start = if wide {
        "`data.v[0][0][0][0]"
    } else {
        "`data.v.nnnnnnnn"
    };
    (Change::insert("t", "1", data), start)
}

fn nul_check(wide: bool) {
    let (change, start) = nul_case(wide);
    let Err(e) = Push::new(&config(), "todo", &[change], &Cursor::EPOCH) else {
        panic!("a NUL was pushed");
    };
    let shown = e.to_string();
    assert!(shown.contains("NUL") && shown.contains(start), "{shown}");
    assert!(shown.len() < 1000, "{}", shown.len());
}

#[test]
fn the_nul_check_of_a_wide_deep_change_writes_only_the_path_found() {
    nul_check(true);
    nul_check(false);
}

/// The deep check in a child process held to 600 MB of address space (the
/// changes take about 30): writing every ancestor's path of the deep one
/// needs 500 MB live, and fails there. Linux only (`ulimit -v`).
#[test]
#[cfg(target_os = "linux")]
fn the_nul_check_memory_is_linear_in_the_change() {
    if std::env::var_os("MANA_NUL_CHILD").is_some() {
        nul_check(false);
        return;
    }
    let me = std::env::current_exe().unwrap();
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(r#"ulimit -v 600000 && exec "$0" --exact the_nul_check_memory_is_linear_in_the_change --test-threads=1"#)
        .arg(me)
        .env("MANA_NUL_CHILD", "1")
        .status()
        .unwrap();
    assert!(status.success(), "{status}");
}

// Issue 20, cause 6: what a Timestamp writes, it reads back, for every
// instant it holds; it holds none it cannot write (before year 0 UTC).
fn written_forms_read_back(t: Timestamp) {
    let shown = t.to_string();
    let back = Timestamp::parse(&shown).unwrap_or_else(|e| panic!("{shown}: {e}"));
    assert_eq!(back.unix_millis(), t.unix_millis(), "{shown}");
    let precise = t.to_rfc3339_precise();
    assert_eq!(Timestamp::parse(&precise).ok(), Some(t), "{precise}");
    let cursor = Cursor::from(t);
    assert_eq!(Cursor::parse(cursor.as_str()).unwrap().timestamp(), t);
    let stamp = serde_json::to_string(&mana_sync_core::Stamp::At(t)).unwrap();
    let read: mana_sync_core::Stamp = serde_json::from_str(&stamp).unwrap();
    // A stamp is written to the millisecond, as the browser writes it.
    let read = read.timestamp().map(Timestamp::unix_millis);
    assert_eq!(read, Some(t.unix_millis()), "{stamp}");
    // A saved replica holding it loads back.
    let mut replica = Replica::new();
    let mut change = Change::update("t", "1");
    change.fields = Some([("f".to_owned(), mana_sync_core::FieldChange::new(1, t))].into());
    replica.apply(&change, t);
    let saved = serde_json::to_string(&replica).unwrap();
    let loaded: Replica = serde_json::from_str(&saved).unwrap_or_else(|e| panic!("{saved}: {e}"));
    assert_eq!(serde_json::to_string(&loaded).unwrap(), saved);
}

proptest::proptest! {
    #[test]
    fn every_instant_held_is_written_in_a_form_it_reads(
        nanos in Timestamp::MIN.unix_nanos()..=Timestamp::MAX.unix_nanos()
    ) {
        written_forms_read_back(Timestamp::from_unix_nanos(nanos).unwrap());
    }
}

#[test]
fn instants_before_year_zero_are_not_held() {
    for t in [Timestamp::MIN, Timestamp::MAX, Timestamp::UNIX_EPOCH] {
        written_forms_read_back(t);
    }
    let before = Timestamp::MIN.unix_nanos() - 1;
    assert_eq!(Timestamp::from_unix_nanos(before), None);
    assert_eq!(
        Timestamp::from_unix_millis(Timestamp::MIN.unix_millis() - 1),
        None
    );
    assert_eq!(
        Timestamp::MIN.checked_sub(std::time::Duration::from_nanos(1)),
        None
    );
    // Year 0 with a positive offset is year -1 in UTC.
    let e = Timestamp::parse("0000-01-01T00:00:00+01:00").unwrap_err();
    assert!(e.to_string().contains("before 0000-01-01"), "{e}");
    assert!(Cursor::parse("0000-01-01T00:59:59.999999999+01:00").is_err());
    written_forms_read_back(Timestamp::parse("0000-01-01T01:00:00+01:00").unwrap());
}

/// Issue 20, cause 7: saved state reads only the object forms it writes.
/// serde's derived reading of a struct also takes a JSON array of its
/// members in order; every saved type refuses that form, at the top and
/// nested, and still reads the object form.
#[test]
fn saved_state_reads_objects_only() {
    use mana_sync_core::engine::{CollectionState, OutboxEntry};
    use mana_sync_core::fold::{FieldState, Record, Seen};

    fn refused<T: serde::de::DeserializeOwned>(text: &str, expected: &str) {
        match serde_json::from_str::<T>(text) {
            Ok(_) => panic!("{text} was read as {}", std::any::type_name::<T>()),
            Err(e) => assert!(
                e.to_string().contains(expected),
                "{text}: {e} (expected it to name {expected:?})"
            ),
        }
    }
    fn read<T: serde::de::DeserializeOwned>(text: &str) {
        if let Err(e) = serde_json::from_str::<T>(text) {
            panic!("{text} should read as {}: {e}", std::any::type_name::<T>());
        }
    }

    // The object forms, as written.
    let mut replica = Replica::new();
    let change = Change::update("tasks", "t-1").with_field("title", "x", now());
    replica.apply(&change, now());
    let saved = serde_json::to_string(&replica).unwrap();
    assert_eq!(serde_json::from_str::<Replica>(&saved).unwrap(), replica);
    read::<Record>(r#"{"id":"t-1","fields":{"a":{"value":1,"at":""}}}"#);
    read::<FieldState>(r#"{"value":1,"at":""}"#);
    read::<Seen>(r#"{}"#);
    read::<CollectionState>(r#"{"cursor":null,"seen":{}}"#);

    // The array forms serde's derive would have taken.
    refused::<Replica>(r#"[{}, {}, 0, {}, {}, 2000]"#, "saved replica");
    refused::<Record>(r#"["t-1", {}]"#, "saved record");
    refused::<FieldState>(r#"[1, ""]"#, "saved field");
    refused::<Seen>(r#"[{}, {}]"#, "delivered-change memory");
    refused::<CollectionState>(r#"[null, {}]"#, "saved collection state");
    let entry = format!(
        r#"[1, {}, "2026-01-01T00:00:00Z"]"#,
        serde_json::to_string(&change).unwrap()
    );
    refused::<OutboxEntry>(&entry, "saved outbox entry");
    // Nested: a record, a field, a memory and a tombstone inside a replica.
    refused::<Replica>(r#"{"tables":{"tasks":{"t-1":["t-1",{}]}}}"#, "saved record");
    refused::<Replica>(
        r#"{"tables":{"tasks":{"t-1":{"id":"t-1","fields":{"a":[1,""]}}}}}"#,
        "saved field",
    );
    refused::<Replica>(
        r#"{"tables":{},"seen":{"tasks":[{},{}]}}"#,
        "delivered-change memory",
    );
    refused::<Replica>(
        r#"{"tables":{},"tombstones":{"tasks":{"t-1":[true,{}]}}}"#,
        "saved tombstone",
    );
    // The wire types, likewise.
    refused::<Change>(r#"[null, null, "tasks", "t-1", "insert"]"#, "change object");
    refused::<mana_sync_core::Health>(r#"["ok"]"#, "health object");
}

/// Issue 20, cause 8 inside the fold: a change a caller built 10,000 levels
/// deep is dropped by the fold (and hashed by the de-duplication) without
/// copying, comparing or writing the value recursively, on a thread with a
/// 2 MiB stack (serde_json's own clone or drop of such a value would not
/// fit there). The change at the limit is still folded.
#[test]
fn the_fold_drops_a_change_nested_10000_deep_without_recursing() {
    use mana_sync_core::fold::{Applied, SeenKey, Slot};
    let run = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(|| {
            let at = now();
            let mut update = Change::update("t", "1").with_field("x", deep_value(10_000), at);
            let mut insert = Change::insert("t", "2", serde_json::Map::new());
            insert
                .data
                .as_mut()
                .unwrap()
                .insert("x".into(), deep_value(10_000));
            let mut replica = Replica::new();
            for change in [&update, &insert] {
                match replica.apply(change, at) {
                    Applied::Dropped(why) => assert!(why.contains("deeper than 127"), "{why}"),
                    other => panic!("a change nested 10,000 deep was folded: {other:?}"),
                }
                let (slot, applied) = Slot::fold(None, change);
                assert!(slot.is_none() && matches!(applied, Applied::Dropped(_)));
                // Its content key is computed without writing it whole.
                let key = SeenKey::content_of(change);
                assert_eq!(key, SeenKey::content_of(change));
            }
            assert_eq!(replica.records("t").count(), 0);
            let x = update.fields.as_mut().unwrap().remove("x").unwrap().value;
            dismantle(x);
            dismantle(insert.data.as_mut().unwrap().remove("x").unwrap());
            // The deepest change a server could send (127 levels in all:
            // the change, `fields`, `{value, at}`, then 124 in the value)
            // folds.
            let limit = mana_sync_core::limits::MAX_DEPTH;
            let deepest = Change::update("t", "3").with_field("x", deep_value(limit - 3), at);
            assert!(matches!(replica.apply(&deepest, at), Applied::Applied(_)));
            let beyond = Change::update("t", "4").with_field("x", deep_value(limit - 2), at);
            assert!(matches!(replica.apply(&beyond, at), Applied::Dropped(_)));
        })
        .unwrap()
        .join();
    assert!(run.is_ok(), "the fold panicked");
}

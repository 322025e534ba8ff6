//! The in-memory server's rules, driven with raw `http::Request` values:
//! the statuses and texts of docs/PROTOCOL.md and the captures, byte for byte.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use http::Method;
use mana_sync_core::Timestamp;
use mana_sync_testkit::{token_with_claims, ManualClock, MemoryServer, PUSH_RESPONSE_CAP};
use serde_json::{json, Value};
use support::{insert, json, plain, pull, push, request, summary, text, with_authorization, USER};

fn ts(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

#[test]
fn every_400_text() {
    let s = MemoryServer::deterministic();
    let bad = |body: &str| {
        summary(&s.handle(request(
            Method::POST,
            "/sync/todo",
            Some(USER),
            Some("a"),
            body,
        )))
    };
    let change = |extra: Value| {
        let mut c = json!({"table": "t", "id": "1", "op": "insert"});
        c.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        c
    };
    let body = |changes: Vec<Value>| json!({"clientId": "a", "changes": changes}).to_string();
    assert_eq!(
        bad(&body(vec![
            change(json!({})),
            change(json!({"op": "upsert"}))
        ])),
        plain(400, "invalid op \"upsert\" in change 1")
    );
    assert_eq!(
        bad(&body(vec![change(json!({"op": "up\"sert"}))])),
        plain(400, r#"invalid op "up\"sert" in change 0"#)
    );
    assert_eq!(
        bad(&body(vec![change(json!({"op": null}))])),
        plain(400, r#"invalid op "" in change 0"#)
    );
    assert_eq!(
        bad(&body(vec![change(json!({"id": ""}))])),
        plain(400, "missing table or id in change 0")
    );
    assert_eq!(
        bad(&body(vec![change(json!({"table": ""}))])),
        plain(400, "missing table or id in change 0")
    );
    assert_eq!(
        bad(r#"{"schemaVersion": 2, "changes": []}"#),
        plain(400, "unsupported schemaVersion 2 (max 1)")
    );
    assert_eq!(
        bad(r#"{"clientId": "a", "changes": ["#),
        plain(400, "invalid JSON: unexpected EOF")
    );
    assert_eq!(bad(""), plain(400, "invalid JSON: EOF"));
    assert_eq!(
        bad("{\"changes\": [}"),
        plain(
            400,
            "invalid JSON: invalid character '}' looking for beginning of value"
        )
    );
    assert_eq!(
        bad(r#"{"changes": [{"table": 1}]}"#),
        plain(
            400,
            "invalid JSON: json: cannot unmarshal number into Go struct field Change.changes.table of type string"
        )
    );
    assert_eq!(
        summary(&s.handle(pull("a", "collection=tasks"))),
        plain(400, "missing collection or since parameter")
    );
    assert_eq!(
        summary(&s.handle(pull("a", "since=1970-01-01T00:00:00Z"))),
        plain(400, "missing collection or since parameter")
    );
    assert_eq!(
        summary(&s.handle(pull("a", "collection=tasks&since="))),
        plain(400, "missing collection or since parameter")
    );
    assert_eq!(
        s.stored_count(USER),
        0,
        "a refused batch stores nothing, not even its valid changes"
    );
}

#[test]
fn every_401_and_the_402() {
    let clock = ManualClock::new(ts("2026-01-01T00:00:00Z"));
    let s = MemoryServer::with_clock(clock.clone());
    let pull_uri = "/sync/todo/pull?collection=t&since=x";
    let refused = |auth: Option<&str>| {
        let r = match auth {
            Some(a) => s.handle(with_authorization(Method::GET, pull_uri, a)),
            None => s.handle(request(Method::GET, pull_uri, None, Some("c"), Vec::new())),
        };
        summary(&r)
    };
    let malformed = |why: &str| {
        plain(
            401,
            &format!("unauthorized: parse token: token is malformed: {why}"),
        )
    };
    assert_eq!(
        refused(None),
        plain(401, "unauthorized: no authorization header")
    );
    assert_eq!(
        refused(Some("Basic dTpw")),
        plain(401, "unauthorized: no authorization header")
    );
    assert_eq!(
        refused(Some("Bearer not-a-jwt")),
        malformed("token contains an invalid number of segments")
    );
    assert_eq!(
        refused(Some("Bearer e30.!.sig")),
        malformed("could not base64 decode claim: illegal base64 data at input byte 0")
    );
    assert_eq!(
        refused(Some("Bearer e30.bm90IGpzb24.c2ln")),
        malformed(
            "could not JSON decode claim: invalid character 'o' in literal null (expecting 'u')"
        )
    );
    let no_sub = token_with_claims(&json!({"iss": "x"}));
    assert_eq!(
        refused(Some(&format!("Bearer {no_sub}"))),
        plain(401, "unauthorized: missing sub claim")
    );
    // exp is checked against the server's clock.
    let exp = ts("2026-01-01T01:00:00Z").unix_millis() / 1000;
    let expiring = format!(
        "Bearer {}",
        token_with_claims(&json!({"sub": USER, "exp": exp}))
    );
    assert_eq!(refused(Some(&expiring)).0, 200);
    clock.advance(Duration::from_secs(3600));
    assert_eq!(
        refused(Some(&expiring)),
        plain(
            401,
            "unauthorized: parse token: token has invalid claims: token is expired"
        )
    );

    // 402 once the token is accepted, for push and pull alike.
    s.set_sync_active(USER, false);
    let payment = (
        402,
        "application/json".to_owned(),
        "{\"error\":\"sync_inactive\",\"message\":\"Cloud Sync ist nicht aktiv. Aktiviere Sync in den Einstellungen.\"}\n"
            .to_owned(),
    );
    assert_eq!(
        summary(&s.handle(pull("c", "collection=t&since=x"))),
        payment
    );
    assert_eq!(
        summary(&s.handle(push("c", &json!({"changes": []})))),
        payment
    );
    assert_eq!(
        refused(None).0,
        401,
        "a refused token is 401 even for an inactive user"
    );
    assert_eq!(
        summary(&s.handle(push("c", &json!({"changes": [{"op": "bad"}]})))).0,
        402,
        "402 comes before the body is read"
    );
    s.set_sync_active(USER, true);
    assert_eq!(s.handle(pull("c", "collection=t&since=x")).status(), 200);
}

#[test]
fn routes_methods_and_paths() {
    let s = MemoryServer::deterministic();
    let r = s.handle(request(
        Method::POST,
        "/sync/todo/pull?collection=t&since=x",
        Some(USER),
        Some("c"),
        "{}",
    ));
    assert_eq!(summary(&r), plain(405, "Method Not Allowed"));
    assert_eq!(r.headers()["allow"], "GET, HEAD");
    let r = s.handle(request(
        Method::GET,
        "/sync/todo",
        Some(USER),
        Some("c"),
        "",
    ));
    assert_eq!(
        (r.status().as_u16(), &r.headers()["allow"]),
        (405, &"POST".parse::<http::HeaderValue>().unwrap())
    );
    assert_eq!(
        s.handle(request(Method::PUT, "/health", None, None, ""))
            .status(),
        405
    );
    for path in [
        "/nope",
        "/sync/",
        "/sync",
        "/",
        "/sync/todo/pull/x",
        "/sync/todo/stream2",
    ] {
        let r = s.handle(request(Method::GET, path, Some(USER), Some("c"), ""));
        assert_eq!(summary(&r), plain(404, "404 page not found"), "{path}");
    }
    // ServeMux cleans the path and redirects to the clean one.
    let r = s.handle(request(
        Method::POST,
        "/sync//todo",
        Some(USER),
        Some("c"),
        "{}",
    ));
    assert_eq!(
        (r.status().as_u16(), &r.headers()["location"]),
        (301, &"/sync/todo".parse::<http::HeaderValue>().unwrap())
    );
    assert!(r.body().is_empty(), "no body for a POST redirect");
    let r = s.handle(request(
        Method::GET,
        "/sync/x/../todo/pull?collection=t&since=x",
        Some(USER),
        None,
        "",
    ));
    assert_eq!(
        r.headers()["location"],
        "/sync/todo/pull?collection=t&since=x"
    );
    assert_eq!(
        text(&r),
        "<a href=\"/sync/todo/pull?collection=t&amp;since=x\">Moved Permanently</a>.\n\n"
    );
    // A malformed escape fails the request line itself.
    let r = s.handle(request(
        Method::GET,
        "/sync/a%zz/pull",
        Some(USER),
        None,
        "",
    ));
    assert_eq!((r.status().as_u16(), text(&r)), (400, "400 Bad Request"));
    // Health and metrics need no token; HEAD is GET without a body.
    let r = s.handle(request(Method::GET, "/health", None, None, ""));
    assert_eq!(
        summary(&r),
        (
            200,
            "application/json".into(),
            "{\"connections\":0,\"service\":\"mana-sync\",\"status\":\"ok\",\"timestamp\":\"2026-01-01T00:00:00Z\",\"users\":0}\n"
                .into()
        )
    );
    let r = s.handle(request(Method::HEAD, "/health", None, None, ""));
    assert_eq!((r.status().as_u16(), r.body().len()), (200, 0));
    let r = s.handle(request(Method::GET, "/metrics", None, None, ""));
    assert!(text(&r).contains("mana_sync_connections_total 0\n"));
    // Every request is recorded, as sent.
    let seen = s.requests();
    assert_eq!(seen.len(), s.request_count());
    assert_eq!(seen[0].method, Method::POST);
    assert_eq!(seen[0].uri, "/sync/todo/pull?collection=t&since=x");
    assert_eq!(seen[0].client_id.as_deref(), Some("c"));
    s.clear_requests();
    assert_eq!(s.request_count(), 0);
}

#[test]
fn changes_come_back_as_the_server_writes_them() {
    let s = MemoryServer::deterministic();
    let changes = json!([
        {"table": "tasks", "id": "t-1", "op": "insert", "spaceId": "s-1", "origin": "agent",
         "actor": {"missionId": "m-1", "kind": "ai"},
         "data": {"z": 1, "a": {"y": 2.0, "b": [{"d": 1, "c": 2}]}, "html": "<b>&"}},
        {"table": "tasks", "id": "t-1", "op": "update", "fields": {
            "title": {"value": "legacy", "updatedAt": "2026-01-01T00:00:01.000Z"},
            "done": {"value": true, "at": "2026-01-01T00:00:02.000Z"},
            "spaceId": {"value": "s-2", "at": "2026-01-01T00:00:02.000Z"}}},
        {"table": "tasks", "id": "t-1", "op": "delete"},
        {"table": "tasks", "id": "t-2", "op": "delete", "deletedAt": "2026-01-01T00:00:03.000Z",
         "data": {"spaceId": "s-3", "x": 1}},
        {"table": "tasks", "id": "t-3", "op": "insert", "data": {}},
        {"table": "tasks", "id": "t-4", "op": "update", "data": {"a": 1}},
        {"table": "tasks", "id": "t-5", "op": "insert", "schemaVersion": 3, "deletedAt": "x", "unknown": 1},
        {"table": "notes", "id": "n-1", "op": "insert", "data": {"k": 1}},
    ]);
    let r = s.handle(push(
        "client-a",
        &json!({"clientId": "ignored", "since": "1970-01-01T00:00:00.000Z", "changes": changes}),
    ));
    let until = "2026-01-01T00:00:00.000007Z";
    assert_eq!(
        text(&r),
        format!("{{\"serverChanges\":[],\"conflicts\":[],\"syncedUntil\":\"{until}\"}}\n"),
        "the pusher's own changes are not returned"
    );
    let e = |n: u32| format!("\"eventId\":\"00000000-0000-4000-8000-00000000000{n}\"");
    let expected = [
        format!(
            r#"{{{},"schemaVersion":1,"table":"tasks","id":"t-1","op":"insert","data":{{"a":{{"b":[{{"c":2,"d":1}}],"y":2}},"html":"\u003cb\u003e\u0026","z":1}},"spaceId":"s-1","actor":{{"kind":"ai","missionId":"m-1"}},"origin":"agent"}}"#,
            e(1)
        ),
        format!(
            r#"{{{},"schemaVersion":1,"table":"tasks","id":"t-1","op":"update","fields":{{"done":{{"value":true,"at":"2026-01-01T00:00:02.000Z"}},"spaceId":{{"value":"s-2","at":"2026-01-01T00:00:02.000Z"}},"title":{{"value":"legacy","at":""}}}},"spaceId":"s-2"}}"#,
            e(2)
        ),
        format!(
            r#"{{{},"schemaVersion":1,"table":"tasks","id":"t-1","op":"delete"}}"#,
            e(3)
        ),
        format!(
            r#"{{{},"schemaVersion":1,"table":"tasks","id":"t-2","op":"delete","deletedAt":"2026-01-01T00:00:03.000Z","spaceId":"s-3"}}"#,
            e(4)
        ),
        format!(
            r#"{{{},"schemaVersion":1,"table":"tasks","id":"t-3","op":"insert"}}"#,
            e(5)
        ),
        format!(
            r#"{{{},"schemaVersion":1,"table":"tasks","id":"t-4","op":"update"}}"#,
            e(6)
        ),
        format!(
            r#"{{{},"schemaVersion":3,"table":"tasks","id":"t-5","op":"insert"}}"#,
            e(7)
        ),
    ];
    let r = s.handle(pull(
        "client-b",
        "collection=tasks&since=1970-01-01T00%3A00%3A00.000Z",
    ));
    assert_eq!(
        summary(&r),
        (
            200,
            "application/json".into(),
            format!(
                "{{\"serverChanges\":[{}],\"conflicts\":[],\"syncedUntil\":\"{until}\"}}\n",
                expected.join(",")
            )
        )
    );
    // The pusher's own pull leaves them out; the X-Client-Id header won over
    // the body's clientId.
    assert_eq!(
        json(&s.handle(pull("client-a", "collection=tasks&since=x")))["serverChanges"],
        json!([])
    );
    assert_eq!(
        json(&s.handle(pull("ignored", "collection=tasks&since=x")))["serverChanges"]
            .as_array()
            .unwrap()
            .len(),
        7
    );
    // A push answers with every table of the app, not only the pushed ones.
    let r = json(&s.handle(push("client-b", &json!({"since": "1970-01-01T00:00:00Z"}))));
    assert_eq!(r["serverChanges"].as_array().unwrap().len(), 8);
    assert_eq!(r["serverChanges"][7]["table"], "notes");
    // Without an X-Client-Id header the body's clientId counts.
    let r = s.handle(request(
        Method::POST,
        "/sync/todo",
        Some(USER),
        None,
        json!({"clientId": "client-a", "changes": []}).to_string(),
    ));
    assert_eq!(json(&r)["serverChanges"], json!([]));
    // The stored log reads the same, other apps and users apart.
    assert_eq!(s.changes(USER, "todo").len(), 8);
    assert!(s.changes(USER, "other").is_empty() && s.changes("u-2", "todo").is_empty());
}

#[test]
fn pull_pages_2500_changes_in_three() {
    let s = MemoryServer::deterministic();
    let rows: Vec<Value> = (0..2500).map(|i| insert("bulk", i)).collect();
    s.seed(USER, "todo", "seeder", &rows);
    let mut since = "1970-01-01T00%3A00%3A00.000Z".to_owned();
    let mut seen = Vec::new();
    for (n, until) in [
        (1000, "2026-01-01T00:00:00.000999Z"),
        (1000, "2026-01-01T00:00:00.001999Z"),
        (500, "2026-01-01T00:00:00.002499Z"),
    ] {
        let r = s.handle(pull("reader", &format!("collection=bulk&since={since}")));
        let page = json(&r);
        assert_eq!(page["serverChanges"].as_array().unwrap().len(), n);
        assert_eq!(
            page["syncedUntil"], until,
            "cursors keep their microseconds"
        );
        let more = text(&r).ends_with(&format!("\"syncedUntil\":\"{until}\",\"hasMore\":true}}\n"));
        assert_eq!(
            more,
            n == 1000,
            "hasMore only while more remain, omitted otherwise"
        );
        seen.extend(
            page["serverChanges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["data"]["n"].as_u64().unwrap()),
        );
        since = until.replace(':', "%3A");
    }
    assert_eq!(seen, (0..2500).collect::<Vec<u64>>());
    // The final syncedUntil is the server's clock; nothing follows it.
    let r = json(&s.handle(pull("reader", &format!("collection=bulk&since={since}"))));
    assert_eq!(r["serverChanges"], json!([]));
    // The seeder's own pull sees none of it.
    assert_eq!(
        json(&s.handle(pull("seeder", "collection=bulk&since=x")))["serverChanges"],
        json!([])
    );
}

#[test]
fn since_is_read_as_go_reads_it() {
    let s = MemoryServer::deterministic();
    s.seed(
        USER,
        "todo",
        "w",
        &[insert("t", 0), insert("t", 1), insert("t", 2)],
    );
    let count = |since: &str| {
        json(&s.handle(pull("r", &format!("collection=t&since={since}"))))["serverChanges"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(count("yesterday"), 3, "unparseable: read as 1970");
    assert_eq!(count("2026-01-01T00:00:00Z"), 2, "strictly after");
    assert_eq!(
        count("2026-01-01T00:00:00.000001Z"),
        1,
        "microseconds count"
    );
    assert_eq!(
        count("2026-01-01T01:00:00.000001%2B01:00"),
        1,
        "offsets count"
    );
    assert_eq!(count("2026-01-01T00:00:00.000Z"), 2, "the browser's form");
    assert_eq!(
        count("2026-01-01t00:00:00Z"),
        3,
        "Go refuses a lower-case t: 1970"
    );
    assert_eq!(
        count("2026-01-01T00:00:00Z&since=1970-01-01T00:00:00Z"),
        2,
        "the first value counts"
    );
}

#[test]
fn push_responses_are_capped_at_5000() {
    let s = MemoryServer::deterministic();
    let rows: Vec<Value> = (0..5200)
        .map(|i| insert(if i % 2 == 0 { "a" } else { "b" }, i))
        .collect();
    s.seed(USER, "todo", "other", &rows);
    let r = s.handle(push(
        "me",
        &json!({"clientId": "me", "since": "1970-01-01T00:00:00Z", "changes": []}),
    ));
    let page = json(&r);
    assert_eq!(
        page["serverChanges"].as_array().unwrap().len(),
        PUSH_RESPONSE_CAP
    );
    assert!(page.get("hasMore").is_none());
    assert_eq!(page["serverChanges"][0]["id"], "r-0000");
    assert_eq!(page["serverChanges"][4999]["id"], "r-4999");
    // From a later since, the rest.
    let since = "2026-01-01T00:00:00.004999Z";
    let page = json(&s.handle(push("me", &json!({"since": since}))));
    assert_eq!(page["serverChanges"].as_array().unwrap().len(), 200);
}

#[test]
fn stamps_are_strictly_increasing_microseconds() {
    let clock = ManualClock::new(ts("2026-01-01T00:00:00.123456789Z"));
    let s = MemoryServer::with_clock(clock.clone());
    let body = json!({"changes": [insert("t", 0), insert("t", 1)]});
    let r = json(&s.handle(push("a", &body)));
    // Rows at .123456 and .123457 (PostgreSQL microseconds); the clock is
    // then behind the last row, and the server's clock never is.
    assert_eq!(r["syncedUntil"], "2026-01-01T00:00:00.123457Z");
    clock.advance(Duration::from_millis(1));
    let r = json(&s.handle(push("a", &json!({"changes": [insert("t", 2)]}))));
    assert_eq!(
        r["syncedUntil"], "2026-01-01T00:00:00.124456789Z",
        "nanoseconds when it is the clock"
    );
    let page = json(&s.handle(pull("b", "collection=t&since=2026-01-01T00:00:00.123457Z")));
    assert_eq!(page["serverChanges"].as_array().unwrap().len(), 1);
    assert_eq!(page["serverChanges"][0]["id"], "r-0002");
    assert_eq!(s.now(), ts("2026-01-01T00:00:00.124456789Z"));
}

#[test]
fn injected_failure_keeps_what_was_stored() {
    let s = MemoryServer::deterministic();
    s.fail_next_push_after(2);
    let changes: Vec<Value> = (0..5).map(|i| insert("t", i)).collect();
    let r = s.handle(push("a", &json!({"changes": changes})));
    assert_eq!(
        summary(&r),
        plain(500, "failed to record change: injected failure")
    );
    assert_eq!(s.stored_count(USER), 2);
    assert_eq!(
        s.handle(push("a", &json!({"changes": changes}))).status(),
        200,
        "the switch fires once"
    );
    assert_eq!(s.stored_count(USER), 7);
    // Counted across pushes: the push that would store the 4th change fails.
    s.fail_next_push_after(3);
    assert_eq!(
        s.handle(push(
            "a",
            &json!({"changes": [insert("t", 9), insert("t", 9)]})
        ))
        .status(),
        200
    );
    assert_eq!(
        s.handle(push(
            "a",
            &json!({"changes": [insert("t", 9), insert("t", 9)]})
        ))
        .status(),
        500
    );
    assert_eq!(s.stored_count(USER), 10);
}

#[test]
fn what_postgres_refuses_is_a_500() {
    let s = MemoryServer::deterministic();
    let r = s.handle(push("a", &json!({"changes": [insert("t", 0), {"table": "t", "id": "x", "op": "insert", "data": {"s": "a\u{0}b"}}]})));
    assert_eq!(
        summary(&r),
        plain(
            500,
            "failed to record change: ERROR: unsupported Unicode escape sequence (SQLSTATE 22P05)"
        )
    );
    assert_eq!(s.stored_count(USER), 1, "the change before it was stored");
    let r = s.handle(push(
        "a",
        &json!({"changes": [{"table": "t", "id": "a\u{0}", "op": "delete"}]}),
    ));
    assert_eq!(
        summary(&r),
        plain(500, "failed to record change: ERROR: invalid byte sequence for encoding \"UTF8\": 0x00 (SQLSTATE 22021)")
    );
    let r = s.handle(request(
        Method::POST,
        "/sync/a%FF",
        Some(USER),
        Some("c"),
        json!({"changes": [insert("t", 0)]}).to_string(),
    ));
    assert_eq!(
        summary(&r),
        plain(500, "failed to record change: ERROR: invalid byte sequence for encoding \"UTF8\": 0xff (SQLSTATE 22021)")
    );
    let r = s.handle(pull("c", "collection=t%00&since=x"));
    assert_eq!(summary(&r), plain(500, "internal error"));
}

#[test]
fn a_null_field_drops_the_connection() {
    let s = MemoryServer::deterministic();
    let r = s.handle(push("a", &json!({"changes": [insert("t", 0), {"table": "t", "id": "1", "op": "update", "fields": {"x": null}}]})));
    // The real handler panics on it: no answer at all (InProcess and
    // LoopbackServer hang up), after the change before it was stored.
    assert_eq!((r.status().as_u16(), r.body().len()), (500, 0));
    assert_eq!(s.stored_count(USER), 1);
}

#[test]
fn bodies_over_10_mib() {
    let s = MemoryServer::deterministic();
    let limit = 10 * 1024 * 1024;
    let padded = |len: usize| {
        let head = r#"{"changes":[{"table":"t","id":"1","op":"insert","data":{"blob":""#;
        let tail = r#""}}]}"#;
        format!("{head}{}{tail}", "x".repeat(len - head.len() - tail.len()))
    };
    let at_limit = s.handle(request(
        Method::POST,
        "/sync/todo",
        Some(USER),
        Some("a"),
        padded(limit),
    ));
    assert_eq!(at_limit.status(), 200);
    let over = s.handle(request(
        Method::POST,
        "/sync/todo",
        Some(USER),
        Some("a"),
        padded(limit + 1),
    ));
    assert_eq!(
        summary(&over),
        plain(400, "invalid JSON: http: request body too large")
    );
    // As Go's decoder: a whole value within the limit wins over the size.
    let mut trailing = b"{\"changes\":[]}".to_vec();
    trailing.resize(limit + 10, b' ');
    assert_eq!(
        s.handle(request(
            Method::POST,
            "/sync/todo",
            Some(USER),
            Some("a"),
            trailing
        ))
        .status(),
        200
    );
    assert_eq!(s.stored_count(USER), 1);
}

#[test]
fn an_app_id_is_one_segment() {
    let s = MemoryServer::deterministic();
    for (path, app) in [
        ("/sync/a%2Fb", "a/b"),
        ("/sync/..%2Fadmin%3Fx%3D%23y", "../admin?x=#y"),
        ("/sync/%2E%2E", ".."),
        ("/sync/t%C3%BCte%20x", "tüte x"),
    ] {
        let r = s.handle(request(
            Method::POST,
            path,
            Some(USER),
            Some("c"),
            json!({"changes": [insert("t", 0)]}).to_string(),
        ));
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(s.changes(USER, app).len(), 1, "{path}");
    }
    let r = s.handle(request(
        Method::GET,
        "/sync/a%2Fb/pull?collection=t&since=x",
        Some(USER),
        Some("d"),
        "",
    ));
    assert_eq!(json(&r)["serverChanges"].as_array().unwrap().len(), 1);
    // Unencoded, `..` is a path step: the server redirects.
    let r = s.handle(request(
        Method::POST,
        "/sync/../admin",
        Some(USER),
        Some("c"),
        "{}",
    ));
    assert_eq!(
        (r.status().as_u16(), &r.headers()["location"]),
        (301, &"/admin".parse::<http::HeaderValue>().unwrap())
    );
}

#[test]
fn mounted_under_a_prefix() {
    let s = MemoryServer::deterministic().with_prefix("/api/v1/");
    assert_eq!(s.prefix(), "/api/v1");
    let r = s.handle(request(
        Method::POST,
        "/api/v1/sync/todo",
        Some(USER),
        Some("c"),
        json!({"changes": [insert("t", 0)]}).to_string(),
    ));
    assert_eq!(r.status(), 200);
    assert_eq!(
        s.handle(request(Method::GET, "/api/v1/health", None, None, ""))
            .status(),
        200
    );
    for outside in [
        "/sync/todo/pull?collection=t&since=x",
        "/api/v1x/sync/todo/pull?collection=t&since=x",
        "/api/v1",
    ] {
        let r = s.handle(request(Method::GET, outside, Some(USER), Some("d"), ""));
        assert_eq!(r.status(), 404, "{outside}");
    }
    let r = s.handle(request(
        Method::GET,
        "/api/v1/sync//todo/pull?q",
        Some(USER),
        None,
        "",
    ));
    assert_eq!(r.headers()["location"], "/api/v1/sync/todo/pull?q");
}

#[test]
fn seeded_changes_are_stored_like_pushed_ones() {
    let s = MemoryServer::deterministic();
    s.seed(USER, "todo", "w", &[json!({"table": "t", "id": "1", "op": "update", "fields": {"a": {"value": 1, "updatedAt": "x"}}})]);
    assert_eq!(
        s.changes(USER, "todo")[0]["fields"],
        json!({"a": {"value": 1, "at": ""}})
    );
    let refused = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        s.seed(
            USER,
            "todo",
            "w",
            &[json!({"table": "t", "id": "1", "op": "upsert"})],
        )
    }));
    assert!(refused.is_err());
}

/// Issue 20, cause 12: the request log is bounded. A server keeps the last
/// `DEFAULT_KEPT_REQUESTS` (or what `keep_requests` says, 0 for `serve`)
/// while still counting every request.
#[test]
fn the_request_log_keeps_only_the_last_requests() {
    let server = MemoryServer::new().keep_requests(3);
    for i in 0..10 {
        let _ = server.handle(
            http::Request::get(format!("/health?n={i}"))
                .body(Vec::new())
                .unwrap(),
        );
    }
    let kept: Vec<String> = server.requests().into_iter().map(|r| r.uri).collect();
    assert_eq!(kept, ["/health?n=7", "/health?n=8", "/health?n=9"]);
    assert_eq!(server.request_count(), 10);
    server.clear_requests();
    assert_eq!((server.requests().len(), server.request_count()), (0, 0));

    let none = MemoryServer::new().keep_requests(0);
    let _ = none.handle(http::Request::get("/health").body(Vec::new()).unwrap());
    assert_eq!((none.requests().len(), none.request_count()), (0, 1));

    // The default bound holds past its size.
    let default = MemoryServer::new();
    for _ in 0..mana_sync_testkit::DEFAULT_KEPT_REQUESTS + 5 {
        let _ = default.handle(http::Request::get("/health").body(Vec::new()).unwrap());
    }
    assert_eq!(
        default.requests().len(),
        mana_sync_testkit::DEFAULT_KEPT_REQUESTS
    );
}

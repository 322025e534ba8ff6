//! The in-memory server's own rules, with raw requests: the texts and
//! statuses of PROTOCOL.md and the captures.

#![allow(clippy::unwrap_used)]

use http::{Method, Request, Response};
use mana_sync_testkit::{token_for, MemoryServer, PUSH_RESPONSE_CAP};
use serde_json::{json, Value};

fn request(
    method: Method,
    uri: &str,
    user: Option<&str>,
    client: &str,
    body: &[u8],
) -> Request<Vec<u8>> {
    let mut b = Request::builder()
        .method(method)
        .uri(uri)
        .header("x-client-id", client);
    if let Some(user) = user {
        b = b.header("authorization", format!("Bearer {}", token_for(user)));
    }
    b.body(body.to_vec()).unwrap()
}

fn push(server: &MemoryServer, client: &str, body: Value) -> Response<Vec<u8>> {
    server.handle(request(
        Method::POST,
        "/sync/todo",
        Some("u"),
        client,
        body.to_string().as_bytes(),
    ))
}

fn pull(server: &MemoryServer, client: &str, query: &str) -> Response<Vec<u8>> {
    server.handle(request(
        Method::GET,
        &format!("/sync/todo/pull?{query}"),
        Some("u"),
        client,
        b"",
    ))
}

fn text(r: &Response<Vec<u8>>) -> &str {
    std::str::from_utf8(r.body()).unwrap()
}

fn json_of(r: &Response<Vec<u8>>) -> Value {
    serde_json::from_slice(r.body()).unwrap()
}

#[test]
fn the_400_texts() {
    let s = MemoryServer::new();
    let cases = [
        (
            json!({"clientId": "a", "changes": [{"table": "t", "id": "1", "op": "upsert"}]}),
            "invalid op \"upsert\" in change 0\n",
        ),
        (
            json!({"clientId": "a", "changes": [{"table": "t", "id": "1", "op": "insert"}, {"table": "t", "id": "", "op": "insert"}]}),
            "missing table or id in change 1\n",
        ),
        (
            json!({"clientId": "a", "schemaVersion": 2, "changes": []}),
            "unsupported schemaVersion 2 (max 1)\n",
        ),
    ];
    for (body, want) in cases {
        let r = push(&s, "a", body);
        assert_eq!((r.status().as_u16(), text(&r)), (400, want));
        assert_eq!(r.headers()["content-type"], "text/plain; charset=utf-8");
    }
    let r = s.handle(request(
        Method::POST,
        "/sync/todo",
        Some("u"),
        "a",
        b"{\"clientId\": \"a\", \"changes\": [",
    ));
    assert_eq!(text(&r), "invalid JSON: unexpected EOF\n");
    let big = vec![b' '; 10 * 1024 * 1024 + 1];
    let r = s.handle(request(Method::POST, "/sync/todo", Some("u"), "a", &big));
    assert_eq!(
        (r.status().as_u16(), text(&r)),
        (400, "invalid JSON: http: request body too large\n")
    );
    let r = pull(&s, "a", "collection=tasks");
    assert_eq!(
        (r.status().as_u16(), text(&r)),
        (400, "missing collection or since parameter\n")
    );
    assert_eq!(
        s.stored_count("u"),
        0,
        "nothing of a refused batch is stored"
    );
}

#[test]
fn auth_payment_methods_and_paths() {
    let s = MemoryServer::new();
    let r = s.handle(request(
        Method::GET,
        "/sync/todo/pull?collection=t&since=x",
        None,
        "a",
        b"",
    ));
    assert_eq!(
        (r.status().as_u16(), text(&r)),
        (401, "unauthorized: no authorization header\n")
    );
    let r = s.handle(
        Request::get("/sync/todo/pull?collection=t&since=x")
            .header("authorization", "Bearer nope")
            .body(Vec::new())
            .unwrap(),
    );
    assert_eq!(r.status(), 401);
    assert!(text(&r).starts_with("unauthorized: parse token: token is malformed"));
    s.set_sync_active("u", false);
    let r = pull(&s, "a", "collection=t&since=1970-01-01T00:00:00Z");
    assert_eq!(r.status(), 402);
    assert_eq!(json_of(&r)["error"], "sync_inactive");
    s.set_sync_active("u", true);
    let r = s.handle(request(
        Method::POST,
        "/sync/todo/pull",
        Some("u"),
        "a",
        b"{}",
    ));
    assert_eq!(
        (r.status().as_u16(), text(&r)),
        (405, "Method Not Allowed\n")
    );
    let r = s.handle(request(Method::GET, "/nope", Some("u"), "a", b""));
    assert_eq!(r.status(), 404);
    let r = s.handle(request(Method::GET, "/health", None, "a", b""));
    assert_eq!(json_of(&r)["status"], "ok");
}

#[test]
fn stored_changes_come_back_as_the_server_writes_them() {
    let s = MemoryServer::new();
    let body = json!({"clientId": "a", "since": "2026-01-01T00:00:00Z", "changes": [
        {"table": "tasks", "id": "t-1", "op": "insert", "data": {"z": 1, "a": {"y": 2, "b": 3}, "spaceId": "s-9"}},
        {"table": "tasks", "id": "t-1", "op": "update", "fields": {"title": {"value": "legacy", "updatedAt": "2026-01-01T00:00:01.000Z"}}},
        {"table": "tasks", "id": "t-1", "op": "delete"},
        {"table": "tasks", "id": "t-2", "op": "delete", "deletedAt": "2026-01-01T00:00:02.000Z", "origin": "agent"},
    ]});
    assert_eq!(push(&s, "a", body).status(), 200);
    let r = pull(&s, "b", "collection=tasks&since=yesterday");
    let changes = json_of(&r)["serverChanges"].clone();
    assert_eq!(
        changes,
        json!([
            {"eventId": "00000000-0000-4000-8000-000000000001", "schemaVersion": 1, "table": "tasks", "id": "t-1", "op": "insert",
             "data": {"a": {"b": 3, "y": 2}, "spaceId": "s-9", "z": 1}, "spaceId": "s-9"},
            {"eventId": "00000000-0000-4000-8000-000000000002", "schemaVersion": 1, "table": "tasks", "id": "t-1", "op": "update",
             "fields": {"title": {"at": "", "value": "legacy"}}},
            {"eventId": "00000000-0000-4000-8000-000000000003", "schemaVersion": 1, "table": "tasks", "id": "t-1", "op": "delete"},
            {"eventId": "00000000-0000-4000-8000-000000000004", "schemaVersion": 1, "table": "tasks", "id": "t-2", "op": "delete",
             "deletedAt": "2026-01-01T00:00:02.000Z", "origin": "agent"},
        ])
    );
    // Member order as the server writes it.
    assert!(text(&r).starts_with("{\"serverChanges\":[{\"eventId\":"));
    // The pusher's own pull leaves them out.
    assert_eq!(
        json_of(&pull(
            &s,
            "a",
            "collection=tasks&since=1970-01-01T00:00:00Z"
        ))["serverChanges"],
        json!([])
    );
}

#[test]
fn pages_of_1000_with_microsecond_cursors() {
    let s = MemoryServer::new();
    let rows: Vec<Value> = (0..2500)
        .map(|i| json!({"table": "bulk", "id": format!("r-{i}"), "op": "insert", "data": {"n": i}}))
        .collect();
    s.seed("u", "todo", "seeder", &rows);
    let mut since = "1970-01-01T00%3A00%3A00Z".to_owned();
    let mut seen = Vec::new();
    for (n, more, until) in [
        (1000, true, "2026-01-01T00:00:00.000999Z"),
        (1000, true, "2026-01-01T00:00:00.001999Z"),
        (500, false, "2026-01-01T00:00:00.002499Z"),
    ] {
        let page = json_of(&pull(
            &s,
            "reader",
            &format!("collection=bulk&since={since}"),
        ));
        assert_eq!(page["serverChanges"].as_array().unwrap().len(), n);
        assert_eq!(page.get("hasMore").is_some(), more);
        assert_eq!(page["syncedUntil"], until);
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
}

#[test]
fn push_responses_are_capped_at_5000() {
    let s = MemoryServer::new();
    let rows: Vec<Value> = (0..5200)
        .map(|i| json!({"table": "bulk", "id": format!("r-{i}"), "op": "insert", "data": {}}))
        .collect();
    s.seed("u", "todo", "other", &rows);
    let page = json_of(&push(
        &s,
        "me",
        json!({"clientId": "me", "since": "1970-01-01T00:00:00Z", "changes": []}),
    ));
    assert_eq!(
        page["serverChanges"].as_array().unwrap().len(),
        PUSH_RESPONSE_CAP
    );
    assert!(page.get("hasMore").is_none());
    assert_eq!(page["serverChanges"][0]["id"], "r-0");
}

#[test]
fn encoded_segments_and_prefixes() {
    let s = MemoryServer::new().with_prefix("/api/v1/");
    let r = s.handle(request(
        Method::POST,
        "/api/v1/sync/a%2Fb",
        Some("u"),
        "c",
        b"{\"changes\":[{\"table\":\"t\",\"id\":\"1\",\"op\":\"insert\"}]}",
    ));
    assert_eq!(r.status(), 200);
    assert_eq!(s.changes("u", "a/b").len(), 1);
    assert_eq!(
        s.handle(request(
            Method::GET,
            "/sync/a/pull?collection=t&since=x",
            Some("u"),
            "c",
            b""
        ))
        .status(),
        404
    );
}

#[test]
fn injected_failure_keeps_what_was_stored() {
    let s = MemoryServer::new();
    s.fail_next_push_after(2);
    let changes: Vec<Value> = (0..5)
        .map(|i| json!({"table": "t", "id": format!("{i}"), "op": "insert"}))
        .collect();
    let r = push(&s, "a", json!({"changes": changes}));
    assert_eq!(
        (r.status().as_u16(), text(&r)),
        (500, "failed to record change: injected failure\n")
    );
    assert_eq!(s.stored_count("u"), 2);
    assert_eq!(
        push(&s, "a", json!({"changes": changes})).status(),
        200,
        "the switch fires once"
    );
    assert_eq!(s.stored_count("u"), 7);
}

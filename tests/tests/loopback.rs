//! [`LoopbackServer`] over a raw TCP socket: real HTTP/1.1, keep-alive and
//! the connection count, the 10 MiB limit read off the wire, a handler
//! panic as a hang-up, the prefix in the base URL, and a shutdown that
//! does not hang.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::{Duration, Instant};

use mana_sync_testkit::{LoopbackServer, MemoryServer};
use serde_json::json;
use support::{auth_line, Conn, USER};

#[test]
fn keep_alive_and_the_connection_count() {
    let server = LoopbackServer::start(MemoryServer::new()).unwrap();
    let mut conn = Conn::open(server.addr());
    for _ in 0..3 {
        let r = conn.exchange("GET /health HTTP/1.1", b"").unwrap();
        assert_eq!(r.status_line, "HTTP/1.1 200 OK");
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert!(r
            .body
            .starts_with(b"{\"connections\":0,\"service\":\"mana-sync\""));
    }
    assert_eq!(server.connections_accepted(), 1, "one connection, reused");
    let mut other = Conn::open(server.addr());
    assert!(other
        .exchange("GET /nope HTTP/1.1", b"")
        .unwrap()
        .status_line
        .starts_with("HTTP/1.1 404"));
    assert_eq!(server.connections_accepted(), 2);
    assert_eq!(server.server().request_count(), 4);
}

#[test]
fn push_and_pull_over_the_wire() {
    let server = LoopbackServer::start(MemoryServer::new()).unwrap();
    let mut conn = Conn::open(server.addr());
    let body =
        json!({"changes": [{"table": "t", "id": "1", "op": "insert", "data": {"b": 1, "a": 2}}]})
            .to_string();
    let head = format!(
        "POST /sync/todo HTTP/1.1\r\n{}\r\nx-client-id: a\r\ncontent-type: application/json",
        auth_line()
    );
    let r = conn.exchange(&head, body.as_bytes()).unwrap();
    assert_eq!(r.status_line, "HTTP/1.1 200 OK");
    let head = format!(
        "GET /sync/todo/pull?collection=t&since=x HTTP/1.1\r\n{}\r\nx-client-id: b",
        auth_line()
    );
    let r = conn.exchange(&head, b"").unwrap();
    let text = String::from_utf8(r.body).unwrap();
    assert!(text.contains(r#""data":{"a":2,"b":1}"#), "{text}");
    assert!(text.ends_with("}\n"));
}

#[test]
fn the_10_mib_limit_read_off_the_wire() {
    let server = LoopbackServer::start(MemoryServer::new()).unwrap();
    let mut conn = Conn::open(server.addr());
    let head = format!(
        "POST /sync/todo HTTP/1.1\r\n{}\r\nx-client-id: a",
        auth_line()
    );
    let big = format!("{{\"changes\":[{{\"table\":\"t\",\"id\":\"1\",\"op\":\"insert\",\"data\":{{\"b\":\"{}\"}}}}]}}", "x".repeat(11 * 1024 * 1024));
    let r = conn.exchange(&head, big.as_bytes()).unwrap();
    assert_eq!(r.status_line, "HTTP/1.1 400 Bad Request");
    assert_eq!(r.body, b"invalid JSON: http: request body too large\n");
    let seen = server.server().requests();
    assert_eq!(
        seen.last().unwrap().body_len,
        big.len(),
        "the length sent, not the length read"
    );
    assert_eq!(server.server().stored_count(USER), 0);
}

#[test]
fn a_handler_panic_is_a_hang_up() {
    let server = LoopbackServer::start(MemoryServer::new()).unwrap();
    let mut conn = Conn::open(server.addr());
    let head = format!(
        "POST /sync/todo HTTP/1.1\r\n{}\r\nx-client-id: a",
        auth_line()
    );
    let body = json!({"changes": [
        {"table": "t", "id": "1", "op": "insert"},
        {"table": "t", "id": "1", "op": "update", "fields": {"x": null}},
    ]})
    .to_string();
    assert!(
        conn.exchange(&head, body.as_bytes()).is_none(),
        "no response at all"
    );
    assert_eq!(server.server().stored_count(USER), 1);
}

#[test]
fn prefix_and_base_url() {
    let server = LoopbackServer::start(MemoryServer::new().with_prefix("/api/v1")).unwrap();
    assert_eq!(
        server.base_url(),
        format!("http://{}/api/v1", server.addr())
    );
    let mut conn = Conn::open(server.addr());
    assert!(conn
        .exchange("GET /api/v1/health HTTP/1.1", b"")
        .unwrap()
        .status_line
        .ends_with("200 OK"));
    assert!(conn
        .exchange("GET /health HTTP/1.1", b"")
        .unwrap()
        .status_line
        .contains(" 404 "));
}

#[test]
fn dropping_it_does_not_hang() {
    let server = LoopbackServer::start(MemoryServer::new()).unwrap();
    let addr = server.addr();
    // An idle keep-alive connection, and one that sent half a request.
    let mut idle = Conn::open(addr);
    idle.exchange("GET /health HTTP/1.1", b"").unwrap();
    let mut half = Conn::open(addr);
    std::io::Write::write_all(
        half.stream(),
        b"POST /sync/todo HTTP/1.1\r\ncontent-length: 100\r\n\r\n{",
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(20));
    let started = Instant::now();
    drop(server);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(
        idle.exchange("GET /health HTTP/1.1", b"").is_none(),
        "connections are closed"
    );
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "the port is closed"
    );
}

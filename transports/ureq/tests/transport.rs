//! `UreqTransport` against small raw HTTP/1.1 servers on loopback: what
//! comes back, the cap, timeouts, refused connections, connection reuse.

mod support;

use std::time::Duration;

use mana_sync_ureq::BlockingTransport;
use mana_sync_ureq::{
    Config, Cursor, Error, TimeoutKind, TransportError, TransportOptions, UreqTransport,
};
use support::{assert_no_token, closed_port_url, request, Reply, Server, ENDLESS_BOUND};

const CAP: u64 = 1 << 20;

fn capped() -> UreqTransport {
    UreqTransport::new(
        TransportOptions::default()
            .max_response_bytes(CAP)
            .total_timeout(Duration::from_secs(30)),
    )
}

#[test]
fn a_json_response_comes_back_intact_with_its_headers() {
    let json = br#"{"serverChanges":[],"conflicts":[],"syncedUntil":"2026-04-23T11:18:36.123Z"}"#;
    let server = Server::start(Reply::Fixed {
        status: 200,
        headers: vec![
            ("Content-Type".into(), "application/json".into()),
            ("X-Request-Id".into(), "r-42".into()),
        ],
        body: json.to_vec(),
    });
    let sent = br#"{"changes":[]}"#;
    let url = format!("{}/sync/todo/push?x=%2F1", server.url());
    let response = capped()
        .send(request("POST", &url, sent))
        .expect("a response");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(response.headers()["x-request-id"], "r-42");
    assert_eq!(response.body(), json);

    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].target, "/sync/todo/push?x=%2F1");
    assert_eq!(seen[0].body, sent);
    assert_eq!(
        seen[0].header("authorization"),
        Some(format!("Bearer {}", support::TOKEN).as_str())
    );
    assert_eq!(seen[0].header("content-type"), Some("application/json"));
}

#[test]
fn error_statuses_are_responses_not_errors() {
    for (status, body) in [
        (500, &b"internal error"[..]),
        (404, b"404 page not found"),
        (302, b""),
    ] {
        let mut reply = Reply::fixed(status, "text/plain", body);
        if let Reply::Fixed { headers, .. } = &mut reply {
            // A redirect is reported, not followed.
            headers.push(("Location".into(), "http://127.0.0.1:9/elsewhere".into()));
        }
        let server = Server::start(reply);
        let response = capped()
            .send(request(
                "GET",
                &format!("{}/sync/health", server.url()),
                b"",
            ))
            .expect("a response");
        assert_eq!(response.status(), status);
        assert_eq!(response.body(), body);
        assert_eq!(server.seen().len(), 1);
    }
}

#[test]
fn a_body_with_a_length_is_read_into_a_buffer_of_that_size() {
    // The core keeps the buffer with the page it decodes lazily: a buffer
    // grown by doubling would hold up to twice the body for as long.
    let body = vec![b'x'; 100_000];
    let server = Server::start(Reply::fixed(200, "application/json", &body));
    let response = capped()
        .send(request("GET", &server.url(), b""))
        .expect("a response");
    assert_eq!(response.body(), &body);
    assert_eq!(response.body().capacity(), body.len());
}

#[test]
fn the_default_cap_is_not_ureqs_10_mib() {
    // ureq's `read_to_vec` alone stops at 10 MiB; the default cap is 64 MiB.
    let size = 11 << 20;
    let server = Server::start(Reply::Chunked(size));
    let response = UreqTransport::new(TransportOptions::default())
        .send(request("GET", &server.url(), b""))
        .expect("a response");
    assert_eq!(response.body().len(), size);
}

#[test]
fn a_body_of_exactly_the_cap_is_read_one_byte_more_is_too_large() {
    let options = TransportOptions::default().max_response_bytes(5000);
    let at = Server::start(Reply::Chunked(5000));
    let response = UreqTransport::new(options)
        .send(request("GET", &at.url(), b""))
        .expect("a response");
    assert_eq!(response.body().len(), 5000);

    let over = Server::start(Reply::Chunked(5001));
    match UreqTransport::new(options).send(request("GET", &over.url(), b"")) {
        Err(TransportError::TooLarge { limit: 5000 }) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_endless_body_stops_at_the_cap() {
    let server = Server::start(Reply::Endless);
    match capped().send(request("GET", &server.url(), b"")) {
        Err(TransportError::TooLarge { limit }) => assert_eq!(limit, CAP),
        other => panic!("{other:?}"),
    }
    // The client hung up right after the cap: the server wrote the cap plus
    // what the socket buffers held, far from its bound.
    let written = server.endless_written();
    assert!(written < 64 * CAP, "the server wrote {written} bytes");
    assert!(written < ENDLESS_BOUND);
}

#[test]
fn a_declared_length_over_the_cap_fails_before_reading() {
    // The server declares 1 TiB and sends nothing: only the header can make
    // the transport give up before the (long) total timeout.
    let server = Server::start(Reply::Declared(1 << 40));
    match capped().send(request("GET", &server.url(), b"")) {
        Err(TransportError::TooLarge { limit }) => assert_eq!(limit, CAP),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_closed_port_is_a_transport_error() {
    let result = capped().send(request("GET", &closed_port_url(), b""));
    match &result {
        Err(TransportError::Other { message, .. }) => assert!(!message.is_empty()),
        other => panic!("{other:?}"),
    }
    assert_no_token(&result);
}

#[test]
fn a_server_that_never_answers_times_out() {
    let server = Server::start(Reply::Silent);
    let options = TransportOptions::default().total_timeout(Duration::from_millis(300));
    let result = UreqTransport::new(options).send(request("GET", &server.url(), b""));
    match &result {
        Err(TransportError::Timeout {
            kind: TimeoutKind::Total,
            limit,
        }) => assert_eq!(*limit, Duration::from_millis(300)),
        other => panic!("{other:?}"),
    }
    assert_no_token(&result);
}

#[test]
fn a_tls_handshake_that_never_ends_is_a_connect_timeout() {
    // TCP connects at once; the server never answers the TLS hello. The
    // connect timeout covers the handshake, not just TCP.
    let server = Server::start(Reply::Silent);
    let url = server.url().replacen("http://", "https://", 1);
    let options = TransportOptions::default()
        .connect_timeout(Duration::from_millis(300))
        .total_timeout(Duration::from_secs(30));
    let result = UreqTransport::new(options).send(request("GET", &url, b""));
    match &result {
        Err(TransportError::Timeout {
            kind: TimeoutKind::Connect,
            limit,
        }) => assert_eq!(*limit, Duration::from_millis(300)),
        other => panic!("{other:?}"),
    }
    assert_no_token(&result);
}

#[test]
fn sequential_requests_reuse_one_connection() {
    let server = Server::start(Reply::fixed(200, "application/json", b"{}"));
    let transport = capped();
    for _ in 0..3 {
        let response = transport
            .send(request(
                "GET",
                &format!("{}/sync/health", server.url()),
                b"",
            ))
            .expect("a response");
        assert_eq!(response.status(), 200);
    }
    // A POST with a body, and a clone (which shares the pool), too.
    let clone = transport.clone();
    clone
        .send(request("POST", &server.url(), b"{\"changes\":[]}"))
        .expect("a response");
    let seen = server.seen();
    assert_eq!(seen.len(), 4);
    assert!(
        seen.iter().all(|s| s.connection == 0),
        "requests came on connections {:?}",
        seen.iter().map(|s| s.connection).collect::<Vec<_>>()
    );
    assert_eq!(server.accepts(), 1);
}

/// The facade over this transport: statuses reach the core, which makes
/// them errors (a non-transient one, so that no retry the core may do
/// slows the test).
#[test]
fn the_client_reports_statuses_through_the_core() {
    let server = Server::start(Reply::fixed(404, "text/plain", b"404 page not found"));
    let config = Config::new(&server.url(), support::TOKEN, "transport-test").expect("a config");
    let client =
        mana_sync_ureq::client_with(config, TransportOptions::default()).expect("a client");
    let error = client
        .pull("todo", "tasks", &Cursor::EPOCH)
        .expect_err("404 is an error");
    assert!(
        matches!(&error, Error::Rejected { status: 404, body } if body == "404 page not found"),
        "{error:?}"
    );
    assert_no_token(&error);
    assert!(!error.to_string().contains(support::TOKEN));
    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    assert!(
        seen[0].target.starts_with("/sync/todo/pull?"),
        "{}",
        seen[0].target
    );
}

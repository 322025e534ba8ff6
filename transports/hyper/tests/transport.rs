//! `HyperTransport` against small raw HTTP/1.1 servers on loopback: what
//! comes back, the cap, timeouts, refused connections, connection reuse.

mod support;

use std::time::Duration;

use mana_sync_hyper::AsyncTransport;
use mana_sync_hyper::{
    Config, Cursor, Error, HyperTransport, TimeoutKind, TransportError, TransportOptions,
};
use support::{assert_no_token, closed_port_url, request, Reply, Server, ENDLESS_BOUND};

const CAP: u64 = 1 << 20;

fn transport(options: TransportOptions) -> HyperTransport {
    HyperTransport::new(options).expect("a transport")
}

fn capped() -> HyperTransport {
    transport(
        TransportOptions::default()
            .max_response_bytes(CAP)
            .total_timeout(Duration::from_secs(30)),
    )
}

#[tokio::test]
async fn a_json_response_comes_back_intact_with_its_headers() {
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
        .await
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

#[tokio::test]
async fn error_statuses_are_responses_not_errors() {
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
            .await
            .expect("a response");
        assert_eq!(response.status(), status);
        assert_eq!(response.body(), body);
        assert_eq!(server.seen().len(), 1);
    }
}

#[tokio::test]
async fn a_body_of_exactly_the_cap_is_read_one_byte_more_is_too_large() {
    let options = TransportOptions::default().max_response_bytes(5000);
    let at = Server::start(Reply::Chunked(5000));
    let response = transport(options)
        .send(request("GET", &at.url(), b""))
        .await
        .expect("a response");
    assert_eq!(response.body().len(), 5000);

    let over = Server::start(Reply::Chunked(5001));
    match transport(options)
        .send(request("GET", &over.url(), b""))
        .await
    {
        Err(TransportError::TooLarge { limit: 5000 }) => {}
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_endless_body_stops_at_the_cap() {
    let server = Server::start(Reply::Endless);
    match capped().send(request("GET", &server.url(), b"")).await {
        Err(TransportError::TooLarge { limit }) => assert_eq!(limit, CAP),
        other => panic!("{other:?}"),
    }
    // The client hung up right after the cap: the server wrote the cap plus
    // what the socket buffers held, far from its bound.
    // hyper closes the connection from its own task: wait off the runtime.
    let written = tokio::task::spawn_blocking(move || server.endless_written())
        .await
        .expect("the waiting thread");
    assert!(written < 64 * CAP, "the server wrote {written} bytes");
    assert!(written < ENDLESS_BOUND);
}

#[tokio::test]
async fn a_declared_length_over_the_cap_fails_before_reading() {
    // The server declares 1 TiB and sends nothing: only the header can make
    // the transport give up before the (long) total timeout.
    let server = Server::start(Reply::Declared(1 << 40));
    match capped().send(request("GET", &server.url(), b"")).await {
        Err(TransportError::TooLarge { limit }) => assert_eq!(limit, CAP),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_closed_port_is_a_transport_error() {
    let result = capped().send(request("GET", &closed_port_url(), b"")).await;
    match &result {
        Err(TransportError::Other { message, .. }) => assert!(!message.is_empty()),
        other => panic!("{other:?}"),
    }
    assert_no_token(&result);
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let server = Server::start(Reply::Silent);
    let options = TransportOptions::default().total_timeout(Duration::from_millis(300));
    let result = transport(options)
        .send(request("GET", &server.url(), b""))
        .await;
    match &result {
        Err(TransportError::Timeout {
            kind: TimeoutKind::Total,
            limit,
        }) => assert_eq!(*limit, Duration::from_millis(300)),
        other => panic!("{other:?}"),
    }
    assert_no_token(&result);
}

#[tokio::test]
async fn a_tls_handshake_that_never_ends_is_a_connect_timeout() {
    // TCP connects at once; the server never answers the TLS hello. The
    // connect timeout covers the handshake, not just TCP.
    let server = Server::start(Reply::Silent);
    let url = server.url().replacen("http://", "https://", 1);
    let options = TransportOptions::default()
        .connect_timeout(Duration::from_millis(300))
        .total_timeout(Duration::from_secs(30));
    let result = transport(options).send(request("GET", &url, b"")).await;
    match &result {
        Err(TransportError::Timeout {
            kind: TimeoutKind::Connect,
            limit,
        }) => assert_eq!(*limit, Duration::from_millis(300)),
        other => panic!("{other:?}"),
    }
    assert_no_token(&result);
}

#[tokio::test]
async fn sequential_requests_reuse_one_connection() {
    let server = Server::start(Reply::fixed(200, "application/json", b"{}"));
    let transport = capped();
    for _ in 0..3 {
        let response = transport
            .send(request(
                "GET",
                &format!("{}/sync/health", server.url()),
                b"",
            ))
            .await
            .expect("a response");
        assert_eq!(response.status(), 200);
        // Let the pool take the connection back (hyper returns it from a
        // task of its own once the body is read) before asking for one.
        for _ in 0..4 {
            tokio::task::yield_now().await;
        }
    }
    let seen = server.seen();
    assert_eq!(seen.len(), 3);
    assert!(
        seen.iter().all(|s| s.connection == 0),
        "requests came on connections {:?}",
        seen.iter().map(|s| s.connection).collect::<Vec<_>>()
    );
    assert_eq!(server.accepts(), 1);
}

#[tokio::test]
async fn clones_share_the_pool() {
    let server = Server::start(Reply::fixed(200, "application/json", b"{}"));
    let first = capped();
    let second = first.clone();
    for transport in [&first, &second] {
        transport
            .send(request("GET", &server.url(), b""))
            .await
            .expect("a response");
        for _ in 0..4 {
            tokio::task::yield_now().await;
        }
    }
    assert!(server.seen().iter().all(|s| s.connection == 0));
}

/// The facade over this transport: statuses reach the core, which makes
/// them errors (a non-transient one, so that no retry the core may do
/// slows the test).
#[tokio::test]
async fn the_client_reports_statuses_through_the_core() {
    let server = Server::start(Reply::fixed(404, "text/plain", b"404 page not found"));
    let config = Config::new(&server.url(), support::TOKEN, "transport-test").expect("a config");
    let client =
        mana_sync_hyper::client_with(config, TransportOptions::default()).expect("a client");
    let error = client
        .pull("todo", "tasks", &Cursor::EPOCH)
        .await
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

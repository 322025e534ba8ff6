//! What only a network transport can show: the size cap enforced while
//! reading (against a body without end), timeouts, refused connections, and
//! a client used from spawned tasks.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use mana_sync_core::{Config, Cursor, Error, TransportOptions};
use mana_sync_testkit::{token_for, EndlessServer, LoopbackServer, MemoryServer};

const CAP: u64 = 1 << 20;

fn options() -> TransportOptions {
    TransportOptions::default()
        .max_response_bytes(CAP)
        .total_timeout(Duration::from_secs(30))
}

fn config(base: &str) -> Config {
    Config::new(base, token_for("u-1"), "cap-test").unwrap()
}

/// The server wrote far less than its 1 GiB bound: the client stopped at the
/// cap (plus what socket buffers held) and hung up.
fn assert_stopped_early(server: &EndlessServer) {
    // Give the writer a moment to notice the hang-up; the bound is what
    // matters, not the time.
    std::thread::sleep(Duration::from_millis(50));
    let sent = server.bytes_sent();
    assert!(sent < 64 * CAP, "the server wrote {sent} bytes");
}

#[test]
fn ureq_stops_an_endless_body_at_the_cap() {
    let server = EndlessServer::start().unwrap();
    let client = mana_sync_ureq::client_with(config(&server.base_url()), options()).unwrap();
    match client.pull("todo", "tasks", &Cursor::EPOCH) {
        Err(Error::ResponseTooLarge { limit }) => assert_eq!(limit, CAP),
        other => panic!("{other:?}"),
    }
    assert_stopped_early(&server);
}

#[tokio::test]
async fn hyper_stops_an_endless_body_at_the_cap() {
    let server = EndlessServer::start().unwrap();
    let client = mana_sync_hyper::client_with(config(&server.base_url()), options()).unwrap();
    match client.pull("todo", "tasks", &Cursor::EPOCH).await {
        Err(Error::ResponseTooLarge { limit }) => assert_eq!(limit, CAP),
        other => panic!("{other:?}"),
    }
    assert_stopped_early(&server);
}

#[test]
fn ureq_refuses_a_declared_length_over_the_cap() {
    let server = EndlessServer::start_with_length(1 << 40).unwrap();
    let client = mana_sync_ureq::client_with(config(&server.base_url()), options()).unwrap();
    assert!(matches!(
        client.pull("todo", "tasks", &Cursor::EPOCH),
        Err(Error::ResponseTooLarge { .. })
    ));
}

#[tokio::test]
async fn hyper_refuses_a_declared_length_over_the_cap() {
    let server = EndlessServer::start_with_length(1 << 40).unwrap();
    let client = mana_sync_hyper::client_with(config(&server.base_url()), options()).unwrap();
    assert!(matches!(
        client.pull("todo", "tasks", &Cursor::EPOCH).await,
        Err(Error::ResponseTooLarge { .. })
    ));
}

/// A port nobody listens on.
fn closed_port() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

#[test]
fn refused_connections_are_transient_transport_errors() {
    let base = closed_port();
    let err = mana_sync_ureq::client(config(&base))
        .unwrap()
        .health()
        .unwrap_err();
    assert!(
        matches!(err, Error::Transport(_)) && err.is_transient(),
        "{err:?}"
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let err = rt.block_on(async {
        mana_sync_hyper::client(config(&base))
            .unwrap()
            .health()
            .await
            .unwrap_err()
    });
    assert!(
        matches!(err, Error::Transport(_)) && err.is_transient(),
        "{err:?}"
    );
}

/// Accepts connections and never answers.
fn silent_server() -> (std::net::TcpListener, String) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    (listener, base)
}

#[test]
fn a_silent_server_times_out() {
    let (_listener, base) = silent_server();
    let options = TransportOptions::default().total_timeout(Duration::from_millis(300));
    let err = mana_sync_ureq::client_with(config(&base), options)
        .unwrap()
        .health()
        .unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let err = rt.block_on(async {
        mana_sync_hyper::client_with(config(&base), options)
            .unwrap()
            .health()
            .await
            .unwrap_err()
    });
    assert!(
        matches!(
            err,
            Error::Timeout {
                kind: mana_sync_core::TimeoutKind::Total,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_async_client_works_from_spawned_tasks() {
    let loopback = LoopbackServer::start(MemoryServer::new()).unwrap();
    let client = mana_sync_hyper::client(config(&loopback.base_url())).unwrap();
    let tasks: Vec<_> = (0..4)
        .map(|i| {
            let client = client.clone();
            tokio::spawn(async move {
                let data = serde_json::json!({"n": i}).as_object().cloned().unwrap();
                client
                    .push_insert("todo", "tasks", &format!("t-{i}"), data)
                    .await
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(loopback.server().stored_count("u-1"), 4);
}

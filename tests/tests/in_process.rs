//! [`InProcess`] as a transport: requests reach the server unchanged, the
//! size cap is enforced, waiting moves the manual clock, a dropped
//! connection is a transport error, and the clients it builds read its
//! clock.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use http::Method;
use mana_sync_core::{
    AsyncTransport, BlockingTransport, Config, Cursor, TransportError, TransportOptions,
};
use mana_sync_testkit::{start_time, InProcess, ManualClock, MemoryServer};
use serde_json::json;
use support::{insert, pull, push, request, USER};

#[test]
fn requests_reach_the_server() {
    let net = InProcess::default();
    let r =
        BlockingTransport::send(&net, push("a", &json!({"changes": [insert("t", 0)]}))).unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(net.server().stored_count(USER), 1);
    let r = BlockingTransport::send(&net, request(Method::GET, "/health", None, None, "")).unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(net.server().requests()[1].uri, "/health");
}

#[test]
fn the_size_cap() {
    let net = InProcess::default();
    net.server().seed(
        USER,
        "todo",
        "w",
        &(0..50).map(|i| insert("t", i)).collect::<Vec<_>>(),
    );
    let size = BlockingTransport::send(&net, pull("r", "collection=t&since=x"))
        .unwrap()
        .body()
        .len() as u64;
    let capped = net
        .clone()
        .with_options(TransportOptions::default().max_response_bytes(size - 1));
    match BlockingTransport::send(&capped, pull("r", "collection=t&since=x")) {
        Err(TransportError::TooLarge { limit }) => assert_eq!(limit, size - 1),
        other => panic!("{other:?}"),
    }
    let exact = net.with_options(TransportOptions::default().max_response_bytes(size));
    assert!(BlockingTransport::send(&exact, pull("r", "collection=t&since=x")).is_ok());
}

#[test]
fn waiting_moves_the_clock() {
    let net = InProcess::default();
    BlockingTransport::sleep(&net, Duration::from_millis(1500));
    assert_eq!(
        net.clock().now(),
        start_time()
            .checked_add(Duration::from_millis(1500))
            .unwrap()
    );
    // The server shares the clock: its answers say so.
    let r = BlockingTransport::send(&net, request(Method::GET, "/health", None, None, "")).unwrap();
    assert!(std::str::from_utf8(r.body())
        .unwrap()
        .contains("\"timestamp\":\"2026-01-01T00:00:01Z\""));
}

#[test]
fn a_dropped_connection_is_a_transport_error() {
    let net = InProcess::default();
    let body =
        json!({"changes": [{"table": "t", "id": "1", "op": "update", "fields": {"x": null}}]});
    match BlockingTransport::send(&net, push("a", &body)) {
        Err(TransportError::Other { message, .. }) => {
            assert!(message.contains("closed"), "{message}")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn async_the_same() {
    let net = InProcess::default();
    let r = AsyncTransport::send(&net, push("a", &json!({"changes": [insert("t", 0)]})))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    AsyncTransport::sleep(&net, Duration::from_secs(60)).await;
    assert_eq!(
        net.clock().now(),
        start_time().checked_add(Duration::from_secs(60)).unwrap()
    );
    let capped = net.with_options(TransportOptions::default().max_response_bytes(10));
    assert!(matches!(
        AsyncTransport::send(&capped, pull("r", "collection=t&since=x")).await,
        Err(TransportError::TooLarge { limit: 10 })
    ));
}

#[test]
fn clients_read_the_shared_clock() {
    let clock = ManualClock::new(start_time());
    let net = InProcess::new(MemoryServer::with_clock(clock.clone()), clock.clone());
    let config = |id: &str| {
        Config::new(
            "http://mana-sync.test",
            mana_sync_testkit::token_for(USER),
            id,
        )
        .unwrap()
    };
    let writer = net.blocking_client(config("writer"));
    writer
        .push_insert(
            "todo",
            "t",
            "1",
            json!({"a": 1}).as_object().cloned().unwrap(),
        )
        .unwrap();
    clock.advance(Duration::from_secs(5));
    let page = net
        .blocking_client(config("reader"))
        .pull("todo", "t", &Cursor::EPOCH)
        .unwrap();
    assert_eq!(page.server_changes.len(), 1);
    assert_eq!(page.synced_until.as_str(), "2026-01-01T00:00:05Z");
}

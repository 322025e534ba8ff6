//! The engine's two drivers (a thread over a blocking transport, a task
//! over an async one) behind one handle: writes, typed reads with encrypted
//! fields, subscriptions, status. The tests wait on events (a change set, a
//! status), never on time.

use std::time::Duration;

use futures_util::StreamExt;
use mana_sync_core::crypto::MasterKey;
use mana_sync_core::engine::{
    ChangeSet, EngineHandle, EngineSettings, MemoryStore, Source, Subscription, Update,
};
use mana_sync_core::{AsyncTransport, Change, Config, TableSpec, TransportError};
use mana_sync_testkit::{token_for, InProcess, LoopbackServer, ManualClock, MemoryServer};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Note {
    title: String,
    #[serde(default)]
    pinned: bool,
}

fn notes() -> TableSpec<Note> {
    TableSpec::new("notes", "notes").encrypted(&["title"])
}

fn key() -> MasterKey {
    MasterKey::from_bytes(&[7u8; 32]).unwrap_or_else(|e| panic!("{e}"))
}

fn config(id: &str) -> Config {
    Config::new("http://sync.test", token_for("user-1"), id).unwrap_or_else(|e| panic!("{e}"))
}

/// Requests only: a stream read in process never waits (it answers a
/// heartbeat at once and moves the clock), so the live stream is tested
/// over loopback below.
fn settings() -> EngineSettings {
    EngineSettings::new("notes", &["notes"])
        .debounce(Duration::ZERO)
        .live(false)
}

fn net() -> InProcess {
    let clock = ManualClock::default();
    InProcess::new(MemoryServer::with_clock(clock.clone()), clock)
}

#[test]
fn the_blocking_driver_syncs_in_the_background_and_the_app_sees_each_commit() {
    let net = net();
    let a = EngineHandle::open(
        MemoryStore::new(),
        config("laptop"),
        settings(),
        net.clock().clone(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let b = EngineHandle::open(
        MemoryStore::new(),
        config("phone"),
        settings(),
        net.clock().clone(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut a_changes = a.subscribe(Some("notes"));
    let mut b_changes = b.subscribe(None);
    let drivers = [a.spawn_blocking(net.clone()), b.spawn_blocking(net.clone())];

    let note = Note {
        title: "a secret plan".into(),
        pinned: false,
    };
    a.create(&notes(), "n-1", &note, Some(&key()))
        .unwrap_or_else(|e| panic!("{e}"));
    // The local write's change set comes at once.
    match a_changes.next() {
        Some(Update::Changes(set)) => {
            assert_eq!(
                (set.source, set.records[0].id.as_str()),
                (Source::Local, "n-1")
            );
        }
        other => panic!("{other:?}"),
    }
    // Nothing plaintext at rest that the table declares encrypted.
    let stored = a
        .record("notes", "n-1")
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("stored"));
    let title = stored
        .get("title")
        .map(|v| v.into_owned())
        .unwrap_or_default();
    assert!(
        title.as_str().is_some_and(|t| t.starts_with("enc:1:")),
        "{title}"
    );
    assert_eq!(
        a.get(&notes(), "n-1", Some(&key()))
            .unwrap_or_else(|e| panic!("{e}")),
        Some(note.clone())
    );

    for status in a.watch_status() {
        if status.pending == 0 && status.last_push.is_some() {
            break;
        }
    }
    // B hears of it on its next catch-up: coming online catches up at once.
    b.set_online(true);
    let set = loop {
        match b_changes.next() {
            Some(Update::Changes(set)) if set.source == Source::Server => break set,
            Some(_) => {}
            None => panic!("ended"),
        }
    };
    assert_eq!(set.records[0].id, "n-1");
    let listing = b
        .list(&notes(), Some(&key()))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(listing.records, vec![note]);
    assert!(listing.bad.is_empty());
    // Without the key, the record is reported, never shown garbled.
    let listing = b.list(&notes(), None).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((listing.records.len(), listing.bad.len()), (0, 1));

    a.stop();
    b.stop();
    for driver in drivers {
        assert!(driver.join().is_ok());
    }
    assert!(
        a_changes.next().is_none(),
        "a stopped engine ends its subscriptions"
    );
}

/// The in-process transport with a real sleep (the in-process one only
/// moves its clock, so a driver sleeping on it never yields to the test).
#[derive(Clone)]
struct Sleeping(InProcess);

impl AsyncTransport for Sleeping {
    type Body = <InProcess as AsyncTransport>::Body;

    async fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        AsyncTransport::send(&self.0, request).await
    }

    async fn open(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Self::Body>, TransportError> {
        AsyncTransport::open(&self.0, request).await
    }

    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await
    }
}

#[test]
fn the_async_driver_syncs_as_a_task() {
    let net = net();
    let engine = EngineHandle::open(
        MemoryStore::new(),
        config("agent"),
        settings(),
        net.clock().clone(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    runtime.block_on(async {
        let driver = {
            let (engine, net) = (engine.clone(), Sleeping(net.clone()));
            tokio::spawn(async move { engine.run_async(&net).await })
        };
        let mut changes = engine.subscribe(Some("notes")).into_stream();
        let now = engine.now();
        engine
            .write(vec![
                Change::update("notes", "n-1").with_field("pinned", true, now)
            ])
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(changes.next().await, Some(Update::Changes(_))));
        let mut statuses = engine.watch_status().into_stream();
        while let Some(status) = statuses.next().await {
            if status.pending == 0 && status.last_push.is_some() {
                break;
            }
        }
        engine.stop();
        assert!(driver.await.is_ok());
    });
    assert_eq!(net.server().stored_count("user-1"), 1);
}

#[test]
fn a_lagging_subscriber_gets_a_resync_marker_not_silence() {
    let net = net();
    let engine = EngineHandle::open(
        MemoryStore::new(),
        config("laptop"),
        settings(),
        net.clock().clone(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut changes = engine.subscribe(Some("notes"));
    let now = engine.now();
    for i in 0..1100 {
        engine
            .write(vec![
                Change::update("notes", format!("n-{i}")).with_field("pinned", true, now)
            ])
            .unwrap_or_else(|e| panic!("{e}"));
    }
    assert_eq!(changes.next(), Some(Update::Resync));
    let rest: Vec<Update> = std::iter::from_fn(|| changes.try_next()).collect();
    assert!(!rest.is_empty() && rest.len() < 1100, "{}", rest.len());
    assert!(rest.iter().all(|u| matches!(u, Update::Changes(_))));
}

// ------------------------------------------------- the live stream, over loopback

/// A server whose quiet stream sends a heartbeat every 50 ms (how quickly
/// changes the test's speed only, never its outcome).
fn live_server() -> LoopbackServer {
    LoopbackServer::start(MemoryServer::new().with_heartbeat(Duration::from_millis(50)))
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Live on, and no catch-up but the first: what arrives later arrives by
/// the stream.
fn live_settings() -> EngineSettings {
    EngineSettings::new("notes", &["notes"])
        .debounce(Duration::ZERO)
        .repull_every(None)
}

fn net_config(base: &str, id: &str) -> Config {
    Config::new(base, token_for("user-1"), id).unwrap_or_else(|e| panic!("{e}"))
}

fn options() -> mana_sync_core::TransportOptions {
    mana_sync_core::TransportOptions::default().idle_timeout(Duration::from_secs(2))
}

/// The first change set from the server, read on a thread of its own; a
/// broken engine fails the test after a minute instead of hanging it.
fn first_server_set(changes: Subscription) -> ChangeSet {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for update in changes {
            if let Update::Changes(set) = update {
                if set.source == Source::Server {
                    let _ = tx.send(set);
                    return;
                }
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(60))
        .unwrap_or_else(|e| panic!("no change set from the server: {e}"))
}

fn phone_writes(base: &str) {
    let phone = mana_sync_core::BlockingClient::new(
        net_config(base, "phone"),
        mana_sync_ureq::UreqTransport::new(options()),
    );
    let note = serde_json::json!({"pinned": true})
        .as_object()
        .cloned()
        .unwrap_or_default();
    phone
        .push_insert("notes", "notes", "n-1", note)
        .unwrap_or_else(|e| panic!("{e}"));
}

fn live_engine(base: &str, id: &str) -> EngineHandle<MemoryStore> {
    EngineHandle::open(
        MemoryStore::new(),
        net_config(base, id),
        live_settings(),
        mana_sync_core::SystemClock,
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

/// Once `engine` caught up, another device writes; the change set comes
/// from the server with no catch-up (none is due), so by the stream.
fn another_devices_change_arrives_by_the_stream(
    engine: &EngineHandle<MemoryStore>,
    base: &str,
    changes: Subscription,
) {
    for status in engine.watch_status() {
        if status.last_pull.is_some() {
            break;
        }
    }
    phone_writes(base);
    let set = first_server_set(changes);
    assert_eq!(set.records[0].id, "n-1");
    assert!(engine.status().live);
}

#[test]
fn the_blocking_driver_keeps_a_live_stream_and_another_devices_change_arrives_by_it() {
    let server = live_server();
    let base = server.base_url();
    let engine = live_engine(&base, "laptop");
    let changes = engine.subscribe(Some("notes"));
    let driver = engine.spawn_blocking(mana_sync_ureq::UreqTransport::new(options()));
    another_devices_change_arrives_by_the_stream(&engine, &base, changes);
    engine.stop();
    assert!(driver.join().is_ok());
}

#[test]
fn the_async_driver_keeps_a_live_stream_beside_its_requests() {
    let server = live_server();
    let base = server.base_url();
    let engine = live_engine(&base, "agent");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let changes = engine.subscribe(Some("notes"));
    let driver = {
        let engine = engine.clone();
        let transport =
            mana_sync_hyper::HyperTransport::new(options()).unwrap_or_else(|e| panic!("{e}"));
        runtime.spawn(async move { engine.run_async(&transport).await })
    };
    another_devices_change_arrives_by_the_stream(&engine, &base, changes);
    // `stop` ends the task, stream and all, without waiting for the server.
    engine.stop();
    assert!(runtime.block_on(driver).is_ok());
}

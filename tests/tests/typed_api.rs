//! The API as its users meet it: own writes read back on request, typed
//! tables that survive a bad record, typed batches, `Timestamp::now`.

#![allow(clippy::unwrap_used)]

use mana_sync_core::crypto::MasterKey;
use mana_sync_core::{Change, Config, Cursor, Error, Patch, TableSpec, Timestamp};
use mana_sync_testkit::{token_for, InProcess};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Task {
    title: String,
    is_completed: bool,
}

fn config(client_id: &str) -> Config {
    Config::new("http://mana.test", token_for("u-1"), client_id).unwrap()
}

fn tasks() -> TableSpec<Task> {
    TableSpec::new("todo", "tasks").encrypted(&["title"])
}

#[test]
fn own_writes_are_left_out_unless_asked_for() {
    let net = InProcess::default();
    let client = net.blocking_client(config("writer"));
    let data = json!({"title": "x"}).as_object().cloned().unwrap();
    client.push_insert("todo", "tasks", "t-1", data).unwrap();

    // The protocol: the server leaves out the changes of the client id it
    // is sent.
    let plain = client.pull_all("todo", "tasks", &Cursor::EPOCH).unwrap();
    assert!(plain.changes.is_empty());
    assert!(client
        .pull("todo", "tasks", &Cursor::EPOCH)
        .unwrap()
        .server_changes
        .is_empty());

    // The plain option: the same client, reading its own writes too.
    let reader = client.clone().with_own_changes(true);
    let all = reader.pull_all("todo", "tasks", &Cursor::EPOCH).unwrap();
    assert_eq!(all.changes.len(), 1);
    assert_eq!(all.changes.get(0).unwrap().id(), "t-1");
    let page = reader.pull("todo", "tasks", &Cursor::EPOCH).unwrap();
    assert_eq!(page.server_changes.len(), 1);
    // Switched off again, they are left out again.
    let back = reader.with_own_changes(false);
    assert!(back
        .pull_all("todo", "tasks", &Cursor::EPOCH)
        .unwrap()
        .changes
        .is_empty());
}

#[tokio::test]
async fn own_writes_on_the_async_client() {
    let net = InProcess::default();
    let client = net.async_client(config("agent")).with_own_changes(true);
    let data = json!({"title": "x"}).as_object().cloned().unwrap();
    client
        .push_insert("todo", "tasks", "t-1", data)
        .await
        .unwrap();
    let all = client
        .pull_all("todo", "tasks", &Cursor::EPOCH)
        .await
        .unwrap();
    assert_eq!(all.changes.len(), 1);
}

#[test]
fn one_bad_record_does_not_break_the_table() {
    let net = InProcess::default();
    let client = net.blocking_client(config("app"));
    let key = MasterKey::from_bytes(&[9; 32]).unwrap();
    let spec = tasks();
    for i in 0..3 {
        let task = Task {
            title: format!("secret title {i}"),
            is_completed: false,
        };
        client
            .create(&spec, &format!("t-{i}"), &task, Some(&key))
            .unwrap();
    }
    // Another client (not typed) writes a value Task cannot read.
    let raw = net.blocking_client(config("raw"));
    let at = Timestamp::parse("2026-06-01T00:00:00Z").unwrap();
    raw.push(
        "todo",
        &[Change::update("tasks", "t-1").with_field("isCompleted", "yes-secret", at)],
        &Cursor::EPOCH,
    )
    .unwrap();

    let listing = client.list(&spec, Some(&key)).unwrap();
    assert_eq!(listing.records.len(), 2);
    assert_eq!(listing.bad.len(), 1);
    let bad = &listing.bad[0];
    assert_eq!(bad.id, "t-1");
    let reason = bad.error.to_string();
    assert!(reason.contains("isCompleted"), "{reason}");
    assert!(reason.contains("a boolean"), "{reason}");
    assert!(!reason.contains("yes-secret"), "{reason}");
    assert!(!reason.contains("secret title"), "{reason}");

    // `get` of a good record is fine; of the bad one, an error about it.
    let good = client.get(&spec, "t-2", Some(&key)).unwrap().unwrap();
    assert_eq!(good.title, "secret title 2");
    let e = client.get(&spec, "t-1", Some(&key)).unwrap_err();
    assert!(e.to_string().contains("t-1"), "{e}");
    assert!(!e.to_string().contains("secret"), "{e}");
    // All or nothing, when that is what the caller wants.
    assert!(client.list(&spec, Some(&key)).unwrap().all().is_err());
}

#[test]
fn typed_updates_are_checked_before_anything_is_sent() {
    let net = InProcess::default();
    let client = net.blocking_client(config("app"));
    let spec = TableSpec::<Task>::new("todo", "tasks");
    assert!(spec.patch().set("is_completed", true).is_err());
    assert!(spec.patch().set("isCompleted", "yes").is_err());
    let patch = spec.patch().set("isCompleted", true).unwrap();
    client.update(&spec, "t-1", patch, None).unwrap();
    let stored = net.server().changes("u-1", "todo");
    assert_eq!(stored.len(), 1);
}

#[test]
fn a_batch_is_one_operation_split_by_the_limits() {
    let net = InProcess::default();
    let client = net.blocking_client(config("app"));
    let key = MasterKey::from_bytes(&[9; 32]).unwrap();
    let spec = tasks();
    let tags: TableSpec<serde_json::Value> = TableSpec::new("todo", "tags");
    let mut batch = client.batch("todo");
    for i in 0..250 {
        let task = Task {
            title: format!("task {i}"),
            is_completed: false,
        };
        batch
            .create(&spec, &format!("t-{i}"), &task, Some(&key))
            .unwrap();
    }
    batch
        .create(&tags, "g-1", &json!({"name": "home"}), None)
        .unwrap();
    batch
        .update(
            &spec,
            "t-0",
            Patch::new().set("isCompleted", true).unwrap(),
            Some(&key),
        )
        .unwrap();
    batch.delete(&spec, "t-1").unwrap();
    assert_eq!(batch.len(), 253);

    let requests_before = net.server().received().len();
    let pushed = client.push_batch(&batch).unwrap();
    assert_eq!(pushed.requests, 2, "200 changes a request");
    assert_eq!(net.server().received().len() - requests_before, 2);

    let listing = client.list(&spec, Some(&key)).unwrap();
    assert!(listing.bad.is_empty());
    assert_eq!(listing.records.len(), 249);
    assert_eq!(client.list(&tags, None).unwrap().records.len(), 1);
    assert!(
        client
            .get(&spec, "t-0", Some(&key))
            .unwrap()
            .unwrap()
            .is_completed
    );

    // A table of another app is refused, and nothing is added.
    let other: TableSpec<Task> = TableSpec::new("notes", "tasks");
    assert!(matches!(
        batch.delete(&other, "x"),
        Err(Error::InvalidRequest { .. })
    ));
    assert_eq!(batch.len(), 253);
}

#[test]
fn timestamp_now_is_the_system_clock() {
    let before = mana_sync_core::Clock::now(&mana_sync_core::SystemClock);
    let now = Timestamp::now();
    assert!(now >= before);
}

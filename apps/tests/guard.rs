//! The plaintext guard on every write path: a plaintext `title` pushed to
//! todo/tasks is refused before anything is sent, an `enc:1:` one goes
//! through, and the opt-out sends plaintext again.

use mana_sync_apps::{guarded, Registry};
use mana_sync_core::crypto::MasterKey;
use mana_sync_core::{Change, Config, Cursor, Error, TableSpec};
use mana_sync_testkit::{token_for, InProcess};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// A task type whose author forgot that the browser encrypts `title`.
#[derive(Serialize, Deserialize)]
struct Task {
    title: String,
}

fn forgetful() -> TableSpec<Task> {
    TableSpec::new("todo", "tasks")
}

fn config() -> Config {
    guarded(Config::new("http://mana.test", token_for("user-1"), "guard-test").expect("config"))
}

fn data(title: &str) -> Map<String, Value> {
    json!({"title": title, "order": 1})
        .as_object()
        .cloned()
        .unwrap_or_default()
}

fn key() -> MasterKey {
    MasterKey::from_bytes(&[7; 32]).expect("key")
}

fn assert_refused(result: Result<impl std::fmt::Debug, Error>, id: &str) {
    match result {
        Err(Error::PlaintextField {
            app_id,
            collection,
            change_id,
            field,
            ..
        }) => {
            assert_eq!(
                (
                    app_id.as_str(),
                    collection.as_str(),
                    change_id.as_str(),
                    field.as_str()
                ),
                ("todo", "tasks", id, "title")
            );
        }
        other => panic!("expected the guard's refusal, got {other:?}"),
    }
}

#[test]
fn every_blocking_write_path_refuses_plaintext_and_sends_nothing() {
    let net = InProcess::default();
    let client = net.blocking_client(config());
    let now = net.clock().now();

    assert_refused(
        client.push(
            "todo",
            &[Change::insert("tasks", "t-1", data("milk"))],
            &Cursor::EPOCH,
        ),
        "t-1",
    );
    assert_refused(
        client.push_insert("todo", "tasks", "t-2", data("milk")),
        "t-2",
    );
    let update = Change::update("tasks", "t-3").with_field("title", json!("milk"), now);
    assert_refused(client.push("todo", &[update], &Cursor::EPOCH), "t-3");

    let mut batch = client.batch("todo");
    batch
        .create(
            &forgetful(),
            "t-4",
            &Task {
                title: "milk".into(),
            },
            None,
        )
        .expect("staged");
    assert_refused(client.push_batch(&batch), "t-4");
    assert_refused(
        client.create(
            &forgetful(),
            "t-5",
            &Task {
                title: "milk".into(),
            },
            None,
        ),
        "t-5",
    );
    let patch = forgetful().patch().set("title", "milk").expect("patch");
    assert_refused(client.update(&forgetful(), "t-6", patch, None), "t-6");

    assert_eq!(net.server().request_count(), 0, "nothing was sent");
    let err = client
        .push_insert("todo", "tasks", "t-7", data("secret milk"))
        .expect_err("refused");
    assert!(!err.to_string().contains("secret"), "{err}");
}

#[tokio::test]
async fn every_async_write_path_refuses_plaintext() {
    let net = InProcess::default();
    let client = net.async_client(config());
    assert_refused(
        client
            .push(
                "todo",
                &[Change::insert("tasks", "a-1", data("milk"))],
                &Cursor::EPOCH,
            )
            .await,
        "a-1",
    );
    assert_refused(
        client
            .push_insert("todo", "tasks", "a-2", data("milk"))
            .await,
        "a-2",
    );
    let mut batch = client.batch("todo");
    batch
        .create(
            &forgetful(),
            "a-3",
            &Task {
                title: "milk".into(),
            },
            None,
        )
        .expect("staged");
    assert_refused(client.push_batch(&batch).await, "a-3");
    assert_refused(
        client
            .create(
                &forgetful(),
                "a-4",
                &Task {
                    title: "milk".into(),
                },
                None,
            )
            .await,
        "a-4",
    );
    assert_eq!(net.server().request_count(), 0);
}

#[test]
fn ciphertext_goes_through_on_every_path() {
    let net = InProcess::default();
    let client = net.blocking_client(config());
    let key = key();
    let tasks: TableSpec<Task> = Registry::get().table("todo", "tasks").expect("registered");
    client
        .create(
            &tasks,
            "t-1",
            &Task {
                title: "milk".into(),
            },
            Some(&key),
        )
        .expect("encrypted create");
    let patch = tasks.patch().set("title", "oat milk").expect("patch");
    client
        .update(&tasks, "t-1", patch, Some(&key))
        .expect("encrypted update");
    let mut sealed = data("x");
    mana_sync_core::crypto::encrypt_fields(
        &key,
        &mut sealed,
        &["title"],
        &mut mana_sync_core::crypto::PooledOsRng,
    )
    .expect("sealed");
    client
        .push_insert("todo", "tasks", "t-2", sealed)
        .expect("raw enc:1: insert");
    // A null title and the plaintext fields of the same change are fine.
    client
        .push_insert(
            "todo",
            "tasks",
            "t-3",
            json!({"title": null, "order": 2})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        )
        .expect("null passes");
    let stored = net.server().changes("user-1", "todo");
    assert_eq!(stored.len(), 4);
    assert!(stored.iter().all(|c| !c.to_string().contains("milk")));
}

#[test]
fn the_opt_out_sends_plaintext() {
    let net = InProcess::default();
    let client = net.blocking_client(config().without_guard());
    assert!(client.config().guard().is_none());
    client
        .push_insert("todo", "tasks", "t-1", data("milk"))
        .expect("sent as asked");
    assert_eq!(net.server().changes("user-1", "todo").len(), 1);
    // And a config never guarded sends it too: the guard is opt-in in the core.
    let plain = net.blocking_client(
        Config::new("http://mana.test", token_for("user-1"), "x").expect("config"),
    );
    plain
        .push_insert("todo", "tasks", "t-2", data("milk"))
        .expect("unguarded");
}

/// The offline engine's writes go through the same check: with a guarded
/// config, a plaintext title is refused before anything is stored, and a
/// ciphertext one is stored and queued.
#[test]
fn the_engine_refuses_plaintext_before_storing() {
    use mana_sync_core::engine::{Engine, EngineError, EngineSettings, MemoryStore};
    let now = mana_sync_core::Timestamp::parse("2026-01-01T00:00:00Z").expect("time");
    let settings = EngineSettings::new("todo", &["tasks"]);
    let mut engine = Engine::open(MemoryStore::new(), config(), settings, now).expect("engine");
    let plaintext = Change::insert("tasks", "t-1", data("Buy milk"));
    match engine.write(vec![plaintext], now) {
        Err(EngineError::Sync(e)) => assert_refused(Err::<(), _>(e), "t-1"),
        other => panic!("expected the guard's refusal, got {other:?}"),
    }
    assert!(engine.record("tasks", "t-1").expect("read").is_none());
    assert_eq!(engine.status(now).pending, 0);
    let mut sealed = data("Buy milk");
    mana_sync_core::crypto::encrypt_fields(
        &key(),
        &mut sealed,
        &["title"],
        &mut mana_sync_core::crypto::OsRng,
    )
    .expect("encrypt");
    engine
        .write(vec![Change::insert("tasks", "t-2", sealed)], now)
        .expect("ciphertext is written");
    assert_eq!(engine.status(now).pending, 1);
}

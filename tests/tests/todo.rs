//! The seed's todo flow end to end, typed and encrypted, four ways; and a
//! replica saved, loaded and brought up to date incrementally.

#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

use common::{Setup, Via};
use mana_sync_core::crypto::MasterKey;
use mana_sync_core::fold::Replica;
use mana_sync_core::{Patch, TableSpec};
use mana_sync_testkit::Vault;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Task {
    id: String,
    title: String,
    #[serde(default)]
    description: Option<String>,
    is_completed: bool,
    order: u32,
}

fn tasks() -> TableSpec<Value> {
    TableSpec::new("todo", "tasks").encrypted(&["title", "description", "subtasks", "metadata"])
}

fn as_tasks(values: Vec<Value>) -> Vec<Task> {
    values
        .into_iter()
        .map(|v| serde_json::from_value(v).unwrap())
        .collect()
}

fn task(id: &str, title: &str, order: u32) -> Task {
    Task {
        id: id.into(),
        title: title.into(),
        description: Some(format!("about {title}")),
        is_completed: false,
        order,
    }
}

/// Every `title` the server ever stored, from inserts and updates.
fn stored_titles(setup: &Setup) -> Vec<Value> {
    setup
        .server
        .changes("u-1", "todo")
        .iter()
        .flat_map(|c| {
            [
                c["data"]["title"].clone(),
                c["fields"]["title"]["value"].clone(),
            ]
        })
        .filter(|v| !v.is_null())
        .collect()
}

fn todo_flow(setup: &Setup) {
    let key = MasterKey::from_bytes(&[42; 32]).unwrap();
    setup.server.set_vault("u-1", Vault::Standard(key));
    let app = setup.client("u-1", "agent");
    let key = app.master_key().unwrap();
    let (spec, key) = (tasks(), Some(&key));
    for (i, title) in ["Buy milk", "Write report", "Call Anna"].iter().enumerate() {
        let value = serde_json::to_value(task(&format!("t-{i}"), title, i as u32)).unwrap();
        app.create(&spec, &format!("t-{i}"), &value, key).unwrap();
    }
    setup.clock.advance(std::time::Duration::from_secs(60));
    app.update(
        &spec,
        "t-0",
        Patch::new()
            .set("isCompleted", true)
            .unwrap()
            .set("title", "Buy oat milk")
            .unwrap(),
        key,
    )
    .unwrap();
    app.delete(&spec, "t-1").unwrap();

    let listed = as_tasks(app.list(&spec, key).unwrap().all().unwrap());
    assert_eq!(
        listed,
        vec![
            Task {
                title: "Buy oat milk".into(),
                is_completed: true,
                ..task("t-0", "Buy milk", 0)
            },
            task("t-2", "Call Anna", 2),
        ]
    );
    assert_eq!(app.get(&spec, "t-1", key).unwrap(), None, "soft-deleted");
    assert_eq!(app.records("todo", "tasks", true).unwrap().len(), 3);

    let titles = stored_titles(setup);
    assert_eq!(titles.len(), 4);
    assert!(
        titles
            .iter()
            .all(|t| t.as_str().is_some_and(|s| s.starts_with("enc:1:"))),
        "{titles:?}"
    );
    // Without the key, reading says so instead of returning ciphertext.
    let listing = app.list(&spec, None).unwrap();
    assert!(listing.records.is_empty());
    assert_eq!(listing.bad.len(), 2);
    assert!(listing
        .bad
        .iter()
        .all(|b| b.error.to_string().contains("master key")));
}

fn snapshot_then_incremental(setup: &Setup) {
    let writer = setup.client("u-1", "writer");
    let reader = setup.client("u-1", "reader");
    let spec = TableSpec::new("todo", "notes");
    for i in 0..5 {
        writer
            .create(&spec, &format!("n-{i}"), &json!({"text": i}), None)
            .unwrap();
    }
    let mut replica = Replica::new();
    reader.pull_into("todo", "notes", &mut replica).unwrap();
    let saved = serde_json::to_string(&replica).unwrap();

    setup.clock.advance(std::time::Duration::from_secs(1));
    writer
        .update(
            &spec,
            "n-1",
            Patch::new().set("text", "changed").unwrap(),
            None,
        )
        .unwrap();
    writer.delete(&spec, "n-2").unwrap();
    writer
        .create(&spec, "n-9", &json!({"text": 9}), None)
        .unwrap();

    let mut loaded: Replica = serde_json::from_str(&saved).unwrap();
    let before = setup.server.received().len();
    let report = reader.pull_into("todo", "notes", &mut loaded).unwrap();
    assert_eq!(report.applied, 3, "only what is new since the saved cursor");
    assert!(setup.server.received().len() - before == 1);
    let full = reader.records("todo", "notes", true).unwrap();
    assert_eq!(
        loaded.all_records("notes").cloned().collect::<Vec<_>>(),
        full
    );
}

four_ways!(todo_flow, snapshot_then_incremental);

/// The typed form, with a record type of its own.
#[test]
fn typed_tables_read_and_write_the_declared_type() {
    let net = mana_sync_testkit::InProcess::default();
    let config = mana_sync_core::Config::new(
        "http://mana.test",
        mana_sync_testkit::token_for("u-1"),
        "app",
    )
    .unwrap();
    let client = net.blocking_client(config);
    let spec: TableSpec<Task> =
        TableSpec::new("todo", "tasks").encrypted(&["title", "description"]);
    let key = MasterKey::from_bytes(&[5; 32]).unwrap();
    client
        .create(&spec, "t-1", &task("t-1", "Typed", 0), Some(&key))
        .unwrap();
    assert_eq!(
        client.get(&spec, "t-1", Some(&key)).unwrap(),
        Some(task("t-1", "Typed", 0))
    );
    assert!(matches!(
        client.create(&spec, "t-2", &task("t-2", "x", 1), None),
        Err(mana_sync_core::Error::InvalidRequest { .. })
    ));
}

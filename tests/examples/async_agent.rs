//! An async agent: four concurrent writers share 50 tasks with an encrypted
//! title (each writes its quarter: creates, 10 completed, 5 deleted in
//! all), then the tasks are read back decrypted. The client is `Clone` and
//! `Send`: a writer may as well be a `tokio::spawn`ed task with a clone.
//!
//! Run: `cargo run -p mana-sync-testkit --example async_agent`

use mana_sync_hyper::prelude::*;
use mana_sync_testkit::{token_for, LoopbackServer, MemoryServer, Vault};

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Task {
    title: String,
    is_completed: bool,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A local server holding the user's key; in real use, the sync and auth
    // URLs of the service and the user's JWT.
    let server = LoopbackServer::start(MemoryServer::new())?;
    server.server().set_vault("user-1", Vault::Standard(MasterKey::from_bytes(&[7; 32])?));
    let (url, token) = (server.base_url(), token_for("user-1"));

    let client = client(Config::new(&url, token, "todo-agent")?.with_auth_url(&url)?)?;
    let key = client.master_key().await?;
    let tasks: TableSpec<Task> = TableSpec::new("todo", "tasks").encrypted(&["title"]);

    let new = |i| Task { title: format!("Task {i}"), is_completed: false };
    let done = tasks.patch().set("isCompleted", true)?;
    let (client, tasks, key, done) = (&client, &tasks, &key, &done);
    let writers = (0..4).map(|writer| async move {
        let mut batch = client.batch("todo");
        for (i, id) in (writer..50).step_by(4).map(|i| (i, format!("t-{i:02}"))) {
            batch.create(tasks, &id, &new(i), Some(key))?;
            match i {
                0..10 => batch.update(tasks, &id, done.clone(), Some(key))?, // the first ten completed
                45.. => batch.delete(tasks, &id)?,                           // the last five deleted
                _ => &mut batch,
            };
        }
        client.push_batch(&batch).await
    });
    futures_util::future::try_join_all(writers).await?; // four writers at once

    let listing = client.list(tasks, Some(key)).await?;
    listing.records.iter().for_each(|t| println!("[{}] {}", if t.is_completed { "x" } else { " " }, t.title));
    assert_eq!((listing.records.len(), listing.records.iter().filter(|t| t.is_completed).count()), (45, 10));
    Ok(())
}

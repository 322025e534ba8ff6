//! A blocking script: 50 tasks with an encrypted title, 10 of them
//! completed, 5 deleted, then read back decrypted. One batch, one push.
//!
//! Run: `cargo run -p mana-sync-testkit --example blocking_script`

use mana_sync_testkit::{token_for, LoopbackServer, MemoryServer, Vault};
use mana_sync_ureq::prelude::*;

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Task {
    title: String,
    is_completed: bool,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A local server holding the user's key; in real use, the sync and auth
    // URLs of the service and the user's JWT.
    let server = LoopbackServer::start(MemoryServer::new())?;
    let user_key = MasterKey::from_bytes(&[7; 32])?;
    server.server().set_vault("user-1", Vault::Standard(user_key));
    let (url, token) = (server.base_url(), token_for("user-1"));

    let client = client(Config::new(&url, token, "todo-script")?.with_auth_url(&url)?)?;
    let key = client.master_key()?;
    let tasks: TableSpec<Task> = TableSpec::new("todo", "tasks").encrypted(&["title"]);

    let mut batch = client.batch("todo");
    for i in 0..50 {
        let task = Task { title: format!("Task {i}"), is_completed: false };
        batch.create(&tasks, &format!("t-{i:02}"), &task, Some(&key))?;
    }
    for i in 0..10 {
        let done = tasks.patch().set("isCompleted", true)?;
        batch.update(&tasks, &format!("t-{i:02}"), done, Some(&key))?;
    }
    for i in 45..50 {
        batch.delete(&tasks, &format!("t-{i:02}"))?;
    }
    let pushed = client.push_batch(&batch)?;
    println!("pushed {} changes in {} request(s)", batch.len(), pushed.requests);

    let listing = client.list(&tasks, Some(&key))?;
    listing.records.iter().for_each(|t| println!("[{}] {}", if t.is_completed { "x" } else { " " }, t.title));
    let done = listing.records.iter().filter(|t| t.is_completed).count();
    println!("{} tasks, {done} completed", listing.records.len());
    assert_eq!((listing.records.len(), done, listing.bad.len()), (45, 10, 0));
    Ok(())
}

//! The demo: what the library is for, in a few lines of output. A typed
//! table with an encrypted field is written, the server holds only
//! ciphertext, records are folded from the change log, and a change made on
//! another device arrives live through the stream.
//!
//! Run: `cargo run -p mana-sync-testkit --example demo`

use mana_sync_testkit::{token_for, LoopbackServer, MemoryServer, Vault};
use mana_sync_ureq::prelude::*;
use mana_sync_ureq::SystemClock;

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Task {
    title: String,
    is_completed: bool,
}

fn show(replica: &Replica, tasks: &TableSpec<Task>, key: &MasterKey) -> Result<(), Error> {
    for record in replica.records("tasks") {
        let task = tasks.decode(record, Some(key))?;
        println!("     [{}] {}", if task.is_completed { "x" } else { " " }, task.title);
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = LoopbackServer::start(MemoryServer::with_clock(SystemClock))?;
    server.server().set_vault("demo-user", Vault::Standard(MasterKey::from_bytes(&[7; 32])?));
    let url = server.base_url();
    let connect = |device: &str| -> Result<Client, Error> {
        client(Config::new(&url, token_for("demo-user"), device)?.with_auth_url(&url)?)
    };
    println!("mana-sync (in memory) on {url}");

    // 1. A typed table; its title is encrypted with the user's vault key.
    let laptop = connect("laptop")?;
    let key = laptop.master_key()?;
    let tasks: TableSpec<Task> = TableSpec::new("todo", "tasks").encrypted(&["title"]);
    let mut batch = laptop.batch("todo");
    for (id, title) in [("t-1", "Buy milk"), ("t-2", "Write the report"), ("t-3", "Call Anna")] {
        batch.create(&tasks, id, &Task { title: title.into(), is_completed: false }, Some(&key))?;
    }
    batch.update(&tasks, "t-1", tasks.patch().set("isCompleted", true)?, Some(&key))?;
    let pushed = laptop.push_batch(&batch)?;
    println!("1. laptop: {} typed writes pushed in {} request", batch.len(), pushed.requests);

    // 2. The server holds ciphertext only.
    let stored = server.server().changes("demo-user", "todo");
    let title = stored.iter().find_map(|c| c["data"]["title"].as_str()).unwrap_or_default();
    println!("2. server: {} changes; a title as stored: {}…", stored.len(), title.get(..40).unwrap_or(title));

    // 3. Records, folded from the log (field by field, last write wins).
    let tablet = connect("tablet")?;
    let mut replica = Replica::new();
    let report = tablet.pull_into("todo", "tasks", &mut replica)?;
    println!(
        "3. tablet: {} changes folded into {} records:",
        report.applied,
        replica.records("tasks").count()
    );
    show(&replica, &tasks, &key)?;

    // 4. The tablet watches; a phone completes a task; the change arrives live.
    let mut live = tablet.watch_into("todo", &["tasks"], &mut replica)?;
    connect("phone")?.update(&tasks, "t-3", tasks.patch().set("isCompleted", true)?, Some(&key))?;
    let arrived = live.find_map(|event| match event {
        Ok(StreamEvent::Changes(batch)) if batch.changes.iter().any(|c| c.id == "t-3") => Some(Ok(batch)),
        Ok(_) => None,
        Err(e) => Some(Err(e)),
    });
    let batch = arrived.ok_or("the stream ended")??;
    drop(live);
    println!("4. phone completed \"Call Anna\"; the tablet got it live ({}):", batch.collection);
    show(&replica, &tasks, &key)?;
    Ok(())
}

//! The demo: the in-memory mana-sync server on loopback; tasks pushed with
//! the blocking (ureq) client, pulled back with both clients.
//!
//! Run: `cargo run -p mana-sync-testkit --example demo`

use mana_sync_core::{Change, Clock, Config, Cursor, SystemClock};
use mana_sync_testkit::{token_for, LoopbackServer, MemoryServer};
use serde_json::json;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = LoopbackServer::start(MemoryServer::with_clock(SystemClock))?;
    let url = server.base_url();
    let token = token_for("demo-user");
    println!("mana-sync (in memory) listening on {url}");

    // A blocking writer.
    let writer = mana_sync_ureq::client(Config::new(&url, token.clone(), "demo-writer")?)?;
    println!("health: {:?}", writer.health()?.status);
    let now = SystemClock.now();
    let titles = ["Buy milk", "Write the report", "Call Anna"];
    let mut changes: Vec<Change> = titles
        .iter()
        .enumerate()
        .map(|(i, title)| {
            let data = json!({"title": title, "isCompleted": false, "order": i});
            Change::insert("tasks", format!("task-{i}"), data.as_object().cloned().unwrap_or_default())
        })
        .collect();
    changes.push(Change::update("tasks", "task-0").with_field("isCompleted", true, now));
    let pushed = writer.push("todo", &changes, &Cursor::EPOCH)?;
    println!(
        "ureq: pushed {} changes in {} request(s); server clock {}",
        changes.len(),
        pushed.requests,
        pushed.synced_until
    );

    // An async reader.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let pulled = runtime.block_on(async {
        let reader = mana_sync_hyper::client(Config::new(&url, token.clone(), "demo-hyper")?)?;
        reader.pull_all("todo", "tasks", &Cursor::EPOCH).await
    })?;
    println!(
        "hyper: pulled {} changes in {} page(s), cursor {}",
        pulled.changes.len(),
        pulled.pages,
        pulled.cursor
    );
    for c in &pulled.changes {
        let what = match (&c.data, &c.fields) {
            (Some(data), _) => format!("{}", serde_json::Value::Object(data.clone())),
            (_, Some(fields)) => fields.keys().cloned().collect::<Vec<_>>().join(", "),
            _ => String::new(),
        };
        println!("  {:<6} {:<7} {what}", c.op, c.id);
    }

    // The blocking client reads the same.
    let reader = mana_sync_ureq::client(Config::new(&url, token, "demo-ureq-reader")?)?;
    let again = reader.pull_all("todo", "tasks", &Cursor::EPOCH)?;
    println!("ureq: pulled {} changes; nothing new after the cursor: {}", again.changes.len(), {
        reader.pull("todo", "tasks", &again.cursor)?.server_changes.is_empty()
    });
    println!(
        "the writer's own pull leaves its changes out: {} changes",
        writer.pull_all("todo", "tasks", &Cursor::EPOCH)?.changes.len()
    );
    println!(
        "server: {} TCP connections for {} requests",
        server.connections_accepted(),
        server.server().received().len()
    );
    Ok(())
}

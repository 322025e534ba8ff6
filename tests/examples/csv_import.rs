//! A blocking CSV import: each line `id,done,title` becomes a task of the
//! todo app, its title encrypted with the user's vault key, all in one
//! batch. Written generic over the transport: the tool runs it with
//! `mana_sync_ureq::client(config)?`, its tests (tests/csv_import.rs) with
//! the in-memory server.
//!
//! Run: `cargo run -p mana-sync-testkit --example csv_import`

use mana_sync_testkit::{token_for, InProcess, Vault};
use mana_sync_ureq::prelude::*;

/// A task as the todo app stores it.
#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    /// The record id.
    pub id: String,
    /// Encrypted on the wire.
    pub title: String,
    /// Done or not.
    pub is_completed: bool,
}

/// The tasks table, its title encrypted.
pub fn tasks() -> TableSpec<Task> {
    TableSpec::new("todo", "tasks").encrypted(&["title"])
}

/// Imports `csv` (a header line, then `id,done,title`; a title may hold
/// commas): checks every line, then pushes them all. Returns how many.
pub fn import<T: BlockingTransport>(
    client: &BlockingClient<T>,
    csv: &str,
) -> Result<usize, Box<dyn std::error::Error>> {
    let key = client.master_key()?;
    let mut batch = client.batch("todo");
    let rows = csv.lines().enumerate().skip(1).filter(|(_, line)| !line.trim().is_empty());
    let mut count = 0;
    for (n, line) in rows {
        let cells: Vec<&str> = line.splitn(3, ',').map(str::trim).collect();
        let [id, done @ ("true" | "false"), title] = cells[..] else {
            return Err(
                format!("line {}: expected id,done,title (done: true or false): {line:?}", n + 1).into()
            );
        };
        let task = Task { id: id.into(), title: title.into(), is_completed: done == "true" };
        batch.create(&tasks(), id, &task, Some(&key))?;
        count += 1;
    }
    client.push_batch(&batch)?;
    Ok(count)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The in-memory server holding the user's key; in real use:
    // mana_sync_ureq::client(config)? with the service's URLs and the JWT.
    let net = InProcess::default();
    net.server().set_vault("user-1", Vault::Standard(MasterKey::from_bytes(&[7; 32])?));
    let config = Config::new("http://mana.test", token_for("user-1"), "csv-import")?
        .with_auth_url("http://mana.test")?;
    let client = net.blocking_client(config);
    let imported = import(&client, "id,done,title\nt-1,false,Buy milk\nt-2,true,Call Anna, Ben\n")?;
    println!("imported {imported} tasks");
    Ok(())
}

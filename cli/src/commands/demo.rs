//! `demo`: the in-memory server in-process on a free loopback port; sample
//! tasks pushed with some fields encrypted, pulled back, folded, decrypted
//! and printed.

use mana_sync_core::crypto::{decrypt_fields, encrypt_fields, MasterKey, OsRng};
use std::time::Duration;

use mana_sync_core::ops::StreamEvent;
use mana_sync_core::{Change, Clock, Config, Cursor, SystemClock, Timestamp};
use mana_sync_testkit::{token_for, LoopbackServer, MemoryServer, Vault};
use serde_json::{json, Map, Value};

use crate::failure::{Failure, SERVER};
use crate::output;

/// The demo's user.
const USER: &str = "demo-user";
/// The demo's master key: not a secret, only for this demo.
const DEMO_KEY: [u8; 32] = [0x42; 32];
/// The fields the demo keeps encrypted.
const ENCRYPTED: [&str; 2] = ["title", "notes"];

fn fail(e: &mana_sync_core::Error, url: &str) -> Failure {
    Failure::from_error(e, url)
}

/// A new task as the browser writes it (its stamps in `createdAt` and
/// `updatedAt`).
fn task(title: &str, notes: &str, order: u32, at: Timestamp) -> Map<String, Value> {
    let at = at.to_string();
    let value = json!({"title": title, "notes": notes, "isCompleted": false, "order": order,
                       "createdAt": at, "updatedAt": at});
    value.as_object().cloned().unwrap_or_default()
}

/// Runs the demo.
pub fn run() -> Result<(), Failure> {
    let server = MemoryServer::with_clock(SystemClock);
    let key = MasterKey::from_bytes(&DEMO_KEY).map_err(|e| Failure::from(&e))?;
    server.set_vault(USER, Vault::Standard(key));
    let running = LoopbackServer::start(server)
        .map_err(|e| Failure::new(SERVER, format!("cannot start the demo server: {e}")))?;
    let url = running.base_url();
    output::line(&format!("mana-sync (in memory) on {url}, user {USER}"))?;

    let token = token_for(USER);
    let config = |client_id: &str| {
        Config::new(&url, token.clone(), client_id)
            .and_then(|c| c.with_auth_url(&url))
            .map_err(|e| fail(&e, &url))
    };
    let writer = mana_sync_ureq::client(config("demo-laptop")?).map_err(|e| fail(&e, &url))?;
    let key = writer.master_key().map_err(|e| fail(&e, &url))?;
    output::line("vault: the user's master key is available (standard vault)")?;

    let now = SystemClock.now();
    let samples = [
        ("Buy milk", "oat, 2 litres", 0),
        ("Write the report", "due Friday", 1),
        ("Call Anna", "about the trip", 2),
    ];
    let mut changes = Vec::new();
    for (i, (title, notes, order)) in samples.iter().enumerate() {
        let mut data = task(title, notes, *order, now);
        encrypt_fields(&key, &mut data, &ENCRYPTED, &mut OsRng).map_err(|e| Failure::from(&e))?;
        changes.push(Change::insert("tasks", format!("task-{i}"), data));
    }
    let later = now.checked_add(Duration::from_millis(1)).unwrap_or(now);
    changes.push(Change::update("tasks", "task-0").with_field("isCompleted", true, later));
    changes.push(Change::delete("tasks", "task-2", later));
    let pushed = writer
        .push("todo", &changes, &Cursor::EPOCH)
        .map_err(|e| fail(&e, &url))?;
    output::line(&format!(
        "push: {} changes ({} inserts with encrypted {}, an update, a delete) in {} request(s)",
        changes.len(),
        samples.len(),
        ENCRYPTED.join(" and "),
        pushed.requests
    ))?;

    let reader = mana_sync_ureq::client(config("demo-phone")?).map_err(|e| fail(&e, &url))?;
    let pulled = reader
        .pull_all("todo", "tasks", &Cursor::EPOCH)
        .map_err(|e| fail(&e, &url))?;
    output::line(&format!(
        "pull: {} changes in {} page(s) on another device; resume from {}",
        pulled.changes.len(),
        pulled.pages,
        pulled.cursor
    ))?;
    let first = pulled.changes.get(0).map(|c| c.to_change());
    if let Some(title) = first
        .as_ref()
        .and_then(|c| c.data.as_ref())
        .and_then(|d| d.get("title"))
        .and_then(Value::as_str)
    {
        let shown: String = title.chars().take(40).collect();
        output::line(&format!("  on the wire, a title reads {shown}..."))?;
    }

    let records = reader
        .records("todo", "tasks", false)
        .map_err(|e| fail(&e, &url))?;
    output::line(&format!(
        "records: {} live tasks, folded and decrypted:",
        records.len()
    ))?;
    for record in &records {
        let mut fields = record.to_json();
        decrypt_fields(&key, &mut fields, &ENCRYPTED).map_err(|e| Failure::from(&e))?;
        let done = fields.get("isCompleted").and_then(Value::as_bool) == Some(true);
        let text = |name: &str| {
            fields
                .get(name)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        output::line(&format!(
            "  [{}] {:<7} {:<18} {}",
            if done { "x" } else { " " },
            record.id,
            text("title"),
            text("notes")
        ))?;
    }
    // Live: the reader follows the stream from where its pull ended; the
    // writer completes a task, and the change arrives on the reader.
    let mut events = reader
        .stream("todo", &["tasks"], &pulled.cursor)
        .map_err(|e| fail(&e, &url))?;
    let done_at = SystemClock.now();
    writer
        .push(
            "todo",
            &[Change::update("tasks", "task-1").with_field("isCompleted", true, done_at)],
            &Cursor::from(done_at),
        )
        .map_err(|e| fail(&e, &url))?;
    for event in events.by_ref().take(20) {
        if let StreamEvent::Changes(batch) = event.map_err(|e| fail(&e, &url))? {
            if let Some(change) = batch.changes.iter().find(|c| c.id == "task-1") {
                let fields = change
                    .fields
                    .as_ref()
                    .map(|f| f.keys().cloned().collect::<Vec<_>>().join(", "))
                    .unwrap_or_default();
                output::line(&format!(
                    "live: the laptop completed {}; the phone got it through the stream \
                     ({} of {fields})",
                    change.id, change.op
                ))?;
                break;
            }
        }
    }
    drop(events);
    output::line(&format!(
        "server: {} requests over {} connection(s); stopping",
        running.server().request_count(),
        running.connections_accepted()
    ))?;
    Ok(())
}

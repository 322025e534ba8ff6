//! `sync`: the offline engine over a SQLite file, its status as JSON lines.

use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use mana_sync_core::engine::{
    ChangeSet, EngineError, EngineHandle, EngineSettings, Source, Status, Store, StoreError, Update,
};
use mana_sync_core::SystemClock;
use mana_sync_sqlite::{Durability, SqliteStore};
use serde_json::{json, Value};

use crate::args::{Global, SyncArgs, DEFAULT_CLIENT_ID};
use crate::connect::{config, transport};
use crate::failure::{Failure, SERVER, UNAUTHORIZED};
use crate::output;

/// Runs `sync`. Live (the default): JSON lines, a status each time it
/// changes and the ids of each batch of server changes, until Ctrl-C; a refused token ends it (exit 3). `--once`: the status
/// once every collection caught up and nothing is pending; a 402 ends it
/// (exit 3), and failures for longer than `--retry-for` (exit 5: what is
/// pending stays in the file for the next run).
pub fn run(global: &Global, args: &SyncArgs) -> Result<(), Failure> {
    let collections = super::collections(&args.collections)?;
    let mut global = global.clone();
    if global.client_id == DEFAULT_CLIENT_ID {
        // The database's own id: the engine must not share one with `push`
        // (the server leaves a client's own changes out of its pulls). The
        // file keeps the first id it is opened with.
        global.client_id = fresh_client_id();
    }
    let global = &global;
    let config = config(global, false)?;
    let transport = transport(global)?;
    let durability = if args.relaxed {
        Durability::Normal
    } else {
        Durability::Full
    };
    let store =
        SqliteStore::open_with(&args.db, durability).map_err(|e| store_failure(&args.db, &e))?;
    let settings = EngineSettings::new(&args.app, &collections).live(!args.once);
    let engine = EngineHandle::open(store, config, settings, SystemClock).map_err(|e| match e {
        EngineError::Store(e) => store_failure(&args.db, &e),
        EngineError::Sync(e) => Failure::from_error(&e, &global.url),
        other => Failure::usage(other.to_string()),
    })?;
    let lines = lines(&engine, !args.once);
    let driver = engine.spawn_blocking(transport);
    if !args.once {
        let stop = engine.clone();
        ctrlc::set_handler(move || stop.stop())
            .map_err(|e| Failure::new(SERVER, format!("cannot watch for Ctrl-C: {e}")))?;
    }
    let started = Instant::now();
    let budget = Duration::from_secs(global.retry_for);
    let mut outcome = Ok(());
    for line in lines {
        let status = match line {
            Line::Status(status) => status,
            Line::Changes(set) => {
                output::json(&changes_json(&set))?;
                continue;
            }
        };
        if !args.once {
            output::json(&status_json(&status))?;
        }
        let reason = status.last_error.clone().unwrap_or_default();
        if status.unauthorized {
            outcome = Err(Failure::new(
                UNAUTHORIZED,
                format!("{reason} (--token or MANA_TOKEN); the pending writes stay in the file"),
            ));
            break;
        }
        if !args.once {
            continue;
        }
        if let Some(paused) = &status.paused {
            outcome = Err(Failure::new(
                UNAUTHORIZED,
                format!("sync is paused by the server (402): {paused}"),
            ));
            break;
        }
        if status.caught_up && status.pending == 0 {
            output::json(&status_json(&status))?;
            break;
        }
        if status.retries > 0 && started.elapsed() >= budget {
            outcome = Err(Failure::new(
                SERVER,
                format!(
                    "gave up after {} s of failures (--retry-for): {reason}; {} writes stay \
                     pending in the file and go with the next sync",
                    global.retry_for, status.pending
                ),
            ));
            break;
        }
    }
    engine.stop();
    let _ = driver.join();
    outcome
}

/// A line of output.
enum Line {
    Status(Status),
    Changes(ChangeSet),
}

/// The statuses of `engine` and, `with_changes`, the server's change sets,
/// in one sequence as they come (each read on a thread of its own). It
/// ends when the engine stops.
fn lines<S: Store + 'static>(engine: &EngineHandle<S>, with_changes: bool) -> mpsc::IntoIter<Line> {
    let (tx, rx) = mpsc::channel();
    if with_changes {
        let changes = engine.subscribe(None);
        let tx = tx.clone();
        std::thread::spawn(move || {
            for update in changes {
                let line = match update {
                    Update::Changes(set) if set.source == Source::Server => Line::Changes(set),
                    _ => continue,
                };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
    }
    let statuses = engine.watch_status();
    std::thread::spawn(move || {
        for status in statuses {
            if tx.send(Line::Status(status)).is_err() {
                return;
            }
        }
    });
    rx.into_iter()
}

/// Server changes as a JSON object: the table and the ids.
fn changes_json(set: &ChangeSet) -> Value {
    let ids: Vec<&str> = set.records.iter().map(|r| r.id.as_str()).collect();
    json!({"event": "changes", "table": set.table, "ids": ids})
}

/// A client id no other database has: the time and the process id.
fn fresh_client_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("mana-sync-db-{nanos:x}-{:x}", std::process::id())
}

/// What a store error of `db` means here.
pub fn store_failure(db: &Path, error: &StoreError) -> Failure {
    let hint = match error {
        StoreError::Locked { .. } => "; stop the other `mana-sync sync` of this file first",
        StoreError::Foreign { .. } => "; give another --db",
        _ => "",
    };
    Failure::usage(format!("--db {}: {error}{hint}", db.display()))
}

/// The status as a JSON object (times in RFC 3339).
fn status_json(status: &Status) -> Value {
    let time = |t: Option<mana_sync_core::Timestamp>| t.map(|t| t.to_string());
    json!({
        "event": "status",
        "caughtUp": status.caught_up,
        "pending": status.pending,
        "oldestPending": time(status.oldest_pending),
        "lastPush": time(status.last_push),
        "lastPull": time(status.last_pull),
        "connected": status.connected,
        "live": status.live,
        "deadLetters": status.dead_letters,
        "retries": status.retries,
        "paused": status.paused,
        "unauthorized": status.unauthorized,
        "lastError": status.last_error,
    })
}

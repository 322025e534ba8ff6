//! The SQLite store: durable across reopen, one owner, clear errors for a
//! foreign, newer, corrupt or full file, and the engine running over it.

use std::path::PathBuf;

use mana_sync_core::engine::{
    Commit, Engine, EngineSettings, Instruction, OutboxEntry, Store, StoreError, SCHEMA_VERSION,
};
use mana_sync_core::fold::Slot;
use mana_sync_core::{Change, Config, Timestamp};
use mana_sync_sqlite::SqliteStore;
use mana_sync_testkit::{token_for, MemoryServer};

/// A fresh directory for one test, removed when dropped.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let dir =
            std::env::temp_dir().join(format!("mana-sync-sqlite-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        Dir(dir)
    }
    fn file(&self) -> PathBuf {
        self.0.join("app.db")
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn t0() -> Timestamp {
    mana_sync_testkit::start_time()
}

fn entry(seq: u64, change: Change) -> OutboxEntry {
    OutboxEntry {
        seq,
        change,
        written_at: t0(),
    }
}

#[test]
fn everything_committed_is_there_after_reopening() {
    let dir = Dir::new("reopen");
    let change = Change::update("tasks", "t-1").with_field("title", "Buy milk", t0());
    let (slot, _) = Slot::fold(None, &change);
    {
        let mut store = SqliteStore::open(dir.file()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(store.client_id("laptop").unwrap_or_default(), "laptop");
        store
            .commit(&Commit {
                slots: vec![("tasks".into(), "t-1".into(), slot.clone())],
                outbox_add: vec![entry(1, change.clone()), entry(2, change.clone())],
                ..Commit::default()
            })
            .unwrap_or_else(|e| panic!("{e}"));
        store
            .commit(&Commit {
                outbox_remove: vec![1],
                ..Commit::default()
            })
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let mut store = SqliteStore::open(dir.file()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(store.client_id("other").unwrap_or_default(), "laptop");
    assert_eq!(
        store.slot("tasks", "t-1").unwrap_or_else(|e| panic!("{e}")),
        slot
    );
    assert_eq!(store.records("tasks").unwrap_or_default().len(), 1);
    let outbox = store.outbox().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(outbox, vec![entry(2, change)]);
}

#[test]
fn a_second_owner_gets_a_clear_error() {
    let dir = Dir::new("locked");
    let _first = SqliteStore::open(dir.file()).unwrap_or_else(|e| panic!("{e}"));
    let second = SqliteStore::open(dir.file());
    assert!(
        matches!(second, Err(StoreError::Locked { .. })),
        "{second:?}"
    );
    let text = second.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(text.contains("in use by another process"), "{text}");
}

#[test]
fn a_foreign_file_is_refused_and_left_alone() {
    let dir = Dir::new("foreign");
    std::fs::write(
        dir.file(),
        b"this is not a database, it is a shopping list\n".repeat(100),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let before = std::fs::read(dir.file()).unwrap_or_default();
    let opened = SqliteStore::open(dir.file());
    assert!(
        matches!(opened, Err(StoreError::Foreign { .. })),
        "{opened:?}"
    );
    assert_eq!(
        std::fs::read(dir.file()).unwrap_or_default(),
        before,
        "unchanged"
    );

    // Another program's SQLite database.
    let other = dir.0.join("other.db");
    rusqlite_free_other_db(&other);
    let opened = SqliteStore::open(&other);
    assert!(
        matches!(opened, Err(StoreError::Foreign { .. })),
        "{opened:?}"
    );
}

/// Another program's SQLite database: an engine file whose application id
/// (header offset 68, 4 bytes big-endian) is then changed.
fn rusqlite_free_other_db(path: &std::path::Path) {
    {
        let _ = SqliteStore::open(path).unwrap_or_else(|e| panic!("{e}"));
    }
    let mut bytes = std::fs::read(path).unwrap_or_default();
    if bytes.len() > 72 {
        bytes[68..72].copy_from_slice(&0x1234_5678u32.to_be_bytes());
    }
    std::fs::write(path, bytes).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn a_file_of_a_newer_engine_is_refused() {
    let dir = Dir::new("newer");
    {
        let _ = SqliteStore::open(dir.file()).unwrap_or_else(|e| panic!("{e}"));
    }
    // user_version lives at offset 60 of the header.
    let mut bytes = std::fs::read(dir.file()).unwrap_or_default();
    bytes[60..64].copy_from_slice(&(SCHEMA_VERSION + 1).to_be_bytes());
    std::fs::write(dir.file(), &bytes).unwrap_or_else(|e| panic!("{e}"));
    let opened = SqliteStore::open(dir.file());
    match opened {
        Err(StoreError::NewerSchema { found, supported }) => {
            assert_eq!((found, supported), (SCHEMA_VERSION + 1, SCHEMA_VERSION));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        std::fs::read(dir.file()).unwrap_or_default(),
        bytes,
        "unchanged"
    );
}

#[test]
fn a_full_disk_fails_the_write_and_applies_none_of_it() {
    let dir = Dir::new("full");
    let mut store = SqliteStore::open(dir.file()).unwrap_or_else(|e| panic!("{e}"));
    let size = std::fs::metadata(dir.file()).map(|m| m.len()).unwrap_or(0);
    store
        .set_max_size(size.max(64 * 1024) + 64 * 1024)
        .unwrap_or_else(|e| panic!("{e}"));
    let big = "x".repeat(4000);
    let mut failed = None;
    for i in 0..1000u64 {
        let change =
            Change::update("tasks", format!("t-{i}")).with_field("title", big.as_str(), t0());
        let (slot, _) = Slot::fold(None, &change);
        let commit = Commit {
            slots: vec![("tasks".into(), format!("t-{i}"), slot)],
            outbox_add: vec![entry(i, change)],
            ..Commit::default()
        };
        if let Err(e) = store.commit(&commit) {
            failed = Some((i, e));
            break;
        }
    }
    let (i, error) = failed.unwrap_or_else(|| panic!("the cap was never reached"));
    assert!(matches!(error, StoreError::Full), "{error:?}");
    assert!(error.to_string().contains("disk is full"));
    // Nothing of the failed commit; everything before it.
    assert_eq!(
        store
            .slot("tasks", &format!("t-{i}"))
            .unwrap_or_else(|e| panic!("{e}")),
        None
    );
    assert_eq!(store.outbox().unwrap_or_default().len() as u64, i);
    assert_eq!(store.records("tasks").unwrap_or_default().len() as u64, i);
}

#[test]
fn a_stored_record_that_no_longer_decodes_is_reported_by_name() {
    let dir = Dir::new("corrupt");
    {
        let mut store = SqliteStore::open(dir.file()).unwrap_or_else(|e| panic!("{e}"));
        let change = Change::update("tasks", "t-1").with_field("title", "secret", t0());
        let (slot, _) = Slot::fold(None, &change);
        store
            .commit(&Commit {
                slots: vec![("tasks".into(), "t-1".into(), slot)],
                ..Commit::default()
            })
            .unwrap_or_else(|e| panic!("{e}"));
    }
    // Damage the row's text in place (same length, so the page stays valid).
    let mut bytes = std::fs::read(dir.file()).unwrap_or_default();
    let needle = b"\"secret\"";
    if let Some(at) = bytes.windows(needle.len()).position(|w| w == needle) {
        bytes[at] = b'{';
    }
    let wal = dir.file().with_extension("db-wal");
    assert!(!wal.exists() || std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0) == 0);
    std::fs::write(dir.file(), bytes).unwrap_or_else(|e| panic!("{e}"));
    let mut store = SqliteStore::open(dir.file()).unwrap_or_else(|e| panic!("{e}"));
    let error = store
        .slot("tasks", "t-1")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(error.contains("record tasks/t-1"), "{error}");
    assert!(!error.contains("secret"), "{error}");
}

#[test]
fn the_engine_runs_over_the_sqlite_store_and_resumes_from_the_file() {
    let dir = Dir::new("engine");
    let server = MemoryServer::new();
    let config = Config::new("http://sync.test", token_for("user-1"), "laptop")
        .unwrap_or_else(|e| panic!("{e}"));
    let settings = EngineSettings::new("todo", &["tasks"]);
    let now = server.now();
    {
        let store = SqliteStore::open(dir.file()).unwrap_or_else(|e| panic!("{e}"));
        let mut engine = Engine::open(store, config.clone(), settings.clone(), now)
            .unwrap_or_else(|e| panic!("{e}"));
        engine
            .write(
                vec![Change::update("tasks", "t-1").with_field("title", "Buy milk", now)],
                now,
            )
            .unwrap_or_else(|e| panic!("{e}"));
        // The process ends before the debounce: nothing was pushed.
    }
    let store = SqliteStore::open(dir.file()).unwrap_or_else(|e| panic!("{e}"));
    let mut engine = Engine::open(store, config, settings, now).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(engine.status(now).pending, 1);
    let mut now = now;
    for _ in 0..100 {
        match engine.poll(now) {
            Instruction::Send { request, .. } => {
                engine.on_response(now, Ok(server.handle(request)))
            }
            Instruction::Wait { until: Some(t) } if engine.status(now).pending > 0 => now = t,
            _ => break,
        }
    }
    assert_eq!(engine.status(now).pending, 0);
    assert_eq!(server.stored_count("user-1"), 1);
    let mut store = engine.into_store();
    assert!(store.outbox().unwrap_or_default().is_empty());
    assert!(store
        .collection("tasks")
        .unwrap_or_default()
        .cursor
        .is_some());
}

#[test]
fn a_file_of_every_earlier_schema_version_is_migrated() {
    // Version 0 is an empty file (the only earlier version so far): it is
    // brought to the current version at open, in one transaction.
    let dir = Dir::new("migrate");
    std::fs::write(dir.file(), b"").unwrap_or_else(|e| panic!("{e}"));
    {
        let mut store = SqliteStore::open(dir.file()).unwrap_or_else(|e| panic!("{e}"));
        assert!(store.outbox().unwrap_or_else(|e| panic!("{e}")).is_empty());
    }
    let bytes = std::fs::read(dir.file()).unwrap_or_default();
    assert_eq!(bytes[60..64], SCHEMA_VERSION.to_be_bytes(), "user_version");
    assert_eq!(
        bytes[68..72],
        0x4D53_4E45u32.to_be_bytes(),
        "application_id"
    );
}

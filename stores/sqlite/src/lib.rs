//! # mana-sync-sqlite
//!
//! The [`Store`] of the mana-sync offline engine
//! ([`mana_sync_core::engine`]) in one SQLite file: records with their
//! per-field stamps, cursors and delivered-id windows, the outbox, the
//! conflict log, the dead letters and the engine's client id.
//!
//! * **Durable**: WAL, and every commit synced to disk before it returns
//!   (`synchronous = FULL`); [`Durability::Normal`] relaxes that (a power
//!   loss may then drop the last commits, never corrupt the file).
//! * **All or nothing**: each [`Store::commit`] is one transaction; a full
//!   disk or a read-only file fails the write and applies none of it.
//! * **One owner**: the file is opened in SQLite's exclusive locking mode and
//!   locked at open: a second process (or a second store in this one) gets
//!   [`StoreError::Locked`].
//! * **Clear errors**: a file that is not an engine database (another
//!   program's, or corrupt) is [`StoreError::Foreign`], one written by a
//!   newer engine [`StoreError::NewerSchema`]; nothing is changed in either
//!   case.
//!
//! ```
//! use mana_sync_core::engine::Store;
//! use mana_sync_sqlite::SqliteStore;
//!
//! let dir = std::env::temp_dir().join(format!("mana-sync-sqlite-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let path = dir.join("app.db");
//! # let _ = std::fs::remove_file(&path);
//! let mut store = SqliteStore::open(&path)?;
//! assert_eq!(store.client_id("laptop-1")?, "laptop-1");
//! drop(store);
//! let mut again = SqliteStore::open(&path)?;
//! assert_eq!(again.client_id("other")?, "laptop-1", "the client id lives in the file");
//! # drop(again); std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod errors;
mod schema;

use std::path::{Path, PathBuf};

use mana_sync_core::engine::{
    CollectionState, Commit, ConflictEntry, DeadLetter, OutboxEntry, Store, StoreError,
};
use mana_sync_core::fold::{Record, Slot};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde::de::DeserializeOwned;
use serde::Serialize;

use errors::{decode_err, map_err};

/// How hard each commit insists on reaching the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// Synced to disk before the commit returns (`synchronous = FULL`): a
    /// returned write survives a power loss. The default.
    #[default]
    Full,
    /// Synced at WAL checkpoints only (`synchronous = NORMAL`): faster; a
    /// power loss (not a crash of the process) may drop the last commits.
    Normal,
}

/// The engine's store in a SQLite file.
pub struct SqliteStore {
    conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish()
    }
}

impl SqliteStore {
    /// Opens (or creates) the database at `path`, fully durable.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore, StoreError> {
        SqliteStore::open_with(path, Durability::Full)
    }

    /// Opens (or creates) the database at `path` with this durability.
    pub fn open_with(
        path: impl AsRef<Path>,
        durability: Durability,
    ) -> Result<SqliteStore, StoreError> {
        let path = path.as_ref().to_path_buf();
        let shown = path.display().to_string();
        let conn = Connection::open(&path).map_err(|e| map_err(&shown, e))?;
        schema::prepare(&conn, &shown, durability)?;
        Ok(SqliteStore { conn, path })
    }

    /// Caps the file's size (rounded down to whole pages): past it a
    /// commit fails with [`StoreError::Full`] and applies nothing, as on a
    /// full disk.
    pub fn set_max_size(&mut self, bytes: u64) -> Result<(), StoreError> {
        let shown = self.shown();
        let page: i64 = self
            .conn
            .pragma_query_value(None, "page_size", |r| r.get(0))
            .map_err(|e| map_err(&shown, e))?;
        let pages = i64::try_from(bytes).unwrap_or(i64::MAX) / page.max(1);
        self.conn
            .pragma_query_value(None, "max_page_count", |r| r.get::<_, i64>(0))
            .and_then(|_| {
                self.conn.query_row(
                    &format!("PRAGMA max_page_count = {}", pages.max(1)),
                    [],
                    |r| r.get::<_, i64>(0),
                )
            })
            .map_err(|e| map_err(&shown, e))?;
        Ok(())
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn shown(&self) -> String {
        self.path.display().to_string()
    }

    fn rows<T: DeserializeOwned>(&self, sql: &str, what: &str) -> Result<Vec<T>, StoreError> {
        let shown = self.shown();
        let mut statement = self
            .conn
            .prepare_cached(sql)
            .map_err(|e| map_err(&shown, e))?;
        let texts = statement
            .query_map([], |row| row.get::<_, String>(0))
            .map_err(|e| map_err(&shown, e))?
            .collect::<Result<Vec<String>, _>>()
            .map_err(|e| map_err(&shown, e))?;
        texts
            .iter()
            .map(|text| serde_json::from_str(text).map_err(|e| decode_err(what, &e)))
            .collect()
    }
}

fn json<T: Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Backend(format!("cannot encode: {e}")))
}

impl Store for SqliteStore {
    fn client_id(&mut self, fresh: &str) -> Result<String, StoreError> {
        let shown = self.shown();
        let held: Option<String> = self
            .conn
            .query_row("SELECT value FROM meta WHERE key = 'client_id'", [], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|e| map_err(&shown, e))?;
        if let Some(id) = held {
            return Ok(id);
        }
        self.conn
            .execute(
                "INSERT INTO meta (key, value) VALUES ('client_id', ?1)",
                params![fresh],
            )
            .map_err(|e| map_err(&shown, e))?;
        Ok(fresh.to_owned())
    }

    fn slot(&mut self, table: &str, id: &str) -> Result<Option<Slot>, StoreError> {
        let shown = self.shown();
        let text: Option<String> = self
            .conn
            .prepare_cached("SELECT slot FROM records WHERE tbl = ?1 AND id = ?2")
            .and_then(|mut s| s.query_row(params![table, id], |r| r.get(0)).optional())
            .map_err(|e| map_err(&shown, e))?;
        text.map(|t| {
            serde_json::from_str(&t).map_err(|e| decode_err(&format!("record {table}/{id}"), &e))
        })
        .transpose()
    }

    fn records(&mut self, table: &str) -> Result<Vec<Record>, StoreError> {
        let shown = self.shown();
        let mut statement = self
            .conn
            .prepare_cached("SELECT id, slot FROM records WHERE tbl = ?1 ORDER BY id")
            .map_err(|e| map_err(&shown, e))?;
        let rows = statement
            .query_map(params![table], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(|e| map_err(&shown, e))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, text) = row.map_err(|e| map_err(&shown, e))?;
            let slot: Slot = serde_json::from_str(&text)
                .map_err(|e| decode_err(&format!("record {table}/{id}"), &e))?;
            if let Slot::Live(record) = slot {
                out.push(record);
            }
        }
        Ok(out)
    }

    fn outbox(&mut self) -> Result<Vec<OutboxEntry>, StoreError> {
        self.rows("SELECT entry FROM outbox ORDER BY seq", "outbox entry")
    }

    fn collection(&mut self, name: &str) -> Result<CollectionState, StoreError> {
        let shown = self.shown();
        let text: Option<String> = self
            .conn
            .prepare_cached("SELECT state FROM collections WHERE name = ?1")
            .and_then(|mut s| s.query_row(params![name], |r| r.get(0)).optional())
            .map_err(|e| map_err(&shown, e))?;
        match text {
            Some(t) => {
                serde_json::from_str(&t).map_err(|e| decode_err(&format!("collection {name}"), &e))
            }
            None => Ok(CollectionState::default()),
        }
    }

    fn dead_letters(&mut self) -> Result<Vec<DeadLetter>, StoreError> {
        self.rows("SELECT entry FROM dead_letters ORDER BY seq", "dead letter")
    }

    fn conflicts(&mut self) -> Result<Vec<ConflictEntry>, StoreError> {
        self.rows("SELECT entry FROM conflicts ORDER BY n", "conflict")
    }

    fn commit(&mut self, commit: &Commit) -> Result<(), StoreError> {
        let shown = self.shown();
        let e = |e| map_err(&shown, e);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(e)?;
        {
            for (table, id, slot) in &commit.slots {
                match slot {
                    Some(slot) => {
                        let text = json(slot)?;
                        tx.prepare_cached(
                            "INSERT INTO records (tbl, id, slot) VALUES (?1, ?2, ?3) \
                             ON CONFLICT (tbl, id) DO UPDATE SET slot = excluded.slot",
                        )
                        .and_then(|mut s| s.execute(params![table, id, text]))
                        .map_err(e)?;
                    }
                    None => {
                        tx.prepare_cached("DELETE FROM records WHERE tbl = ?1 AND id = ?2")
                            .and_then(|mut s| s.execute(params![table, id]))
                            .map_err(e)?;
                    }
                }
            }
            for seq in &commit.outbox_remove {
                let seq = seq_key(*seq)?;
                tx.prepare_cached("DELETE FROM outbox WHERE seq = ?1")
                    .and_then(|mut s| s.execute(params![seq]))
                    .map_err(e)?;
            }
            for entry in &commit.outbox_add {
                let (seq, text) = (seq_key(entry.seq)?, json(entry)?);
                tx.prepare_cached("INSERT OR REPLACE INTO outbox (seq, entry) VALUES (?1, ?2)")
                    .and_then(|mut s| s.execute(params![seq, text]))
                    .map_err(e)?;
            }
            for (name, state) in &commit.collections {
                let text = json(state)?;
                tx.prepare_cached(
                    "INSERT INTO collections (name, state) VALUES (?1, ?2) \
                     ON CONFLICT (name) DO UPDATE SET state = excluded.state",
                )
                .and_then(|mut s| s.execute(params![name, text]))
                .map_err(e)?;
            }
            if commit.clear_conflicts {
                tx.execute("DELETE FROM conflicts", []).map_err(e)?;
            }
            for conflict in &commit.conflicts {
                let text = json(conflict)?;
                tx.prepare_cached("INSERT INTO conflicts (entry) VALUES (?1)")
                    .and_then(|mut s| s.execute(params![text]))
                    .map_err(e)?;
            }
            for seq in &commit.dead_letters_remove {
                let seq = seq_key(*seq)?;
                tx.prepare_cached("DELETE FROM dead_letters WHERE seq = ?1")
                    .and_then(|mut s| s.execute(params![seq]))
                    .map_err(e)?;
            }
            for dead in &commit.dead_letters {
                let (seq, text) = (seq_key(dead.entry.seq)?, json(dead)?);
                tx.prepare_cached(
                    "INSERT OR REPLACE INTO dead_letters (seq, entry) VALUES (?1, ?2)",
                )
                .and_then(|mut s| s.execute(params![seq, text]))
                .map_err(e)?;
            }
        }
        tx.commit().map_err(e)
    }
}

/// An outbox seq as SQLite's signed integer.
fn seq_key(seq: u64) -> Result<i64, StoreError> {
    i64::try_from(seq).map_err(|_| StoreError::Backend(format!("outbox seq {seq} out of range")))
}

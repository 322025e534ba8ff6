//! The file's schema: its marks (application id, version), the migrations
//! from each earlier version, the pragmas of every connection.

use mana_sync_core::engine::{StoreError, SCHEMA_VERSION};
use rusqlite::Connection;

use crate::errors::map_err;
use crate::Durability;

/// SQLite's `application_id` of an engine database ("MSNE").
pub(crate) const APPLICATION_ID: i32 = 0x4D53_4E45;

/// The migration from version `i` to `i + 1`, for each `i`: version 0 is
/// an empty file. A new schema version adds its step here; a file of any
/// earlier version is brought up to date in one transaction at open.
pub(crate) const MIGRATIONS: &[&str] = &[
    // 0 -> 1
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
     CREATE TABLE records (tbl TEXT NOT NULL, id TEXT NOT NULL, slot TEXT NOT NULL,
                           PRIMARY KEY (tbl, id)) WITHOUT ROWID;
     CREATE TABLE outbox (seq INTEGER PRIMARY KEY, entry TEXT NOT NULL);
     CREATE TABLE collections (name TEXT PRIMARY KEY, state TEXT NOT NULL) WITHOUT ROWID;
     CREATE TABLE conflicts (n INTEGER PRIMARY KEY AUTOINCREMENT, entry TEXT NOT NULL);
     CREATE TABLE dead_letters (seq INTEGER PRIMARY KEY, entry TEXT NOT NULL);",
];

/// Sets up a freshly opened connection: locks the file for this process,
/// checks what the file is, migrates it, sets the durability.
pub(crate) fn prepare(
    conn: &Connection,
    path: &str,
    durability: Durability,
) -> Result<(), StoreError> {
    let e = |e| map_err(path, e);
    // One owner: the exclusive locking mode keeps the lock taken by the
    // first write transaction until the connection closes.
    conn.pragma_update(None, "locking_mode", "EXCLUSIVE")
        .map_err(e)?;
    // Reading the header tells a foreign or corrupt file apart before
    // anything is written.
    let application_id: i32 = conn
        .pragma_query_value(None, "application_id", |r| r.get(0))
        .map_err(e)?;
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(e)?;
    let tables: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
        .map_err(e)?;
    if application_id != APPLICATION_ID && (application_id != 0 || tables > 0) {
        return Err(StoreError::Foreign {
            path: path.to_owned(),
            reason: format!(
                "its application id is {application_id:#x} with {tables} schema objects; an \
                 engine database has {APPLICATION_ID:#x}"
            ),
        });
    }
    let version = u32::try_from(version).map_err(|_| StoreError::Foreign {
        path: path.to_owned(),
        reason: format!("its schema version {version} is not one the engine writes"),
    })?;
    if version > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema {
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    conn.pragma_update(None, "journal_mode", "WAL").map_err(e)?;
    let synchronous = match durability {
        Durability::Full => "FULL",
        Durability::Normal => "NORMAL",
    };
    conn.pragma_update(None, "synchronous", synchronous)
        .map_err(e)?;
    // Migrate (or, up to date, just touch the meta table) in one write
    // transaction: it also takes the exclusive lock.
    let mut script = String::from("BEGIN IMMEDIATE;");
    for step in MIGRATIONS.iter().skip(version as usize) {
        script.push_str(step);
    }
    script.push_str(&format!(
        "PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
    ));
    conn.execute_batch(&script).map_err(|err| {
        let _ = conn.execute_batch("ROLLBACK");
        e(err)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn there_is_one_migration_per_version() {
        assert_eq!(MIGRATIONS.len(), SCHEMA_VERSION as usize);
    }
}

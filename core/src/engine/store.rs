//! [`Store`]: what the engine keeps durably, behind plain synchronous calls,
//! each one transaction.

use crate::fold::{FoldConflict, Seen, Slot};
use crate::wire::object_form;
use crate::{Change, Cursor, Timestamp};

/// The version of the engine's own schema that this build writes. A store
/// holding a newer one refuses to open ([`StoreError::NewerSchema`]).
pub const SCHEMA_VERSION: u32 = 1;

object_form! {
    expecting "a saved outbox entry";
    /// A local write waiting for the server's acknowledgement.
    #[derive(Debug, Clone, PartialEq)]
    pub struct OutboxEntry {
        /// Its place in the outbox: entries are pushed in this order.
        pub seq: u64,
        /// The change, exactly as it will be pushed (encrypted fields already
        /// encrypted).
        pub change: Change,
        /// When it was written locally.
        pub written_at: Timestamp,
    }
}

object_form! {
    expecting "a saved dead letter";
    /// A change the server refused for good (400), kept with its text so the
    /// app can show it, fix it or drop it. It left the outbox: the rest goes on.
    #[derive(Debug, Clone, PartialEq)]
    pub struct DeadLetter {
        /// The outbox entry it was.
        pub entry: OutboxEntry,
        /// What the server (or the client's own check) said, bounded.
        pub reason: String,
        /// When it was refused.
        pub at: Timestamp,
    }
}

object_form! {
    expecting "a saved conflict entry";
    /// A local value that lost to a later server value (information for the
    /// user), with when the engine saw it.
    #[derive(Debug, Clone, PartialEq)]
    pub struct ConflictEntry {
        /// The losing local value and the winner.
        pub conflict: FoldConflict,
        /// When the engine folded the winner in.
        pub at: Timestamp,
    }
}

object_form! {
    expecting "a saved collection state";
    /// Where a synced collection stands: the cursor its next catch-up starts
    /// from (before the overlap) and the changes that catch-up may bring again.
    #[derive(Debug, Clone, Default, PartialEq)]
    pub struct CollectionState {
        /// The cursor (`None`: never read).
        pub cursor: Option<Cursor>,
        /// The delivered-id window.
        pub seen: Seen,
    }
}

/// What one [`Store::commit`] writes, all or nothing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Commit {
    /// Records to write: `(table, id, state)`; `None` removes the record.
    pub slots: Vec<(String, String, Option<Slot>)>,
    /// Entries to add to the outbox.
    pub outbox_add: Vec<OutboxEntry>,
    /// Outbox entries to remove (acknowledged, or dead-lettered), by seq.
    pub outbox_remove: Vec<u64>,
    /// Collections whose state moves.
    pub collections: Vec<(String, CollectionState)>,
    /// Conflicts to log.
    pub conflicts: Vec<ConflictEntry>,
    /// Changes refused for good.
    pub dead_letters: Vec<DeadLetter>,
    /// Empties the conflict log first.
    pub clear_conflicts: bool,
    /// Dead letters to remove, by their entry's seq.
    pub dead_letters_remove: Vec<u64>,
}

impl Commit {
    /// Whether it writes nothing.
    pub fn is_empty(&self) -> bool {
        *self == Commit::default()
    }
}

/// Why a store call failed. The engine passes these on to the app; a
/// failed [`Store::commit`] wrote nothing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The store was written by a newer version of the engine.
    #[error(
        "the database holds engine schema version {found}, and this build knows at most \
         {supported}: open it with a newer version of mana-sync (nothing was changed)"
    )]
    NewerSchema {
        /// The version found.
        found: u32,
        /// The newest this build knows.
        supported: u32,
    },
    /// The file is not an engine database (corrupt, or another program's).
    #[error("{path} is not a mana-sync engine database: {reason}")]
    Foreign {
        /// The file.
        path: String,
        /// What was found instead.
        reason: String,
    },
    /// Another process owns the database.
    #[error("{path} is in use by another process (one process syncs a database at a time)")]
    Locked {
        /// The file.
        path: String,
    },
    /// The disk is full: the write failed and nothing of it was applied.
    #[error("the disk is full: the write was not applied (free some space and try again)")]
    Full,
    /// The file cannot be written (read-only file or file system).
    #[error("the database cannot be written ({reason}): the write was not applied")]
    ReadOnly {
        /// Why, from the database.
        reason: String,
    },
    /// Something stored does not decode.
    #[error("stored {what} does not decode: {reason}")]
    Corrupt {
        /// What (e.g. `record tasks/t-1`).
        what: String,
        /// Why.
        reason: String,
    },
    /// Any other failure of the store's backend.
    #[error("the store failed: {0}")]
    Backend(String),
}

/// The engine's durable state, behind plain synchronous calls. Each call is
/// one transaction: [`Store::commit`] applies all of a [`Commit`] or none
/// of it, and is durable when it returns (as durable as the store is
/// configured to be).
///
/// [`MemoryStore`](super::MemoryStore) keeps it in memory (tests); the
/// `mana-sync-sqlite` crate keeps it in a SQLite file.
pub trait Store: Send {
    /// The engine's client id: the stored one, else `fresh`, stored now.
    fn client_id(&mut self, fresh: &str) -> Result<String, StoreError>;
    /// A record's state.
    fn slot(&mut self, table: &str, id: &str) -> Result<Option<Slot>, StoreError>;
    /// Every record of a table (soft-deleted ones included), by id.
    fn records(&mut self, table: &str) -> Result<Vec<crate::fold::Record>, StoreError>;
    /// The outbox, oldest first.
    fn outbox(&mut self) -> Result<Vec<OutboxEntry>, StoreError>;
    /// A collection's state.
    fn collection(&mut self, name: &str) -> Result<CollectionState, StoreError>;
    /// The dead letters, oldest first.
    fn dead_letters(&mut self) -> Result<Vec<DeadLetter>, StoreError>;
    /// The conflict log, oldest first.
    fn conflicts(&mut self) -> Result<Vec<ConflictEntry>, StoreError>;
    /// Writes a [`Commit`], all or nothing.
    fn commit(&mut self, commit: &Commit) -> Result<(), StoreError>;
}

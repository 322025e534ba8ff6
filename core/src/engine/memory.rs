//! [`MemoryStore`]: the engine's store in memory, for tests and for apps
//! that keep nothing between runs.

use std::collections::BTreeMap;

use super::store::{
    CollectionState, Commit, ConflictEntry, DeadLetter, OutboxEntry, Store, StoreError,
};
use crate::fold::{Record, Slot};

/// A [`Store`] in memory. Cloning it copies its contents: a test "reopens"
/// a store by handing a clone of it to a new engine.
///
/// ```
/// use mana_sync_core::engine::{Commit, MemoryStore, Store};
///
/// let mut store = MemoryStore::new();
/// assert_eq!(store.client_id("fresh-id")?, "fresh-id");
/// assert_eq!(store.client_id("another")?, "fresh-id", "kept");
/// store.commit(&Commit::default())?;
/// assert!(store.outbox()?.is_empty());
/// # Ok::<(), mana_sync_core::engine::StoreError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MemoryStore {
    client_id: Option<String>,
    slots: BTreeMap<(String, String), Slot>,
    outbox: BTreeMap<u64, OutboxEntry>,
    collections: BTreeMap<String, CollectionState>,
    conflicts: Vec<ConflictEntry>,
    dead_letters: Vec<DeadLetter>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }
}

impl Store for MemoryStore {
    fn client_id(&mut self, fresh: &str) -> Result<String, StoreError> {
        Ok(self
            .client_id
            .get_or_insert_with(|| fresh.to_owned())
            .clone())
    }

    fn slot(&mut self, table: &str, id: &str) -> Result<Option<Slot>, StoreError> {
        Ok(self.slots.get(&(table.to_owned(), id.to_owned())).cloned())
    }

    fn records(&mut self, table: &str) -> Result<Vec<Record>, StoreError> {
        Ok(self
            .slots
            .range((table.to_owned(), String::new())..)
            .take_while(|((t, _), _)| t == table)
            .filter_map(|(_, slot)| slot.record().cloned())
            .collect())
    }

    fn outbox(&mut self) -> Result<Vec<OutboxEntry>, StoreError> {
        Ok(self.outbox.values().cloned().collect())
    }

    fn collection(&mut self, name: &str) -> Result<CollectionState, StoreError> {
        Ok(self.collections.get(name).cloned().unwrap_or_default())
    }

    fn dead_letters(&mut self) -> Result<Vec<DeadLetter>, StoreError> {
        Ok(self.dead_letters.clone())
    }

    fn conflicts(&mut self) -> Result<Vec<ConflictEntry>, StoreError> {
        Ok(self.conflicts.clone())
    }

    fn commit(&mut self, commit: &Commit) -> Result<(), StoreError> {
        for (table, id, slot) in &commit.slots {
            let key = (table.clone(), id.clone());
            match slot {
                Some(slot) => self.slots.insert(key, slot.clone()),
                None => self.slots.remove(&key),
            };
        }
        for seq in &commit.outbox_remove {
            self.outbox.remove(seq);
        }
        for entry in &commit.outbox_add {
            self.outbox.insert(entry.seq, entry.clone());
        }
        for (name, state) in &commit.collections {
            self.collections.insert(name.clone(), state.clone());
        }
        if commit.clear_conflicts {
            self.conflicts.clear();
        }
        self.conflicts.extend(commit.conflicts.iter().cloned());
        self.dead_letters
            .retain(|d| !commit.dead_letters_remove.contains(&d.entry.seq));
        self.dead_letters
            .extend(commit.dead_letters.iter().cloned());
        Ok(())
    }
}

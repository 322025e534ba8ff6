//! [`Slot`]: one record's folded state on its own, as a store keeps it
//! (the engine folds each change into the one record it touches, loaded
//! from its store, instead of holding a whole [`Replica`] in memory).

use std::hash::BuildHasher;

use serde::{Deserialize, Serialize};

use super::table::Tombstone;
use super::{Applied, FieldState, Record, Replica};
use crate::{Change, Timestamp};

/// One record's state, with the same rules as a [`Replica`]'s (the module
/// docs of [`crate::fold`]): a live (or soft-deleted) record, a soft delete
/// that arrived before its record, or a final hard delete.
///
/// ```
/// # use mana_sync_core::surface as mana_sync_ureq;
/// use mana_sync_ureq::fold::Slot;
/// use mana_sync_ureq::{Change, Timestamp};
/// use serde_json::json;
///
/// let t = |s| Timestamp::parse(s).unwrap();
/// let update = Change::update("tasks", "t-1").with_field("title", "Buy milk", t("2026-04-23T11:00:00Z"));
/// let (slot, _) = Slot::fold(None, &update);
/// let stale = Change::update("tasks", "t-1").with_field("title", "old", t("2026-04-23T10:00:00Z"));
/// let (slot, _) = Slot::fold(slot, &stale);
/// let Some(Slot::Live(record)) = slot else { unreachable!() };
/// assert_eq!(record.get("title").as_deref(), Some(&json!("Buy milk")));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Slot {
    /// The record (soft-deleted when its `deletedAt` is set).
    Live(Record),
    /// A soft delete of a record not known yet: the `deletedAt` write,
    /// merged into the record when it arrives.
    PendingDelete(FieldState),
    /// Hard-deleted: every later change of the record is absorbed.
    Gone,
}

impl Slot {
    /// Folds `change` into a record's state (`None`: nothing known of it).
    /// The state is that of the change's table and id; what
    /// [`Replica::apply`] would do with the same change.
    pub fn fold(slot: Option<Slot>, change: &Change) -> (Option<Slot>, Applied) {
        let mut replica = Replica::new();
        let hasher = replica.hasher.clone();
        let hash = hasher.hash_one(change.id.as_str());
        {
            let table = replica.tables.entry_ref(change.table.as_str()).or_default();
            match slot {
                Some(Slot::Live(mut record)) => {
                    record.id.clone_from(&change.id);
                    table.records.insert_new(hash, record, &hasher);
                }
                Some(Slot::PendingDelete(state)) => {
                    let tombstone = Tombstone {
                        hard: false,
                        fields: [(Record::DELETED_AT.to_owned(), state)].into(),
                    };
                    table.tombstones = super::table::Tombstones::from_saved(
                        [(change.id.clone(), tombstone)].into(),
                        &hasher,
                    );
                }
                Some(Slot::Gone) => table.tombstones.hard_delete(hash, &change.id, &hasher),
                None => {}
            }
        }
        let applied = replica.apply(change, Timestamp::UNIX_EPOCH);
        let Some(table) = replica.tables.get_mut(change.table.as_str()) else {
            return (None, applied);
        };
        if let Some(record) = table.records.get(hash, &change.id) {
            return (Some(Slot::Live(record.clone())), applied);
        }
        let slot = table.tombstones.remove(hash, &change.id).map(|t| {
            match (t.hard, t.fields.into_iter().next()) {
                (false, Some((_, state))) => Slot::PendingDelete(state),
                _ => Slot::Gone,
            }
        });
        (slot, applied)
    }

    /// The record, when it is live (soft-deleted or not).
    pub fn record(&self) -> Option<&Record> {
        match self {
            Slot::Live(record) => Some(record),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn t(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap_or(Timestamp::UNIX_EPOCH)
    }

    /// Folding change by change through slots gives what a replica gives.
    #[test]
    fn slots_fold_as_a_replica_does() {
        let data = json!({"title": "a", "updatedAt": "2026-01-01T00:00:01.000Z"});
        let changes = vec![
            Change::delete("tasks", "t-2", t("2026-01-01T00:00:05Z")),
            Change::insert(
                "tasks",
                "t-1",
                data.as_object().cloned().unwrap_or_default(),
            ),
            Change::update("tasks", "t-1").with_field("title", "b", t("2026-01-01T00:00:02Z")),
            Change::update("tasks", "t-1").with_field("title", "old", t("2026-01-01T00:00:00Z")),
            Change::update("tasks", "t-2").with_field("title", "x", t("2026-01-01T00:00:01Z")),
            Change::hard_delete("tasks", "t-3"),
            Change::update("tasks", "t-3").with_field("title", "back?", t("2026-01-01T00:00:09Z")),
            Change::delete("tasks", "t-4", t("2026-01-01T00:00:05Z")),
        ];
        let mut replica = Replica::new();
        let mut slots = std::collections::BTreeMap::new();
        for change in &changes {
            let want = replica.apply(change, Timestamp::UNIX_EPOCH);
            let held = slots.remove(&change.id);
            let (slot, applied) = Slot::fold(held, change);
            assert_eq!(applied, want, "{change:?}");
            if let Some(slot) = slot {
                slots.insert(change.id.clone(), slot);
            }
        }
        for id in ["t-1", "t-2"] {
            assert_eq!(
                slots.get(id).and_then(Slot::record),
                replica.record("tasks", id),
                "{id}"
            );
        }
        assert_eq!(slots.get("t-3"), Some(&Slot::Gone));
        assert!(matches!(slots.get("t-4"), Some(Slot::PendingDelete(_))));
        let saved = serde_json::to_string(&slots).unwrap_or_default();
        let loaded: std::collections::BTreeMap<String, Slot> =
            serde_json::from_str(&saved).unwrap_or_default();
        assert_eq!(loaded, slots);
    }
}

//! The outbox's batches: which pending entries go in the next push, with
//! repeated updates of one record merged.

use std::collections::{BTreeMap, HashMap};

use super::store::OutboxEntry;
use crate::fold::Slot;
use crate::{Change, FieldChange, Op};

/// The changes of one push request and the outbox entries they stand for
/// (removed from the outbox when the server acknowledges the request).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Batch {
    /// The outbox entries, by seq.
    pub(crate) seqs: Vec<u64>,
    /// The changes to send (fewer than the entries when updates merged).
    pub(crate) changes: Vec<Change>,
}

/// Whether two updates of one record can be sent as one: same record, same
/// actor, origin and space, and both plain updates.
fn mergeable(a: &Change, b: &Change) -> bool {
    let plain = |c: &Change| c.op == Op::Update && c.deleted_at.is_none() && c.fields.is_some();
    plain(a)
        && plain(b)
        && a.table == b.table
        && a.id == b.id
        && a.actor == b.actor
        && a.origin == b.origin
        && a.space_id == b.space_id
        && a.schema_version == b.schema_version
}

/// Merges update `b` into update `a`: each field keeps the write that wins
/// by the fold's rules, so folding the merged update gives what folding
/// both does.
fn merge(a: &mut Change, b: &Change) {
    let (slot, _) = Slot::fold(None, a);
    let (slot, _) = Slot::fold(slot, b);
    let Some(Slot::Live(record)) = slot else {
        return;
    };
    let fields: BTreeMap<String, FieldChange> = record
        .fields()
        .map(|(name, state)| {
            let change = FieldChange {
                value: state.value().into_owned(),
                at: state.at(),
            };
            (name.to_owned(), change)
        })
        .collect();
    a.fields = Some(fields);
}

/// The next batch: entries in outbox order, at most `max_changes` changes
/// after merging (consecutive updates of one record with nothing else of
/// that record between them merge into one change).
pub(crate) fn next_batch<'a>(
    entries: impl IntoIterator<Item = &'a OutboxEntry>,
    max_changes: usize,
) -> Batch {
    let mut batch = Batch {
        seqs: Vec::new(),
        changes: Vec::new(),
    };
    // Per record, the index of its last change in the batch.
    let mut last: HashMap<(&str, &str), usize> = HashMap::new();
    for entry in entries {
        let key = (entry.change.table.as_str(), entry.change.id.as_str());
        if let Some(&i) = last.get(&key) {
            if let Some(held) = batch.changes.get_mut(i) {
                if mergeable(held, &entry.change) {
                    merge(held, &entry.change);
                    batch.seqs.push(entry.seq);
                    continue;
                }
            }
        }
        if batch.changes.len() >= max_changes.max(1) {
            break;
        }
        last.insert(key, batch.changes.len());
        batch.changes.push(entry.change.clone());
        batch.seqs.push(entry.seq);
    }
    batch
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Timestamp;

    fn t(ms: i64) -> Timestamp {
        Timestamp::from_unix_millis(1_767_225_600_000 + ms).unwrap_or(Timestamp::UNIX_EPOCH)
    }

    fn entry(seq: u64, change: Change) -> OutboxEntry {
        OutboxEntry {
            seq,
            change,
            written_at: t(0),
        }
    }

    #[test]
    fn repeated_updates_of_a_record_merge_and_others_do_not() {
        let entries = vec![
            entry(
                1,
                Change::update("tasks", "a").with_field("title", "one", t(1)),
            ),
            entry(
                2,
                Change::update("tasks", "b").with_field("title", "b", t(1)),
            ),
            entry(
                3,
                Change::update("tasks", "a").with_field("title", "two", t(2)),
            ),
            entry(
                4,
                Change::update("tasks", "a").with_field("done", true, t(3)),
            ),
            entry(5, Change::delete("tasks", "a", t(4))),
            entry(
                6,
                Change::update("tasks", "a").with_field("title", "three", t(5)),
            ),
        ];
        let batch = next_batch(&entries, 200);
        assert_eq!(batch.seqs, [1, 2, 3, 4, 5, 6]);
        assert_eq!(batch.changes.len(), 4, "{:?}", batch.changes);
        let merged = batch.changes[0].fields.clone().unwrap_or_default();
        assert_eq!(merged["title"].value, "two");
        assert_eq!(merged["done"].value, true);
        // The merged batch folds to what the entries fold to.
        let fold = |changes: Vec<&Change>| {
            let mut r = crate::fold::Replica::new();
            for c in changes {
                r.apply(c, t(0));
            }
            r.record("tasks", "a").cloned()
        };
        assert_eq!(
            fold(batch.changes.iter().collect()),
            fold(entries.iter().map(|e| &e.change).collect())
        );
    }

    #[test]
    fn an_older_write_merged_later_does_not_win() {
        let entries = vec![
            entry(
                1,
                Change::update("tasks", "a").with_field("title", "new", t(9)),
            ),
            entry(
                2,
                Change::update("tasks", "a").with_field("title", "old", t(1)),
            ),
        ];
        let batch = next_batch(&entries, 200);
        let fields = batch.changes[0].fields.clone().unwrap_or_default();
        assert_eq!(fields["title"].value, "new");
    }

    #[test]
    fn a_batch_holds_at_most_the_limit_of_changes() {
        let entries: Vec<_> = (0..450)
            .map(|i| entry(i, Change::delete("tasks", format!("t-{i}"), t(0))))
            .collect();
        let batch = next_batch(&entries, 200);
        assert_eq!(batch.changes.len(), 200);
        assert_eq!(batch.seqs, (0..200).collect::<Vec<_>>());
        assert!(next_batch(&[], 200).changes.is_empty());
    }
}

//! [`Replica`]: records per table, cursors per collection, and the fold.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{FieldState, Record};
use crate::{Change, Cursor, Op, Origin, Stamp, Timestamp};

/// A field whose local value, written by the user, was overwritten by a
/// strictly newer incoming one with a different value. Information for the
/// user, not an error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FoldConflict {
    /// The table.
    pub table: String,
    /// The record id.
    pub id: String,
    /// The field.
    pub field: String,
    /// The user's value, now replaced.
    pub local_value: Value,
    /// When the user wrote it.
    pub local_at: Stamp,
    /// The value that won.
    pub incoming_value: Value,
    /// When it was written.
    pub incoming_at: Stamp,
}

/// What applying one change did.
#[derive(Debug, Clone, PartialEq)]
pub enum Applied {
    /// The change was applied (fields it lost on stamps were left alone);
    /// with the conflicts it caused.
    Applied(Vec<FoldConflict>),
    /// A delete of a record not known here: nothing to do (as the browser).
    Ignored,
    /// Malformed: dropped and counted.
    Dropped(String),
}

/// The sum of a batch of changes applied.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FoldReport {
    /// Changes applied.
    pub applied: usize,
    /// Deletes of unknown records.
    pub ignored: usize,
    /// Malformed changes dropped, with why (index in the batch, reason).
    pub dropped: Vec<(usize, String)>,
    /// Conflicts caused.
    pub conflicts: Vec<FoldConflict>,
}

/// Records per table, with each field's stamp, and a cursor per collection:
/// the local state of a synced app. Serialises with serde, so it can be
/// persisted and resumed with incremental pulls.
///
/// ```
/// use mana_sync_core::fold::Replica;
/// use mana_sync_core::{Change, Timestamp};
/// use serde_json::json;
///
/// let t = |s| Timestamp::parse(s).unwrap();
/// let mut replica = Replica::new();
/// let data = json!({"title": "Buy milk", "updatedAt": "2026-04-23T11:00:00.000Z"});
/// replica.apply(&Change::insert("tasks", "t-1", data.as_object().unwrap().clone()), t("2026-04-23T12:00:00Z"));
/// replica.apply(&Change::update("tasks", "t-1").with_field("title", "Oat milk", t("2026-04-23T11:30:00Z")), t("2026-04-23T12:00:00Z"));
/// replica.apply(&Change::update("tasks", "t-1").with_field("title", "stale", t("2026-04-23T10:00:00Z")), t("2026-04-23T12:00:00Z"));
/// assert_eq!(replica.record("tasks", "t-1").unwrap().get("title"), Some(&json!("Oat milk")));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Replica {
    tables: BTreeMap<String, BTreeMap<String, Record>>,
    #[serde(default)]
    cursors: BTreeMap<String, Cursor>,
    #[serde(default)]
    dropped: u64,
}

/// The stamp of an inserted record's fields: `updatedAt`, else `createdAt`,
/// else `now`.
fn insert_stamp(data: &Map<String, Value>, now: Timestamp) -> Stamp {
    ["updatedAt", "createdAt"]
        .iter()
        .filter_map(|k| data.get(*k).and_then(Value::as_str))
        .map(Stamp::from_wire)
        .find(|s| matches!(s, Stamp::At(_)))
        .unwrap_or(Stamp::At(now))
}

/// Merges one incoming field into a record: last write wins, ties to the
/// incoming value.
fn merge(
    table: &str,
    record: &mut Record,
    field: &str,
    incoming: FieldState,
    conflicts: &mut Vec<FoldConflict>,
) {
    if let Some(local) = record.fields.get(field) {
        match incoming.at.partial_cmp(&local.at) {
            Some(std::cmp::Ordering::Less) | None => return,
            Some(std::cmp::Ordering::Greater)
                if local.origin == Some(Origin::User)
                    && !local.value.is_null()
                    && local.value != incoming.value =>
            {
                conflicts.push(FoldConflict {
                    table: table.to_owned(),
                    id: record.id.clone(),
                    field: field.to_owned(),
                    local_value: local.value.clone(),
                    local_at: local.at.clone(),
                    incoming_value: incoming.value.clone(),
                    incoming_at: incoming.at.clone(),
                });
            }
            _ => {}
        }
    }
    record.fields.insert(field.to_owned(), incoming);
}

impl Replica {
    /// An empty replica.
    pub fn new() -> Replica {
        Replica::default()
    }

    /// Applies one change. `now` stamps an insert whose record has neither
    /// `updatedAt` nor `createdAt`.
    pub fn apply(&mut self, change: &Change, now: Timestamp) -> Applied {
        let result = self.apply_inner(change, now);
        if matches!(result, Applied::Dropped(_)) {
            self.dropped += 1;
        }
        result
    }

    fn apply_inner(&mut self, change: &Change, now: Timestamp) -> Applied {
        if change.table.is_empty() || change.id.is_empty() {
            return Applied::Dropped("missing table or id".into());
        }
        let (table, id, origin) = (
            change.table.as_str(),
            change.id.as_str(),
            change.origin.clone(),
        );
        let mut conflicts = Vec::new();
        // Any change carrying a top-level deletedAt is a delete.
        let op = if change.deleted_at.is_some() {
            &Op::Delete
        } else {
            &change.op
        };
        match op {
            Op::Insert => {
                let Some(data) = &change.data else {
                    return Applied::Dropped("an insert without data".into());
                };
                let at = insert_stamp(data, now);
                let record = self.record_entry(table, id);
                for (name, value) in data {
                    let incoming = FieldState {
                        value: value.clone(),
                        at: at.clone(),
                        origin: origin.clone(),
                    };
                    merge(table, record, name, incoming, &mut conflicts);
                }
            }
            Op::Update => {
                let Some(fields) = &change.fields else {
                    return Applied::Dropped("an update without fields".into());
                };
                if let Some((name, _)) = fields
                    .iter()
                    .find(|(_, f)| matches!(f.at, Stamp::Unreadable(_)))
                {
                    return Applied::Dropped(format!("field {name:?} has an unreadable stamp"));
                }
                let record = self.record_entry(table, id);
                for (name, f) in fields {
                    let incoming = FieldState {
                        value: f.value.clone(),
                        at: f.at.clone(),
                        origin: origin.clone(),
                    };
                    merge(table, record, name, incoming, &mut conflicts);
                }
            }
            Op::Delete => {
                let known = self.tables.get_mut(table).and_then(|t| t.get_mut(id));
                match (&change.deleted_at, known) {
                    (_, None) => return Applied::Ignored,
                    (Some(Stamp::Unreadable(s)), _) => {
                        return Applied::Dropped(format!("unreadable deletedAt {s:?}"))
                    }
                    (Some(at), Some(record)) => {
                        let value = match at {
                            Stamp::Empty => Value::Null,
                            at => Value::String(at.to_string()),
                        };
                        let incoming = FieldState {
                            value,
                            at: at.clone(),
                            origin,
                        };
                        merge(table, record, Record::DELETED_AT, incoming, &mut conflicts);
                    }
                    (None, Some(_)) => {
                        if let Some(t) = self.tables.get_mut(table) {
                            t.remove(id);
                        }
                    }
                }
            }
            Op::Other(op) => return Applied::Dropped(format!("unknown op {op:?}")),
        }
        Applied::Applied(conflicts)
    }

    fn record_entry(&mut self, table: &str, id: &str) -> &mut Record {
        self.tables
            .entry(table.to_owned())
            .or_default()
            .entry(id.to_owned())
            .or_insert_with(|| Record {
                id: id.to_owned(),
                fields: BTreeMap::new(),
            })
    }

    /// Applies changes in order.
    pub fn apply_all<'a>(
        &mut self,
        changes: impl IntoIterator<Item = &'a Change>,
        now: Timestamp,
    ) -> FoldReport {
        let mut report = FoldReport::default();
        for (i, change) in changes.into_iter().enumerate() {
            match self.apply(change, now) {
                Applied::Applied(conflicts) => {
                    report.applied += 1;
                    report.conflicts.extend(conflicts);
                }
                Applied::Ignored => report.ignored += 1,
                Applied::Dropped(why) => report.dropped.push((i, why)),
            }
        }
        report
    }

    /// A record, deleted or not.
    pub fn record(&self, table: &str, id: &str) -> Option<&Record> {
        self.tables.get(table).and_then(|t| t.get(id))
    }

    /// A table's live (not soft-deleted) records, by id.
    pub fn records<'a>(&'a self, table: &str) -> impl Iterator<Item = &'a Record> + 'a {
        self.all_records(table).filter(|r| !r.is_deleted())
    }

    /// A table's records, soft-deleted ones included, by id.
    pub fn all_records<'a>(&'a self, table: &str) -> impl Iterator<Item = &'a Record> + 'a {
        self.tables.get(table).into_iter().flat_map(|t| t.values())
    }

    /// How many records a table holds, soft-deleted ones included.
    pub fn len(&self, table: &str) -> usize {
        self.tables.get(table).map_or(0, BTreeMap::len)
    }

    /// Malformed changes dropped so far.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Where the next incremental pull of `collection` starts.
    pub fn cursor(&self, collection: &str) -> Option<&Cursor> {
        self.cursors.get(collection)
    }

    /// Sets where the next incremental pull of `collection` starts.
    pub fn set_cursor(&mut self, collection: &str, cursor: Cursor) {
        self.cursors.insert(collection.to_owned(), cursor);
    }
}

//! [`ChangeSet`]: what one commit of the engine changed in one table.

use crate::fold::Slot;

/// Where a change came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A local write of this app.
    Local,
    /// The server (a pull, the stream).
    Server,
}

/// One record a commit changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordChange {
    /// The record id.
    pub id: String,
    /// The fields whose value or stamp changed, by name.
    pub fields: Vec<String>,
    /// The record is gone (hard-deleted).
    pub removed: bool,
}

/// What one commit changed in one table: handed to subscribers once per
/// commit that changed something visible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeSet {
    /// The table.
    pub table: String,
    /// Local write or server change.
    pub source: Source,
    /// The records, by id.
    pub records: Vec<RecordChange>,
}

/// The fields that differ between two states of a record, or `None` when
/// nothing visible changed.
pub(crate) fn diff(id: &str, before: Option<&Slot>, after: Option<&Slot>) -> Option<RecordChange> {
    let (old, new) = (before.and_then(Slot::record), after.and_then(Slot::record));
    if old == new {
        return None;
    }
    let removed = old.is_some() && new.is_none();
    let mut fields = Vec::new();
    if let Some(new) = new {
        for (name, state) in new.fields() {
            if old.and_then(|o| o.field(name)) != Some(state) {
                fields.push(name.to_owned());
            }
        }
    }
    Some(RecordChange {
        id: id.to_owned(),
        fields,
        removed,
    })
}

/// Groups record changes by table, keeping the order tables first appear in.
pub(crate) fn group(source: Source, changes: Vec<(String, RecordChange)>) -> Vec<ChangeSet> {
    let mut sets: Vec<ChangeSet> = Vec::new();
    for (table, change) in changes {
        match sets.iter_mut().find(|s| s.table == table) {
            Some(set) => set.records.push(change),
            None => sets.push(ChangeSet {
                table,
                source,
                records: vec![change],
            }),
        }
    }
    sets
}

//! [`Replica`]: records per table, cursors per collection, and the fold.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::hash::BuildHasher;
use std::time::Duration;

use hashbrown::HashMap;
use serde_json::{Map, Value};

use super::field::cmp_keys;
use super::order::Write;
use super::table::{IdHasher, Names, Table, Tombstone};
use super::{Record, Seen};
use crate::wire::object_form;
use crate::{Change, Cursor, FieldChange, Op, Origin, Stamp, Timestamp};

object_form! {
    expecting "a saved conflict";
    /// A field whose local value, written by the user, was overwritten by a
    /// strictly newer incoming one with a different value. Information for the
    /// user, not an error.
    #[derive(Debug, Clone, PartialEq)]
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
}

/// What applying one change did.
#[derive(Debug, Clone, PartialEq)]
pub enum Applied {
    /// The change was applied (fields it lost on stamps were left alone);
    /// with the conflicts it caused.
    Applied(Vec<FoldConflict>),
    /// Nothing visible changed: a delete of a record not known here (a soft
    /// delete is kept, to apply when the record arrives), or any change of a
    /// hard-deleted record.
    Ignored,
    /// Malformed: dropped and counted.
    Dropped(String),
}

/// The sum of a batch of changes applied.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FoldReport {
    /// Changes applied.
    pub applied: usize,
    /// Changes with no visible effect (see [`Applied::Ignored`]).
    pub ignored: usize,
    /// Changes re-read (an overlap, a page re-asked inside a tie) and
    /// skipped, since they had been delivered before.
    pub repeated: usize,
    /// Malformed changes dropped, with why (index in the batch, reason).
    pub dropped: Vec<(usize, String)>,
    /// Conflicts caused.
    pub conflicts: Vec<FoldConflict>,
}

/// The overlap an incremental read of a [`Replica`] starts with by default:
/// 5 seconds before the collection's cursor.
///
/// Why: the real server stamps a change with its transaction's start and
/// answers a read with its clock, so a change whose transaction began before
/// a read and committed after it lies before the cursor that read returned
/// (a late commit). The gap is a transaction's duration plus the skew between
/// the server's clock and its database's. Measured with the in-memory
/// server's late-commit switch (three concurrent writers, 6,000 changes,
/// every 5th committing `L` after its `created_at`; the testkit's
/// `race_measure_overlap_against_late_commit_lag`): every overlap of at
/// least `L` delivered all 6,000 changes to every reader, every shorter one
/// lost some (L = 1 s: 2,000 ms lost none, 500 ms lost 23–37, none lost
/// 50–73 per reader). A single-row transaction takes milliseconds; 5 s
/// covers slow commits under load and a few seconds of clock skew, at the
/// cost of re-reading 5 s of changes, which are recognised by `eventId`
/// ([`Seen`]) and not delivered twice.
pub const DEFAULT_OVERLAP: Duration = Duration::from_secs(5);

pub(super) fn default_overlap_ms() -> u64 {
    5_000
}

/// Records per table, with each field's stamp, and, per collection, where
/// the next incremental read starts and which changes it may re-read: the
/// local state of a synced app. Serialises with serde, so it can be
/// persisted and resumed with incremental pulls (snapshots written before
/// the overlap memory existed still load).
///
/// The fold is idempotent and order-independent: the records depend only on
/// the set of changes applied, whatever their order, repeats and page
/// splits (see the module docs for the rules and where they depart from the
/// browser).
///
/// Records are kept hashed by id (a lookup per change costs the same
/// whatever the table's size); the field names of a table's records are
/// shared. Listing a table ([`Replica::records`]) sorts it by id.
///
/// ```
/// # use mana_sync_core::surface as mana_sync_ureq;
/// use mana_sync_ureq::fold::Replica;
/// use mana_sync_ureq::{Change, Timestamp};
/// use serde_json::json;
///
/// let t = |s| Timestamp::parse(s).unwrap();
/// let mut replica = Replica::new();
/// let data = json!({"title": "Buy milk", "updatedAt": "2026-04-23T11:00:00.000Z"});
/// replica.apply(&Change::insert("tasks", "t-1", data.as_object().unwrap().clone()), t("2026-04-23T12:00:00Z"));
/// replica.apply(&Change::update("tasks", "t-1").with_field("title", "Oat milk", t("2026-04-23T11:30:00Z")), t("2026-04-23T12:00:00Z"));
/// replica.apply(&Change::update("tasks", "t-1").with_field("title", "stale", t("2026-04-23T10:00:00Z")), t("2026-04-23T12:00:00Z"));
/// assert_eq!(replica.record("tasks", "t-1").unwrap().get("title").as_deref(), Some(&json!("Oat milk")));
/// ```
#[derive(Debug, Clone)]
pub struct Replica {
    /// Per table: records, tombstones (deletes of records not known yet,
    /// hard deletes), field names.
    pub(super) tables: HashMap<String, Table>,
    pub(super) cursors: BTreeMap<String, Cursor>,
    pub(super) dropped: u64,
    /// Per collection, the changes the next read may bring again.
    pub(super) seen: BTreeMap<String, Seen>,
    /// The overlap of incremental reads, in milliseconds.
    pub(super) overlap_ms: u64,
    /// Hashes record ids (seeded per replica).
    pub(super) hasher: IdHasher,
}

impl Default for Replica {
    fn default() -> Replica {
        Replica {
            tables: HashMap::new(),
            cursors: BTreeMap::new(),
            dropped: 0,
            seen: BTreeMap::new(),
            overlap_ms: default_overlap_ms(),
            hasher: IdHasher::default(),
        }
    }
}

/// The stamp of an inserted record's fields: `updatedAt`, else `createdAt`,
/// else the empty stamp (older than every real one).
fn insert_stamp(data: &Map<String, Value>) -> Stamp {
    ["updatedAt", "createdAt"]
        .iter()
        .filter_map(|k| data.get(*k).and_then(Value::as_str))
        .map(Stamp::from_wire)
        .find(|s| matches!(s, Stamp::At(_)))
        .unwrap_or(Stamp::Empty)
}

/// Merges one incoming write into a record's fields: the greater write
/// wins (later stamp; on equal stamps the greater value). Reports a
/// conflict when a user's different, non-null value loses to a strictly
/// later stamp. Nothing is copied unless the incoming write wins, and a
/// field already held keeps its name (a new one gets the table's shared
/// name).
fn merge(
    (table, names): (&str, &mut Names),
    id: &str,
    record: &mut Record,
    field: &str,
    incoming: Write<'_>,
    conflicts: &mut Vec<FoldConflict>,
) {
    let i = match record.position(field) {
        Ok(i) => i,
        Err(i) => {
            record.insert_at(i, names.name(field), incoming.to_state());
            return;
        }
    };
    let Some(local) = record.field_at_mut(i) else {
        return;
    };
    if incoming.order(local) != Some(Ordering::Greater) {
        return;
    }
    if cmp_keys(incoming.key, local.stamp_key()) == Some(Ordering::Greater)
        && local.by_user()
        && !local.is_null()
        && !local.value_is(incoming.value)
    {
        conflicts.push(FoldConflict {
            table: table.to_owned(),
            id: id.to_owned(),
            field: field.to_owned(),
            local_value: local.value().into_owned(),
            local_at: local.at(),
            incoming_value: incoming.value.clone(),
            incoming_at: incoming.at.clone(),
        });
    }
    local.overwrite(incoming.value, incoming.at, incoming.origin);
}

/// What a change writes, once checked, borrowed from the change.
enum Effect<'a> {
    /// An insert: each member of `data`, stamped with the record's stamp,
    /// merged into the record, creating it if unknown.
    Insert(&'a Map<String, Value>, Stamp, Option<&'a Origin>),
    /// An update: each field with its own stamp, merged the same way.
    Update(&'a BTreeMap<String, FieldChange>, Option<&'a Origin>),
    /// A soft delete: `deletedAt` to merge (its value, its stamp).
    SoftDelete(Value, &'a Stamp, Option<&'a Origin>),
    /// A hard delete.
    HardDelete,
}

/// Checks a change and says what it writes, or why it is malformed.
fn effect(change: &Change) -> Result<Effect<'_>, String> {
    if change.table.is_empty() || change.id.is_empty() {
        return Err("missing table or id".into());
    }
    if crate::depth::change_too_deep(change) {
        return Err(crate::depth::too_deep());
    }
    let origin = change.origin.as_ref();
    // Any change carrying a top-level deletedAt is a delete.
    if let Some(at) = &change.deleted_at {
        if let Stamp::Unreadable(s) = at {
            return Err(format!("unreadable deletedAt {s:?}"));
        }
        let value = match at {
            Stamp::Empty => Value::Null,
            at => Value::String(at.to_string()),
        };
        return Ok(Effect::SoftDelete(value, at, origin));
    }
    match &change.op {
        Op::Insert => {
            let Some(data) = &change.data else {
                return Err("an insert without data".into());
            };
            Ok(Effect::Insert(data, insert_stamp(data), origin))
        }
        Op::Update => {
            let Some(fields) = &change.fields else {
                return Err("an update without fields".into());
            };
            if let Some((name, _)) = fields
                .iter()
                .find(|(_, f)| matches!(f.at, Stamp::Unreadable(_)))
            {
                return Err(format!("field {name:?} has an unreadable stamp"));
            }
            Ok(Effect::Update(fields, origin))
        }
        Op::Delete => Ok(Effect::HardDelete),
        Op::Other(op) => Err(format!("unknown op {op:?}")),
    }
}

/// Merges into `record` the soft deletes kept for it (`pending`), then
/// what an insert or update writes.
fn write(
    (table, names): (&str, &mut Names),
    id: &str,
    record: &mut Record,
    pending: Option<Tombstone>,
    effect: &Effect<'_>,
    conflicts: &mut Vec<FoldConflict>,
) {
    if let Some(pending) = pending {
        for (field, state) in &pending.fields {
            let (at, origin) = (state.at(), state.origin());
            let value = state.value();
            let write = Write::new(&value, &at, origin.as_ref());
            merge((table, names), id, record, field, write, &mut Vec::new());
        }
    }
    match effect {
        Effect::Insert(data, at, origin) => {
            for (field, value) in *data {
                let write = Write::new(value, at, *origin);
                merge((table, names), id, record, field, write, conflicts);
            }
        }
        Effect::Update(fields, origin) => {
            for (field, f) in *fields {
                let write = Write::new(&f.value, &f.at, *origin);
                merge((table, names), id, record, field, write, conflicts);
            }
        }
        Effect::SoftDelete(..) | Effect::HardDelete => {}
    }
}

impl Replica {
    /// An empty replica, reading with the [`DEFAULT_OVERLAP`].
    pub fn new() -> Replica {
        Replica::default()
    }

    /// Applies one change. `now` is not used any more (an insert without
    /// `updatedAt` or `createdAt` is stamped with the empty stamp, not the
    /// time of folding, so that the result does not depend on when it was
    /// folded); it stays for compatibility.
    pub fn apply(&mut self, change: &Change, now: Timestamp) -> Applied {
        let _ = now;
        let result = match effect(change) {
            Ok(effect) => self.apply_effect(&change.table, &change.id, effect),
            Err(why) => Applied::Dropped(why),
        };
        if matches!(result, Applied::Dropped(_)) {
            self.dropped = self.dropped.saturating_add(1);
        }
        result
    }

    fn apply_effect(&mut self, table: &str, id: &str, effect: Effect<'_>) -> Applied {
        let hash = self.hasher.hash_one(id);
        let hasher = &self.hasher;
        // One lookup of the table (its name copied only when new), one hash
        // of the id for its tombstone and its record.
        let Table {
            records,
            names,
            tombstones,
        } = self.tables.entry_ref(table).or_default();
        let tombstone = tombstones.get(hash, id);
        if tombstone.is_some_and(|t| t.hard) {
            return Applied::Ignored;
        }
        let tombstone_known = tombstone.is_some();
        let mut conflicts = Vec::new();
        match effect {
            Effect::Insert(..) | Effect::Update(..) => {
                let pending = if tombstone_known {
                    tombstones.remove(hash, id)
                } else {
                    None
                };
                // One lookup for a known record; the id is copied only for
                // a new one.
                match records.get_mut(hash, id) {
                    Some(record) => {
                        write((table, names), id, record, pending, &effect, &mut conflicts);
                    }
                    None => {
                        let fields = match &effect {
                            Effect::Insert(data, ..) => data.len(),
                            Effect::Update(fields, _) => fields.len(),
                            _ => 0,
                        };
                        let pending_fields = pending.as_ref().map_or(0, |p| p.fields.len());
                        let mut record =
                            Record::with_capacity(id, fields.saturating_add(pending_fields));
                        write(
                            (table, names),
                            id,
                            &mut record,
                            pending,
                            &effect,
                            &mut conflicts,
                        );
                        records.insert_new(hash, record, hasher);
                    }
                }
            }
            Effect::SoftDelete(value, at, origin) => {
                let write = Write::new(&value, at, origin);
                match records.get_mut(hash, id) {
                    Some(record) => merge(
                        (table, names),
                        id,
                        record,
                        Record::DELETED_AT,
                        write,
                        &mut conflicts,
                    ),
                    None => {
                        tombstones.soft_delete(hash, id, write, hasher);
                        return Applied::Ignored;
                    }
                }
            }
            Effect::HardDelete => {
                let known = records.remove(hash, id);
                tombstones.hard_delete(hash, id, hasher);
                if !known {
                    return Applied::Ignored;
                }
            }
        }
        Applied::Applied(conflicts)
    }

    /// Applies changes in order (the fold reads no clock).
    pub fn apply_all<'a>(&mut self, changes: impl IntoIterator<Item = &'a Change>) -> FoldReport {
        let mut report = FoldReport::default();
        for (i, change) in changes.into_iter().enumerate() {
            match self.apply(change, Timestamp::UNIX_EPOCH) {
                Applied::Applied(conflicts) => {
                    report.applied += 1;
                    if !conflicts.is_empty() {
                        report.conflicts.extend(conflicts);
                    }
                }
                Applied::Ignored => report.ignored += 1,
                Applied::Dropped(why) => report.dropped.push((i, why)),
            }
        }
        report
    }

    /// A record, deleted or not.
    pub fn record(&self, table: &str, id: &str) -> Option<&Record> {
        let hash = self.hasher.hash_one(id);
        self.tables.get(table).and_then(|t| t.records.get(hash, id))
    }

    /// A table's live (not soft-deleted) records, by id.
    pub fn records<'a>(&'a self, table: &str) -> impl Iterator<Item = &'a Record> + 'a {
        self.all_records(table).filter(|r| !r.is_deleted())
    }

    /// A table's records, soft-deleted ones included, by id (sorted when
    /// called: records are kept hashed).
    pub fn all_records<'a>(&'a self, table: &str) -> impl Iterator<Item = &'a Record> + 'a {
        self.tables
            .get(table)
            .map(|t| t.records.sorted())
            .unwrap_or_default()
            .into_iter()
    }

    /// How many records a table holds, soft-deleted ones included.
    pub fn len(&self, table: &str) -> usize {
        self.tables.get(table).map_or(0, |t| t.records.len())
    }

    /// Malformed changes dropped so far.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Where the next incremental pull of `collection` starts.
    pub fn cursor(&self, collection: &str) -> Option<&Cursor> {
        self.cursors.get(collection)
    }

    /// Sets where the next incremental pull of `collection` starts (before
    /// the overlap).
    pub fn set_cursor(&mut self, collection: &str, cursor: Cursor) {
        self.cursors.insert(collection.to_owned(), cursor);
    }

    /// How far before its cursor an incremental read of a collection starts
    /// ([`DEFAULT_OVERLAP`] unless set).
    pub fn overlap(&self) -> Duration {
        Duration::from_millis(self.overlap_ms)
    }

    /// Sets the overlap of incremental reads; [`Duration::ZERO`] switches it
    /// off (what the browser does: a change that commits late is then
    /// never read). Kept to the millisecond, and saved with the replica.
    pub fn set_overlap(&mut self, overlap: Duration) {
        self.overlap_ms = u64::try_from(overlap.as_millis()).unwrap_or(u64::MAX);
    }

    /// [`Replica::set_overlap`], as a builder.
    pub fn with_overlap(mut self, overlap: Duration) -> Replica {
        self.set_overlap(overlap);
        self
    }

    /// Where the next incremental read of `collection` starts: its cursor
    /// held back by the overlap (the epoch the first time).
    pub fn read_from(&self, collection: &str) -> Cursor {
        self.cursor(collection)
            .map_or(Cursor::EPOCH, |c| c.held_back(self.overlap()))
    }

    /// The changes of `collection` that the next read may bring again.
    pub fn seen(&self, collection: &str) -> Option<&Seen> {
        self.seen.get(collection)
    }

    /// The memory of `collection`'s delivered changes, to change: e.g. for
    /// a reader of the change stream, whose changes carry no `eventId` and
    /// are recognised by content ([`Seen::first_time`]). Pruned by
    /// [`Replica::set_read`].
    pub fn seen_mut(&mut self, collection: &str) -> &mut Seen {
        self.seen.entry(collection.to_owned()).or_default()
    }

    /// Records a read of `collection`: the cursor it ended at and the
    /// changes it delivered (added to those remembered). Forgets what the
    /// next read, from the new cursor held back by the overlap, cannot bring
    /// back, keeping one more overlap's worth for clock skew between the
    /// server and its database.
    pub fn set_read(&mut self, collection: &str, cursor: Cursor, delivered: Seen) {
        let overlap = self.overlap();
        let keep_from = cursor.held_back(overlap).held_back(overlap).timestamp();
        let seen = self.seen.entry(collection.to_owned()).or_default();
        seen.merge(delivered);
        seen.forget_before(keep_from);
        if seen.is_empty() {
            self.seen.remove(collection);
        }
        self.cursors.insert(collection.to_owned(), cursor);
    }
}

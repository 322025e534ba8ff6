//! [`Replica`]: records per table, cursors per collection, and the fold.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::hash::BuildHasher;
use std::time::Duration;

use hashbrown::HashMap;
use serde_json::{Map, Value};

use super::field::cmp_keys;
use super::order::Write;
use super::table::{IdHasher, Names, Table, Tombstone};
use super::{FieldState, Record, Seen};
use crate::wire::{
    object_form, ChangeRef, DataMembers, FieldMembers, Written, WrittenData, WrittenFields,
};
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
fn insert_stamp(data: &Data<'_>) -> Stamp {
    ["updatedAt", "createdAt"]
        .iter()
        .filter_map(|k| data.get_str(k))
        .map(|s| Stamp::from_wire(&s))
        .find(|s| matches!(s, Stamp::At(_)))
        .unwrap_or(Stamp::Empty)
}

/// One field an insert or an update writes: borrowed from a [`Change`],
/// or owned when read from a page's text (then moved into the record if it
/// wins, never copied).
struct FieldWrite<'a> {
    name: Cow<'a, str>,
    value: Cow<'a, Value>,
    at: Stamp,
}

/// Merges one incoming write into a record's fields: the greater write
/// wins (later stamp; on equal stamps the greater value). Reports a
/// conflict when a user's different, non-null value loses to a strictly
/// later stamp. Nothing is copied unless the incoming write wins (and a
/// value owned is moved), and a field already held keeps its name (a new
/// one gets the table's shared name).
fn merge(
    (table, names): (&str, &mut Names),
    id: &str,
    record: &mut Record,
    incoming: FieldWrite<'_>,
    origin: Option<&Origin>,
    conflicts: &mut Vec<FoldConflict>,
) {
    let FieldWrite { name, value, at } = incoming;
    let i = match record.position(&name) {
        Ok(i) => i,
        Err(i) => {
            let state = FieldState::from_cow(value, &at, origin);
            record.insert_at(i, names.name(&name), state);
            return;
        }
    };
    let Some(local) = record.field_at_mut(i) else {
        return;
    };
    let write = Write::new(&value, &at, origin);
    if write.order(local) != Some(Ordering::Greater) {
        return;
    }
    if cmp_keys(write.key, local.stamp_key()) == Some(Ordering::Greater)
        && local.by_user()
        && !local.is_null()
        && !local.value_is(&value)
    {
        conflicts.push(FoldConflict {
            table: table.to_owned(),
            id: id.to_owned(),
            field: name.into_owned(),
            local_value: local.value().into_owned(),
            local_at: local.at(),
            incoming_value: value.as_ref().clone(),
            incoming_at: at.clone(),
        });
    }
    local.overwrite(value, &at, origin);
}

/// An insert's `data`: from a [`Change`], or read from a page's text.
enum Data<'a> {
    Map(&'a Map<String, Value>),
    Read(WrittenData<'a>),
}

impl Data<'_> {
    /// The string member `name` holds, if it is one.
    fn get_str(&self, name: &str) -> Option<Cow<'_, str>> {
        match self {
            Data::Map(map) => map.get(name).and_then(Value::as_str).map(Cow::Borrowed),
            Data::Read(data) => data.get_str(name),
        }
    }
}

/// An update's `fields`: from a [`Change`], or read from a page's text.
// Held on the stack for one change: boxing the larger variant would cost
// the allocation reading from the text avoids.
#[allow(clippy::large_enum_variant)]
enum Fields<'a> {
    Map(&'a BTreeMap<String, FieldChange>),
    Read(WrittenFields<'a>),
}

impl Fields<'_> {
    /// The first field (by name) whose stamp is unreadable.
    fn unreadable(&self) -> Option<&str> {
        let unreadable = |f: &FieldChange| matches!(f.at, Stamp::Unreadable(_));
        match self {
            Fields::Map(map) => map
                .iter()
                .find(|(_, f)| unreadable(f))
                .map(|(n, _)| n.as_str()),
            Fields::Read(fields) => fields.unreadable(),
        }
    }
}

/// The fields an insert or an update writes, in the order a [`Change`]
/// holds them (an insert's as written, an update's by name).
enum Writes<'a> {
    Data(serde_json::map::Iter<'a>, Stamp),
    Fields(std::collections::btree_map::Iter<'a, String, FieldChange>),
    ReadData(DataMembers<'a>, Stamp),
    ReadFields(FieldMembers<'a>),
}

impl<'a> Writes<'a> {
    fn insert(data: Data<'a>, at: Stamp) -> Writes<'a> {
        match data {
            Data::Map(map) => Writes::Data(map.iter(), at),
            Data::Read(data) => Writes::ReadData(data.into_members(), at),
        }
    }

    fn update(fields: Fields<'a>) -> Writes<'a> {
        match fields {
            Fields::Map(map) => Writes::Fields(map.iter()),
            Fields::Read(fields) => Writes::ReadFields(fields.into_members()),
        }
    }

    fn len(&self) -> usize {
        match self {
            Writes::Data(it, _) => it.len(),
            Writes::Fields(it) => it.len(),
            Writes::ReadData(it, _) => it.len(),
            Writes::ReadFields(it) => it.len(),
        }
    }
}

impl<'a> Iterator for Writes<'a> {
    type Item = FieldWrite<'a>;

    fn next(&mut self) -> Option<FieldWrite<'a>> {
        let borrowed = |name: &'a String, value: &'a Value, at: Stamp| FieldWrite {
            name: Cow::Borrowed(name.as_str()),
            value: Cow::Borrowed(value),
            at,
        };
        match self {
            Writes::Data(it, at) => it.next().map(|(k, v)| borrowed(k, v, at.clone())),
            Writes::Fields(it) => it.next().map(|(k, f)| borrowed(k, &f.value, f.at.clone())),
            Writes::ReadData(it, at) => it.next().map(|(name, v)| FieldWrite {
                name,
                value: Cow::Owned(v),
                at: at.clone(),
            }),
            Writes::ReadFields(it) => it.next().map(|(name, value, at)| FieldWrite {
                name,
                value: Cow::Owned(value),
                at,
            }),
        }
    }
}

/// The members of a change the fold reads, from a [`Change`] or from a
/// page's text ([`Written`]).
struct Parts<'p, 'a> {
    table: &'p str,
    id: &'p str,
    op: &'p Op,
    deleted_at: Option<&'p Stamp>,
    origin: Option<&'p Origin>,
    data: Option<Data<'a>>,
    fields: Option<Fields<'a>>,
    /// Some value nests deeper than the client reads.
    too_deep: bool,
}

/// What a change writes, once checked.
enum Effect<'p, 'a> {
    /// An insert (each member of `data`, stamped with the record's stamp)
    /// or an update (each field with its own stamp): merged into the
    /// record, creating it if unknown.
    Write(Writes<'a>, Option<&'p Origin>),
    /// A soft delete: `deletedAt` to merge (its value, its stamp).
    SoftDelete(Value, &'p Stamp, Option<&'p Origin>),
    /// A hard delete.
    HardDelete,
}

/// Checks a change and says what it writes, or why it is malformed.
fn effect<'p, 'a>(parts: Parts<'p, 'a>) -> Result<Effect<'p, 'a>, String> {
    if parts.table.is_empty() || parts.id.is_empty() {
        return Err("missing table or id".into());
    }
    if parts.too_deep {
        return Err(crate::depth::too_deep());
    }
    let origin = parts.origin;
    // Any change carrying a top-level deletedAt is a delete.
    if let Some(at) = parts.deleted_at {
        if let Stamp::Unreadable(s) = at {
            return Err(format!("unreadable deletedAt {s:?}"));
        }
        let value = match at {
            Stamp::Empty => Value::Null,
            at => Value::String(at.to_string()),
        };
        return Ok(Effect::SoftDelete(value, at, origin));
    }
    match parts.op {
        Op::Insert => {
            let Some(data) = parts.data else {
                return Err("an insert without data".into());
            };
            let at = insert_stamp(&data);
            Ok(Effect::Write(Writes::insert(data, at), origin))
        }
        Op::Update => {
            let Some(fields) = parts.fields else {
                return Err("an update without fields".into());
            };
            if let Some(name) = fields.unreadable() {
                return Err(format!("field {name:?} has an unreadable stamp"));
            }
            Ok(Effect::Write(Writes::update(fields), origin))
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
    (writes, origin): (Writes<'_>, Option<&Origin>),
    conflicts: &mut Vec<FoldConflict>,
) {
    if let Some(pending) = pending {
        for (field, state) in &pending.fields {
            let (at, origin) = (state.at(), state.origin());
            let incoming = FieldWrite {
                name: Cow::Borrowed(field),
                value: state.value(),
                at,
            };
            merge(
                (table, names),
                id,
                record,
                incoming,
                origin.as_ref(),
                &mut Vec::new(),
            );
        }
    }
    for incoming in writes {
        merge((table, names), id, record, incoming, origin, conflicts);
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
        self.apply_parts(Parts {
            table: &change.table,
            id: &change.id,
            op: &change.op,
            deleted_at: change.deleted_at.as_ref(),
            origin: change.origin.as_ref(),
            data: change.data.as_ref().map(Data::Map),
            fields: change.fields.as_ref().map(Fields::Map),
            too_deep: crate::depth::change_too_deep(change),
        })
    }

    /// Applies a change read from a page, straight from the page's text:
    /// what [`Replica::apply`] does with [`ChangeRef::to_change`], without
    /// the copy (the values are read once and moved into the records that
    /// keep them). What `pull_into` folds with.
    ///
    /// ```
    /// # use mana_sync_core::surface as mana_sync_ureq;
    /// use mana_sync_ureq::fold::{Applied, Replica};
    /// use mana_sync_ureq::SyncResponse;
    ///
    /// let page: SyncResponse = serde_json::from_str(
    ///     r#"{"serverChanges":[{"table":"tasks","id":"t-1","op":"insert","data":{"title":"Buy milk"}}],
    ///         "syncedUntil":"2026-11-24T22:21:44.5Z"}"#,
    /// )?;
    /// let mut replica = Replica::new();
    /// for change in &page.server_changes {
    ///     assert!(matches!(replica.apply_ref(change), Applied::Applied(_)));
    /// }
    /// assert_eq!(replica.record("tasks", "t-1").unwrap().get("title").as_deref(), Some(&serde_json::json!("Buy milk")));
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn apply_ref(&mut self, change: ChangeRef<'_>) -> Applied {
        let Some(written) = change.written() else {
            return self.apply(&change.to_change(), Timestamp::UNIX_EPOCH);
        };
        let (table, id) = (change.table(), change.id());
        let Written {
            op,
            origin,
            deleted_at,
            data,
            fields,
        } = written;
        // A change the scan kept alone nests within the limit.
        self.apply_parts(Parts {
            table: &table,
            id: &id,
            op: &op,
            deleted_at: deleted_at.as_ref(),
            origin: origin.as_ref(),
            data: data.map(Data::Read),
            fields: fields.map(Fields::Read),
            too_deep: false,
        })
    }

    fn apply_parts(&mut self, parts: Parts<'_, '_>) -> Applied {
        let (table, id) = (parts.table, parts.id);
        let result = match effect(parts) {
            Ok(effect) => self.apply_effect(table, id, effect),
            Err(why) => Applied::Dropped(why),
        };
        if matches!(result, Applied::Dropped(_)) {
            self.dropped = self.dropped.saturating_add(1);
        }
        result
    }

    fn apply_effect(&mut self, table: &str, id: &str, effect: Effect<'_, '_>) -> Applied {
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
            Effect::Write(writes, origin) => {
                let pending = if tombstone_known {
                    tombstones.remove(hash, id)
                } else {
                    None
                };
                // One lookup for a known record; the id is copied only for
                // a new one.
                match records.get_mut(hash, id) {
                    Some(record) => {
                        let effect = (writes, origin);
                        write((table, names), id, record, pending, effect, &mut conflicts);
                    }
                    None => {
                        let pending_fields = pending.as_ref().map_or(0, |p| p.fields.len());
                        let capacity = writes.len().saturating_add(pending_fields);
                        let mut record = Record::with_capacity(id, capacity);
                        let effect = (writes, origin);
                        write(
                            (table, names),
                            id,
                            &mut record,
                            pending,
                            effect,
                            &mut conflicts,
                        );
                        records.insert_new(hash, record, hasher);
                    }
                }
            }
            Effect::SoftDelete(value, at, origin) => match records.get_mut(hash, id) {
                Some(record) => {
                    let incoming = FieldWrite {
                        name: Cow::Borrowed(Record::DELETED_AT),
                        value: Cow::Owned(value),
                        at: at.clone(),
                    };
                    merge((table, names), id, record, incoming, origin, &mut conflicts);
                }
                None => {
                    let write = Write::new(&value, at, origin);
                    tombstones.soft_delete(hash, id, write, hasher);
                    return Applied::Ignored;
                }
            },
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

//! [`Changes`]: the well-formed changes of one response, read in one pass
//! and kept as the response's own bytes, each change looked at (borrowed)
//! through a [`ChangeRef`] or copied out as a [`Change`].

use std::borrow::Cow;
use std::fmt;

use bytes::Bytes;
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;

use super::lenient;
use super::scan::{self, ChangeScan, Element, Kind, Member, Scanner, Syntax};
use super::written::Written;
use super::{Change, Op, Origin, SkippedChange};
use crate::Stamp;

/// A string member's text (between its quotes) in the body.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Text {
    start: u32,
    end: u32,
}

const HAS_EVENT_ID: u8 = 1;
const EVENT_ID_ESCAPED: u8 = 2;
const TABLE_ESCAPED: u8 = 4;
const ID_ESCAPED: u8 = 8;
/// Kept by the scan alone (clean and passing the guard): its text reads
/// as [`Written`] reads it.
const CLEAN: u8 = 16;
/// Clean, with no `deletedAt` and a known `origin` or none: what the fold
/// reads of it is at hand ([`Entry::origin`], [`Entry::writes`]).
const SIMPLE: u8 = 32;

/// Where one kept change is in the body, and what is read of it most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Entry {
    start: u32,
    end: u32,
    event_id: Text,
    table: Text,
    id: Text,
    /// An insert's `data` or an update's `fields`, when an object (read
    /// by the fold of a [`SIMPLE`] change).
    writes: Text,
    op: u8,
    flags: u8,
    /// The origin of a [`SIMPLE`] change: 0 for none, else 1 + its index
    /// in [`KNOWN_ORIGINS`].
    origin: u8,
}

/// The origins a [`SIMPLE`] change may have.
const KNOWN_ORIGINS: [Origin; 4] = [
    Origin::User,
    Origin::Agent,
    Origin::System,
    Origin::Migration,
];

fn offset(i: usize) -> Option<u32> {
    u32::try_from(i).ok()
}

fn text_of(m: &Member) -> Option<Text> {
    Some(Text {
        start: offset(m.start)?,
        end: offset(m.end)?,
    })
}

/// A member's text in the body.
fn body_text<'b>(body: &'b [u8], m: &Member) -> &'b [u8] {
    body.get(m.start..m.end).unwrap_or_default()
}

/// A string member's value: its text, or the text unescaped.
pub(super) fn string_in<'a>(
    body: &'a [u8],
    start: usize,
    end: usize,
    escaped: bool,
) -> Cow<'a, str> {
    if !escaped {
        let raw = body.get(start..end).unwrap_or_default();
        return Cow::Borrowed(std::str::from_utf8(raw).unwrap_or_default());
    }
    // The quotes around the text: a JSON string, checked when scanned.
    let quoted = body
        .get(start.saturating_sub(1)..end.saturating_add(1))
        .unwrap_or_default();
    Cow::Owned(serde_json::from_slice::<String>(quoted).unwrap_or_default())
}

impl Entry {
    /// The entry of a change the guard keeps (`None` only for an offset
    /// beyond 4 GiB or a member the guard would have refused).
    fn new(element: &Element, scan: &ChangeScan, body: &[u8], clean: bool) -> Option<Entry> {
        let m = &scan.members;
        let (table, id, op) = (&m[scan::TABLE], &m[scan::ID], &m[scan::OP]);
        if table.kind != Kind::String || id.kind != Kind::String || op.kind != Kind::String {
            return None;
        }
        let escaped_op;
        let op_text: &[u8] = if op.escaped {
            escaped_op = string_in(body, op.start, op.end, true);
            escaped_op.as_bytes()
        } else {
            body.get(op.start..op.end).unwrap_or_default()
        };
        let op = match op_text {
            b"insert" => 0,
            b"update" => 1,
            b"delete" => 2,
            _ => return None,
        };
        let event = &m[scan::EVENT_ID];
        let mut flags = 0;
        let mut event_id = Text::default();
        if event.kind == Kind::String {
            flags |= HAS_EVENT_ID;
            event_id = text_of(event)?;
            if event.escaped {
                flags |= EVENT_ID_ESCAPED;
            }
        }
        if table.escaped {
            flags |= TABLE_ESCAPED;
        }
        if id.escaped {
            flags |= ID_ESCAPED;
        }
        let mut origin = 0;
        let mut writes = Text::default();
        if clean {
            flags |= CLEAN;
            let o = &m[scan::ORIGIN];
            let known = match o.kind {
                Kind::Absent | Kind::Null => Some(0),
                Kind::String if !o.escaped => {
                    let text = body_text(body, o);
                    KNOWN_ORIGINS
                        .iter()
                        .position(|k| k.as_str().as_bytes() == text)
                        .and_then(|i| u8::try_from(i.saturating_add(1)).ok())
                }
                _ => None,
            };
            let slot = match op {
                0 => Some(scan::DATA),
                1 => Some(scan::FIELDS),
                _ => None,
            };
            if let Some(slot) = slot.filter(|s| m[*s].kind == Kind::Object) {
                writes = text_of(&m[slot])?;
            }
            if let Some(known) = known {
                if matches!(m[scan::DELETED_AT].kind, Kind::Absent | Kind::Null) {
                    flags |= SIMPLE;
                    origin = known;
                }
            }
        }
        Some(Entry {
            start: offset(element.start)?,
            end: offset(element.end)?,
            event_id,
            table: text_of(table)?,
            id: text_of(id)?,
            writes,
            op,
            flags,
            origin,
        })
    }
}

/// Reads the array of changes whose `[` is at `i` in `body`: the position
/// after it, the entries of the changes kept, and a report of the others.
///
/// A change that scans clean and passes the guard is kept as it is; any
/// other is decided by the reference reading ([`lenient`]), which also
/// says why it is skipped.
pub(crate) fn read_array(
    scanner: &mut Scanner<'_>,
    body: &[u8],
    i: usize,
) -> Result<(usize, Vec<Entry>, Vec<SkippedChange>), Syntax> {
    let mut entries = Vec::new();
    let mut skipped = Vec::new();
    let mut index = 0usize;
    let end = scanner.changes(i, |element| {
        let clean = element
            .scan
            .is_some_and(|scan| scan.clean && scan.passes(body));
        let keep = match element.scan {
            Some(_) if clean => true,
            _ => {
                let raw = body.get(element.start..element.end).unwrap_or_default();
                let text = std::str::from_utf8(raw).unwrap_or_default();
                match lenient::skip_report(index, text) {
                    None => element.scan.is_some(),
                    Some(report) => {
                        skipped.push(report);
                        false
                    }
                }
            }
        };
        if keep {
            if let Some(scan) = element.scan {
                entries.push(Entry::new(&element, scan, body, clean).ok_or(Syntax)?);
            }
        }
        index = index.saturating_add(1);
        Ok(())
    })?;
    Ok((end, entries, skipped))
}

/// The well-formed changes of a push or pull response, in order, read in
/// one pass over the response body and kept as that body: nothing is
/// copied or allocated per change until asked.
///
/// Look at a change through [`Changes::get`] or [`Changes::iter`] (a
/// [`ChangeRef`], borrowing the body), or copy the changes out with
/// [`Changes::to_vec`] / [`Changes::into_vec`]. Iterating a `Changes` by
/// value yields owned [`Change`]s. It compares equal to a `Vec<Change>` or
/// `[Change]` holding the same changes, and is written (serde) as the array
/// of its changes, each as [`Change`] writes it.
///
/// ```
/// # use mana_sync_core::surface as mana_sync_ureq;
/// use mana_sync_ureq::{Op, SyncResponse};
///
/// let page: SyncResponse = serde_json::from_str(
///     r#"{"serverChanges":[{"eventId":"e-1","table":"tasks","id":"t-1","op":"delete"},
///                          {"table":"tasks","id":"t-2","op":"upsert"}],
///         "syncedUntil":"2026-11-24T22:21:44.5Z"}"#,
/// )?;
/// let changes = &page.server_changes;
/// assert_eq!(changes.len(), 1);
/// let first = changes.get(0).unwrap();
/// assert_eq!((first.event_id().as_deref(), &*first.table(), first.op()), (Some("e-1"), "tasks", Op::Delete));
/// assert_eq!(changes.to_vec()[0].id, "t-1");
/// assert_eq!(page.skipped[0].index, 1);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct Changes {
    body: Bytes,
    entries: Vec<Entry>,
}

impl Changes {
    /// No changes.
    pub fn new() -> Changes {
        Changes::default()
    }

    pub(crate) fn from_parts(body: Bytes, entries: Vec<Entry>) -> Changes {
        Changes { body, entries }
    }

    /// The changes of the text of a JSON array (a `serverChanges`), and a
    /// report of those skipped.
    pub(crate) fn from_array(text: String) -> Result<(Changes, Vec<SkippedChange>), Syntax> {
        let body = Bytes::from(text);
        let mut scanner = Scanner::new(&body);
        let i = scanner.ws(0);
        if scanner.at(i) != b'[' {
            return Err(Syntax);
        }
        let (end, entries, skipped) = read_array(&mut scanner, &body, i)?;
        if scanner.ws(end) != body.len() {
            return Err(Syntax);
        }
        Ok((Changes::from_parts(body.clone(), entries), skipped))
    }

    /// How many changes.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Change `index`, if there is one.
    pub fn get(&self, index: usize) -> Option<ChangeRef<'_>> {
        self.entries.get(index).map(|entry| ChangeRef {
            body: &self.body,
            entry,
        })
    }

    /// The changes, in order.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            body: &self.body,
            entries: self.entries.iter(),
        }
    }

    /// Every change, copied out.
    pub fn to_vec(&self) -> Vec<Change> {
        self.iter().map(|c| c.to_change()).collect()
    }

    /// Every change, copied out (the body is dropped after).
    pub fn into_vec(self) -> Vec<Change> {
        self.to_vec()
    }

    /// Keeps the changes for which `keep` says `true`.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(ChangeRef<'_>) -> bool) {
        let body = &self.body;
        self.entries.retain(|entry| keep(ChangeRef { body, entry }));
    }
}

impl fmt::Debug for Changes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl PartialEq for Changes {
    fn eq(&self, other: &Changes) -> bool {
        self.len() == other.len() && self.iter().zip(other.iter()).all(|(a, b)| a == b)
    }
}

impl PartialEq<[Change]> for Changes {
    fn eq(&self, other: &[Change]) -> bool {
        self.len() == other.len() && self.iter().zip(other).all(|(a, b)| a == *b)
    }
}

impl PartialEq<Vec<Change>> for Changes {
    fn eq(&self, other: &Vec<Change>) -> bool {
        *self == **other
    }
}

impl PartialEq<Changes> for Vec<Change> {
    fn eq(&self, other: &Changes) -> bool {
        *other == **self
    }
}

impl Serialize for Changes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl From<Vec<Change>> for Changes {
    /// The changes, written as JSON and read back. A `Changes` holds only
    /// well-formed changes: one the reading would skip (an empty table or
    /// id, an unknown op, a field without `value`) is left out.
    fn from(changes: Vec<Change>) -> Changes {
        let text = serde_json::to_string(&changes).unwrap_or_default();
        Changes::from_array(text)
            .map(|(c, _)| c)
            .unwrap_or_default()
    }
}

impl From<Changes> for Vec<Change> {
    fn from(changes: Changes) -> Vec<Change> {
        changes.into_vec()
    }
}

impl<'a> IntoIterator for &'a Changes {
    type Item = ChangeRef<'a>;
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl IntoIterator for Changes {
    type Item = Change;
    type IntoIter = IntoIter;
    fn into_iter(self) -> IntoIter {
        IntoIter {
            changes: self,
            next: 0,
        }
    }
}

/// The changes of a [`Changes`], borrowed.
#[derive(Clone)]
pub struct Iter<'a> {
    body: &'a Bytes,
    entries: std::slice::Iter<'a, Entry>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = ChangeRef<'a>;
    fn next(&mut self) -> Option<ChangeRef<'a>> {
        let body = self.body;
        self.entries.next().map(|entry| ChangeRef { body, entry })
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.entries.size_hint()
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        let body = self.body;
        self.entries
            .next_back()
            .map(|entry| ChangeRef { body, entry })
    }
}

impl ExactSizeIterator for Iter<'_> {}

/// The changes of a [`Changes`], copied out one at a time.
pub struct IntoIter {
    changes: Changes,
    next: usize,
}

impl Iterator for IntoIter {
    type Item = Change;
    fn next(&mut self) -> Option<Change> {
        let change = self.changes.get(self.next)?.to_change();
        self.next = self.next.saturating_add(1);
        Some(change)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.changes.len().saturating_sub(self.next);
        (left, Some(left))
    }
}

impl ExactSizeIterator for IntoIter {}

/// One change of a [`Changes`], read in place: the names and the op are
/// at hand; the other members are found in the change's text when asked
/// for; [`ChangeRef::to_change`] copies it out.
#[derive(Clone, Copy)]
pub struct ChangeRef<'a> {
    body: &'a Bytes,
    entry: &'a Entry,
}

impl<'a> ChangeRef<'a> {
    fn string(&self, text: Text, escaped: bool) -> Cow<'a, str> {
        let body: &'a [u8] = self.body;
        string_in(body, text.start as usize, text.end as usize, escaped)
    }

    /// The change's JSON text, as the server sent it.
    pub fn text(&self) -> &'a str {
        let body: &'a [u8] = self.body;
        let raw = body
            .get(self.entry.start as usize..self.entry.end as usize)
            .unwrap_or_default();
        std::str::from_utf8(raw).unwrap_or_default()
    }

    /// The server's id for this log row.
    pub fn event_id(&self) -> Option<Cow<'a, str>> {
        (self.entry.flags & HAS_EVENT_ID != 0).then(|| {
            self.string(
                self.entry.event_id,
                self.entry.flags & EVENT_ID_ESCAPED != 0,
            )
        })
    }

    /// The `eventId`, as bytes shared with the body when it has no escape.
    pub(crate) fn event_id_bytes(&self) -> Option<Bytes> {
        if self.entry.flags & HAS_EVENT_ID == 0 {
            return None;
        }
        if self.entry.flags & EVENT_ID_ESCAPED != 0 {
            return self.event_id().map(|id| Bytes::from(id.into_owned()));
        }
        let Text { start, end } = self.entry.event_id;
        (end >= start && end as usize <= self.body.len())
            .then(|| self.body.slice(start as usize..end as usize))
    }

    /// The table (never empty).
    pub fn table(&self) -> Cow<'a, str> {
        self.string(self.entry.table, self.entry.flags & TABLE_ESCAPED != 0)
    }

    /// The record id (never empty).
    pub fn id(&self) -> Cow<'a, str> {
        self.string(self.entry.id, self.entry.flags & ID_ESCAPED != 0)
    }

    /// What the change does (one of the three ops: a change with another
    /// is skipped when read).
    pub fn op(&self) -> Op {
        match self.entry.op {
            0 => Op::Insert,
            1 => Op::Update,
            _ => Op::Delete,
        }
    }

    /// The change's members, found again in its text.
    fn member(&self, slot: usize) -> Option<(&'a [u8], Member)> {
        let text = self.text().as_bytes();
        let (_, scan) = Scanner::new(text).change(0).ok()?;
        let member = scan.members[slot];
        (!matches!(member.kind, Kind::Absent | Kind::Null)).then_some((text, member))
    }

    fn raw(&self, slot: usize) -> Option<&'a RawValue> {
        let (text, m) = self.member(slot)?;
        let raw = std::str::from_utf8(text.get(m.start..m.end)?).ok()?;
        serde_json::from_str(raw).ok()
    }

    fn string_member(&self, slot: usize) -> Option<Cow<'a, str>> {
        let (text, m) = self.member(slot)?;
        (m.kind == Kind::String).then(|| string_in(text, m.start, m.end, m.escaped))
    }

    /// Per-change schema version (missing or 0 means 1).
    pub fn schema_version(&self) -> Option<u32> {
        let (text, m) = self.member(scan::SCHEMA_VERSION)?;
        std::str::from_utf8(text.get(m.start..m.end)?)
            .ok()?
            .parse()
            .ok()
    }

    /// The whole record, for an insert: a JSON object.
    pub fn data(&self) -> Option<&'a RawValue> {
        self.raw(scan::DATA)
    }

    /// The changed fields, for an update: a JSON object of `{value, at}`
    /// objects ([`ChangeRef::to_change`] reads them).
    pub fn fields(&self) -> Option<&'a RawValue> {
        self.raw(scan::FIELDS)
    }

    /// When the record was deleted, for a soft delete.
    pub fn deleted_at(&self) -> Option<Stamp> {
        self.string_member(scan::DELETED_AT)
            .map(|s| Stamp::from_wire(&s))
    }

    /// The space the record belongs to.
    pub fn space_id(&self) -> Option<Cow<'a, str>> {
        self.string_member(scan::SPACE_ID)
    }

    /// Who acted: a JSON object, opaque.
    pub fn actor(&self) -> Option<&'a RawValue> {
        self.raw(scan::ACTOR)
    }

    /// Where the change came from.
    pub fn origin(&self) -> Option<Origin> {
        self.string_member(scan::ORIGIN).map(|s| Origin::from(&*s))
    }

    /// What the change writes, read from its text in one pass (see
    /// [`Written`]); `None` for a change the scan alone did not keep (the
    /// reference reading decided it), or whose `data` or `fields` names
    /// are not in increasing order: read it with [`ChangeRef::to_change`].
    pub(crate) fn written(&self) -> Option<Written<'a>> {
        if self.entry.flags & CLEAN == 0 {
            return None;
        }
        if self.entry.flags & SIMPLE != 0 {
            let origin = usize::from(self.entry.origin)
                .checked_sub(1)
                .and_then(|i| KNOWN_ORIGINS.get(i))
                .cloned();
            let Text { start, end } = self.entry.writes;
            let whole: &'a [u8] = self.body;
            let writes = (end > start)
                .then(|| whole.get(start as usize..end as usize))
                .flatten()
                .and_then(|b| std::str::from_utf8(b).ok());
            let (data, fields) = match self.entry.op {
                0 => (writes, None),
                1 => (None, writes),
                _ => (None, None),
            };
            return Written::read(self.op(), origin, None, data, fields);
        }
        let text = self.text();
        let bytes = text.as_bytes();
        let (_, scan) = Scanner::new(bytes).change(0).ok()?;
        let m = &scan.members;
        let string = |slot: usize| {
            let m = &m[slot];
            (m.kind == Kind::String).then(|| string_in(bytes, m.start, m.end, m.escaped))
        };
        let object = |slot: usize| {
            let m = &m[slot];
            if m.kind == Kind::Object {
                text.get(m.start..m.end)
            } else {
                None
            }
        };
        Written::read(
            self.op(),
            string(scan::ORIGIN).map(|s| Origin::from(&*s)),
            string(scan::DELETED_AT).map(|s| Stamp::from_wire(&s)),
            object(scan::DATA),
            object(scan::FIELDS),
        )
    }

    /// The change, copied out (read as [`Change`] reads it).
    pub fn to_change(&self) -> Change {
        match lenient::decode_one(self.text()) {
            Ok(change) => change,
            // Cannot happen: the change was kept by this same reading.
            Err(_) => Change {
                event_id: self.event_id().map(Cow::into_owned),
                ..Change::bare(self.table(), self.id(), self.op())
            },
        }
    }
}

impl fmt::Debug for ChangeRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.to_change().fmt(f)
    }
}

impl PartialEq for ChangeRef<'_> {
    fn eq(&self, other: &ChangeRef<'_>) -> bool {
        self.text() == other.text() || self.to_change() == other.to_change()
    }
}

impl PartialEq<Change> for ChangeRef<'_> {
    fn eq(&self, other: &Change) -> bool {
        self.to_change() == *other
    }
}

impl Serialize for ChangeRef<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_change().serialize(s)
    }
}

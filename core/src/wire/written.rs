//! [`Written`]: what a change read from a page writes, taken straight from
//! its text: the fold's input without a [`super::Change`] in between (no
//! copy of the table, id, `eventId`, `spaceId` or actor, no map built, and
//! each value made once, to be moved into the record that keeps it).
//!
//! Only a change the page's scan kept on its own is read this way: its
//! text is *clean* (see [`super::scan`]), so every reading `serde_json`
//! makes of it succeeds, and nothing here needs the reference reading's
//! checks. An object whose names are not in strictly increasing order (a
//! name given twice, or a map not written sorted, as the real server
//! writes its maps) is not read this way either: [`Written::read`] says
//! `None`, and the change is copied out and folded as
//! [`super::Change`] reads it.

use std::borrow::Cow;

use serde::de::IgnoredAny;
use serde_json::{Number, Value};
use smallvec::SmallVec;

use super::changes::string_in;
use super::scan::Scanner;
use super::{Op, Origin};
use crate::Stamp;

/// How many members are held without an allocation (a record of the Mana
/// apps has a handful of fields; an update changes one or two).
const INLINE: usize = 4;

/// Where a value is in its object's text.
#[derive(Clone, Copy)]
struct Span {
    start: u32,
    end: u32,
}

/// The members of a change the fold reads.
pub(crate) struct Written<'a> {
    /// What the change does.
    pub(crate) op: Op,
    /// Where it came from.
    pub(crate) origin: Option<Origin>,
    /// Its `deletedAt`.
    pub(crate) deleted_at: Option<Stamp>,
    /// The record, for an insert.
    pub(crate) data: Option<Data<'a>>,
    /// The fields, for an update.
    pub(crate) fields: Option<Fields<'a>>,
}

impl<'a> Written<'a> {
    /// What the change with `op`, `origin` and `deletedAt` writes, its
    /// `data` and `fields` (each the text of an object) read from their
    /// texts; `None` when either is not read this way (see the module
    /// docs).
    pub(crate) fn read(
        op: Op,
        origin: Option<Origin>,
        deleted_at: Option<Stamp>,
        data: Option<&'a str>,
        fields: Option<&'a str>,
    ) -> Option<Written<'a>> {
        let data = match data {
            Some(text) => Some(Data::read(text)?),
            None => None,
        };
        let fields = match fields {
            Some(text) => Some(Fields::read(text)?),
            None => None,
        };
        Some(Written {
            op,
            origin,
            deleted_at,
            data,
            fields,
        })
    }
}

/// Members' names, in order, with the spans of their values.
type Named<'a> = SmallVec<[(Cow<'a, str>, Span); INLINE]>;

/// An insert's `data`: its members' names, in order, and where their
/// values are.
pub(crate) struct Data<'a> {
    text: &'a str,
    members: Named<'a>,
}

/// An update's `fields`: each field's name, where its `value` is, and its
/// stamp (`at`, else `updatedAt`, else the empty stamp).
pub(crate) struct Fields<'a> {
    text: &'a str,
    members: SmallVec<[(Cow<'a, str>, Span, Stamp); INLINE]>,
}

/// The members of the object `text`: each name with the span of its value,
/// in order. `None` unless every value reads (which a clean text
/// guarantees; checked all the same, without building anything, for the
/// values this does not read itself; a caller that reads the objects among
/// them itself says `objects_read`) and, when `sorted`, the names strictly
/// increase.
fn members(text: &str, outer: usize, sorted: bool, objects_read: bool) -> Option<Named<'_>> {
    let b = text.as_bytes();
    let mut scanner = Scanner::new(b);
    let mut out: Named<'_> = SmallVec::new();
    let mut i = scanner.ws(0);
    if scanner.at(i) != b'{' {
        return None;
    }
    i = scanner.ws(i.saturating_add(1));
    if scanner.at(i) == b'}' {
        return (scanner.ws(i.saturating_add(1)) == b.len()).then_some(out);
    }
    loop {
        if scanner.at(i) != b'"' {
            return None;
        }
        let (name_end, after, flags) = scanner.string(i.saturating_add(1)).ok()?;
        let name = string_in(b, i.saturating_add(1), name_end, flags != 0);
        if sorted && out.last().is_some_and(|(last, _)| *last >= name) {
            return None;
        }
        i = scanner.ws(after);
        if scanner.at(i) != b':' {
            return None;
        }
        let start = scanner.ws(i.saturating_add(1));
        let end = match scanner.at(start) {
            b'{' | b'[' => scanner.value(start, outer.saturating_add(1)).ok()?.0,
            _ => scanner.scalar(start, &mut true).ok()?,
        };
        let span = Span {
            start: u32::try_from(start).ok()?,
            end: u32::try_from(end).ok()?,
        };
        let object = objects_read && scanner.at(start) == b'{';
        if !object && !reads_plainly(text.get(start..end)?) {
            serde_json::from_str::<IgnoredAny>(text.get(start..end)?).ok()?;
        }
        out.push((name, span));
        i = scanner.ws(end);
        match scanner.at(i) {
            b',' => i = scanner.ws(i.saturating_add(1)),
            b'}' => {
                return (scanner.ws(i.saturating_add(1)) == b.len()).then_some(out);
            }
            _ => return None,
        }
    }
}

/// Whether [`value`] reads `text` without `serde_json`: a string without
/// escapes, a literal, or digits that fit a `u64`.
fn reads_plainly(text: &str) -> bool {
    let b = text.as_bytes();
    match b.first() {
        Some(b'"') => !b.contains(&b'\\'),
        Some(b't' | b'f' | b'n') => true,
        Some(b'0'..=b'9') => b.len() <= 19 && b.iter().all(u8::is_ascii_digit),
        _ => false,
    }
}

/// The value whose text is `text` (checked to read when its object was
/// read), as `serde_json` reads it.
fn value(text: &str) -> Value {
    let b = text.as_bytes();
    match b.first() {
        Some(b'"') if !b.contains(&b'\\') => Value::String(
            text.get(1..text.len().saturating_sub(1))
                .unwrap_or_default()
                .to_owned(),
        ),
        Some(b't') => Value::Bool(true),
        Some(b'f') => Value::Bool(false),
        Some(b'n') => Value::Null,
        Some(b'0'..=b'9') if reads_plainly(text) => match text.parse::<u64>() {
            Ok(n) => Value::Number(Number::from(n)),
            Err(_) => serde_json::from_str(text).unwrap_or(Value::Null),
        },
        // Checked to read when the object was read.
        _ => serde_json::from_str(text).unwrap_or(Value::Null),
    }
}

/// The string a value's text holds, if it is a string.
fn string(text: &str) -> Option<Cow<'_, str>> {
    let b = text.as_bytes();
    if b.first() != Some(&b'"') {
        return None;
    }
    let end = b.len().saturating_sub(1);
    Some(string_in(b, 1, end, b.contains(&b'\\')))
}

fn text_at(text: &str, span: Span) -> &str {
    text.get(span.start as usize..span.end as usize)
        .unwrap_or_default()
}

impl<'a> Data<'a> {
    fn read(text: &'a str) -> Option<Data<'a>> {
        Some(Data {
            text,
            members: members(text, 1, true, false)?,
        })
    }

    /// The string member `name` holds, if it is one.
    pub(crate) fn get_str(&self, name: &str) -> Option<Cow<'a, str>> {
        let i = self
            .members
            .binary_search_by(|(n, _)| (**n).cmp(name))
            .ok()?;
        let (_, span) = self.members.get(i)?;
        string(text_at(self.text, *span))
    }

    /// Each member's name and value, in order.
    pub(crate) fn into_members(self) -> DataMembers<'a> {
        DataMembers {
            text: self.text,
            members: self.members.into_iter(),
        }
    }
}

impl<'a> Fields<'a> {
    fn read(text: &'a str) -> Option<Fields<'a>> {
        let mut out = SmallVec::new();
        for (name, span) in members(text, 1, true, true)? {
            let field = text_at(text, span);
            let (mut value, mut at, mut updated_at) = (None, None, None);
            for (member, inner) in members(field, 2, false, false)? {
                let slot = match &*member {
                    "value" => &mut value,
                    "at" => &mut at,
                    "updatedAt" => &mut updated_at,
                    _ => continue,
                };
                // A member given twice fails FieldChange's reading.
                if slot.replace(inner).is_some() {
                    return None;
                }
            }
            // As FieldChange reads it: `at` and `updatedAt` each a string
            // or null (absent); the stamp from `at`, else from
            // `updatedAt`, else empty.
            let stamp_of = |span: Option<Span>| -> Option<Option<Stamp>> {
                let Some(span) = span else {
                    return Some(None);
                };
                let inner = text_at(field, span);
                match string(inner) {
                    Some(s) => Some(Some(Stamp::from_wire(&s))),
                    None => (inner == "null").then_some(None),
                }
            };
            let (at, updated_at) = (stamp_of(at)?, stamp_of(updated_at)?);
            let at = at.or(updated_at).unwrap_or(Stamp::Empty);
            let value = value?;
            let offset = span.start;
            let value = Span {
                start: offset.checked_add(value.start)?,
                end: offset.checked_add(value.end)?,
            };
            out.push((name, value, at));
        }
        Some(Fields { text, members: out })
    }

    /// The first field (by name) whose stamp is unreadable.
    pub(crate) fn unreadable(&self) -> Option<&str> {
        self.members
            .iter()
            .find(|(_, _, at)| matches!(at, Stamp::Unreadable(_)))
            .map(|(name, _, _)| &**name)
    }

    /// Each field's name, value and stamp, by name.
    pub(crate) fn into_members(self) -> FieldMembers<'a> {
        FieldMembers {
            text: self.text,
            members: self.members.into_iter(),
        }
    }
}

/// The members of a [`Data`], each value made as it is taken.
pub(crate) struct DataMembers<'a> {
    text: &'a str,
    members: smallvec::IntoIter<[(Cow<'a, str>, Span); INLINE]>,
}

impl<'a> Iterator for DataMembers<'a> {
    type Item = (Cow<'a, str>, Value);

    fn next(&mut self) -> Option<Self::Item> {
        let (name, span) = self.members.next()?;
        Some((name, value(text_at(self.text, span))))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.members.size_hint()
    }
}

impl ExactSizeIterator for DataMembers<'_> {}

/// The fields of a [`Fields`], each value made as it is taken.
pub(crate) struct FieldMembers<'a> {
    text: &'a str,
    members: smallvec::IntoIter<[(Cow<'a, str>, Span, Stamp); INLINE]>,
}

impl<'a> Iterator for FieldMembers<'a> {
    type Item = (Cow<'a, str>, Value, Stamp);

    fn next(&mut self) -> Option<Self::Item> {
        let (name, span, at) = self.members.next()?;
        Some((name, value(text_at(self.text, span)), at))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.members.size_hint()
    }
}

impl ExactSizeIterator for FieldMembers<'_> {}

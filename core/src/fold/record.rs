//! [`Record`]: a folded record, each field with its stamp, in a compact
//! form (a replica holds one per record of the collection).

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Number, Value};

use crate::{Origin, Stamp, Timestamp};

/// A field name, shared by every record of a table that has the field (one
/// allocation per distinct name, not one per field of each record; a thin
/// pointer).
pub(crate) type Name = Arc<String>;

/// Who wrote a field, in a byte, when it is one of the known origins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Known {
    None,
    User,
    Agent,
    System,
    Migration,
}

impl Known {
    fn of(origin: Option<&Origin>) -> Option<Known> {
        Some(match origin {
            None => Known::None,
            Some(Origin::User) => Known::User,
            Some(Origin::Agent) => Known::Agent,
            Some(Origin::System) => Known::System,
            Some(Origin::Migration) => Known::Migration,
            Some(Origin::Other(_)) => return None,
        })
    }

    fn origin(self) -> Option<Origin> {
        match self {
            Known::None => None,
            Known::User => Some(Origin::User),
            Known::Agent => Some(Origin::Agent),
            Known::System => Some(Origin::System),
            Known::Migration => Some(Origin::Migration),
        }
    }

    fn as_str(self) -> Option<&'static str> {
        match self {
            Known::None => None,
            Known::User => Some("user"),
            Known::Agent => Some("agent"),
            Known::System => Some("system"),
            Known::Migration => Some("migration"),
        }
    }
}

/// A field's value as held: 24 bytes (a `Value` takes 72 with
/// `preserve_order`), scalars and strings inline, arrays and objects boxed.
#[derive(Clone, PartialEq)]
enum Held {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    /// An array or an object.
    Other(Box<Value>),
}

impl Held {
    /// A copy of `value`.
    fn of(value: &Value) -> Held {
        match value {
            Value::Null => Held::Null,
            Value::Bool(b) => Held::Bool(*b),
            Value::Number(n) => Held::Number(n.clone()),
            Value::String(s) => Held::String(s.clone()),
            other => Held::Other(Box::new(other.clone())),
        }
    }

    /// `value`, moved.
    fn from_value(value: Value) -> Held {
        match value {
            Value::Null => Held::Null,
            Value::Bool(b) => Held::Bool(b),
            Value::Number(n) => Held::Number(n),
            Value::String(s) => Held::String(s),
            other => Held::Other(Box::new(other)),
        }
    }

    fn to_value(&self) -> Cow<'_, Value> {
        match self {
            Held::Null => Cow::Owned(Value::Null),
            Held::Bool(b) => Cow::Owned(Value::Bool(*b)),
            Held::Number(n) => Cow::Owned(Value::Number(n.clone())),
            Held::String(s) => Cow::Owned(Value::String(s.clone())),
            Held::Other(v) => Cow::Borrowed(v),
        }
    }

    fn into_value(self) -> Value {
        match self {
            Held::Null => Value::Null,
            Held::Bool(b) => Value::Bool(b),
            Held::Number(n) => Value::Number(n),
            Held::String(s) => Value::String(s),
            Held::Other(v) => *v,
        }
    }

    /// Whether it equals `value`, without copying.
    fn is(&self, value: &Value) -> bool {
        match (self, value) {
            (Held::Null, Value::Null) => true,
            (Held::Bool(a), Value::Bool(b)) => a == b,
            (Held::Number(a), Value::Number(b)) => a == b,
            (Held::String(a), Value::String(b)) => a == b,
            (Held::Other(a), b) => **a == *b,
            _ => false,
        }
    }
}

/// The seconds of the empty stamp in [`Meta::Plain`]: below every instant
/// (years -9999 to 9999 are about ±3.8e11 s).
const EMPTY_SECS: i64 = i64::MIN;

/// A field's stamp and origin: 16 bytes in the common case (an instant or
/// the empty stamp, a known origin), boxed otherwise (an unreadable stamp,
/// which only a hand-made snapshot can hold, or another origin).
#[derive(Clone, PartialEq, Eq)]
enum Meta {
    /// The stamp as [`Timestamp::parts`] (`EMPTY_SECS` for the empty one).
    Plain {
        secs: i64,
        nanos: i32,
        origin: Known,
    },
    /// Anything else, as it came.
    Rare(Box<(Stamp, Option<Origin>)>),
}

impl Meta {
    fn new(at: &Stamp, origin: Option<&Origin>) -> Meta {
        let plain = match at {
            Stamp::Empty => Some((EMPTY_SECS, 0)),
            Stamp::At(t) => Some(t.parts()),
            Stamp::Unreadable(_) => None,
        };
        match (plain, Known::of(origin)) {
            (Some((secs, nanos)), Some(origin)) => Meta::Plain {
                secs,
                nanos,
                origin,
            },
            _ => Meta::Rare(Box::new((at.clone(), origin.cloned()))),
        }
    }
}

/// A stamp as an ordered key: `None` for an unreadable one (ordered against
/// nothing).
pub(crate) type StampKey = Option<(i64, i32)>;

/// The key of a stamp from a change.
pub(crate) fn stamp_key(at: &Stamp) -> StampKey {
    match at {
        Stamp::Empty => Some((EMPTY_SECS, 0)),
        Stamp::At(t) => Some(t.parts()),
        Stamp::Unreadable(_) => None,
    }
}

/// One field of a record: its value, when it was written, and by whom.
///
/// Kept compact (a replica holds one per field of every record): the stamp
/// and the origin are read with [`FieldState::at`] and
/// [`FieldState::origin`]. Serialises as `{"value", "at", "origin"?}`.
#[derive(Clone, PartialEq)]
pub struct FieldState {
    value: Held,
    meta: Meta,
}

impl FieldState {
    /// A field holding `value`, written at `at` by `origin`.
    ///
    /// ```
    /// use mana_sync_core::fold::FieldState;
    /// use mana_sync_core::{Origin, Stamp};
    /// use serde_json::json;
    ///
    /// let f = FieldState::new(json!("x"), Stamp::Empty, Some(Origin::User));
    /// assert_eq!(*f.value(), json!("x"));
    /// assert_eq!(f.at(), Stamp::Empty);
    /// assert_eq!(f.origin(), Some(Origin::User));
    /// ```
    pub fn new(value: Value, at: Stamp, origin: Option<Origin>) -> FieldState {
        FieldState {
            value: Held::from_value(value),
            meta: Meta::new(&at, origin.as_ref()),
        }
    }

    /// A field from borrowed parts (the value copied).
    pub(crate) fn from_parts(value: &Value, at: &Stamp, origin: Option<&Origin>) -> FieldState {
        FieldState {
            value: Held::of(value),
            meta: Meta::new(at, origin),
        }
    }

    /// The value: borrowed for an array or an object, made for a scalar or
    /// a string (held in a compact form).
    pub fn value(&self) -> Cow<'_, Value> {
        self.value.to_value()
    }

    /// The value, taken.
    pub fn into_value(self) -> Value {
        self.value.into_value()
    }

    /// Whether the value is `null`.
    pub fn is_null(&self) -> bool {
        self.value == Held::Null
    }

    /// Whether the value equals `value` (nothing copied).
    pub fn value_is(&self, value: &Value) -> bool {
        self.value.is(value)
    }

    /// The order of `value` against the value held, in the fold's fixed
    /// order of JSON values (nothing copied for a string or a scalar).
    pub(crate) fn cmp_to_held(&self, value: &Value) -> Ordering {
        match (value, &self.value) {
            (Value::String(a), Held::String(b)) => a.as_str().cmp(b.as_str()),
            (Value::Bool(a), Held::Bool(b)) => a.cmp(b),
            (Value::Null, Held::Null) => Ordering::Equal,
            (a, Held::Other(b)) => super::order::cmp_values(a, b),
            (a, _) => super::order::cmp_values(a, &self.value()),
        }
    }

    /// When it was written.
    pub fn at(&self) -> Stamp {
        match &self.meta {
            Meta::Plain { secs, .. } if *secs == EMPTY_SECS => Stamp::Empty,
            // Parts made from a timestamp always make it again.
            Meta::Plain { secs, nanos, .. } => {
                Timestamp::from_parts(*secs, *nanos).map_or(Stamp::Empty, Stamp::At)
            }
            Meta::Rare(rare) => rare.0.clone(),
        }
    }

    /// The origin of the change that wrote it.
    pub fn origin(&self) -> Option<Origin> {
        match &self.meta {
            Meta::Plain { origin, .. } => origin.origin(),
            Meta::Rare(rare) => rare.1.clone(),
        }
    }

    /// The stamp as an ordered key.
    pub(crate) fn stamp_key(&self) -> StampKey {
        match &self.meta {
            Meta::Plain { secs, nanos, .. } => Some((*secs, *nanos)),
            Meta::Rare(rare) => stamp_key(&rare.0),
        }
    }

    /// The origin's wire text.
    pub(crate) fn origin_str(&self) -> Option<&str> {
        match &self.meta {
            Meta::Plain { origin, .. } => origin.as_str(),
            Meta::Rare(rare) => rare.1.as_ref().map(Origin::as_str),
        }
    }

    /// Whether the origin is [`Origin::User`].
    pub(crate) fn by_user(&self) -> bool {
        match &self.meta {
            Meta::Plain { origin, .. } => *origin == Known::User,
            Meta::Rare(rare) => rare.1 == Some(Origin::User),
        }
    }

    /// Overwrites this field with a copy of `value`, `at` and `origin`,
    /// reusing the string's buffer when both are strings.
    pub(crate) fn overwrite(&mut self, value: &Value, at: &Stamp, origin: Option<&Origin>) {
        match (&mut self.value, value) {
            (Held::String(old), Value::String(new)) => {
                old.clear();
                old.push_str(new);
            }
            (old, new) => *old = Held::of(new),
        }
        self.meta = Meta::new(at, origin);
    }
}

impl fmt::Debug for FieldState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FieldState")
            .field("value", &self.value())
            .field("at", &self.at())
            .field("origin", &self.origin())
            .finish()
    }
}

/// The saved form of a [`FieldState`] (unchanged from when its members
/// were public).
#[derive(Serialize)]
struct FieldStateOut<'a> {
    value: Cow<'a, Value>,
    at: Stamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    origin: Option<Origin>,
}

#[derive(Deserialize)]
struct FieldStateIn {
    value: Value,
    at: Stamp,
    #[serde(default)]
    origin: Option<Origin>,
}

impl Serialize for FieldState {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        FieldStateOut {
            value: self.value(),
            at: self.at(),
            origin: self.origin(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for FieldState {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let f = FieldStateIn::deserialize(d)?;
        Ok(FieldState::new(f.value, f.at, f.origin))
    }
}

/// A record as the fold of its changes.
///
/// Its fields are kept sorted by name in one compact list, their names
/// shared with the other records of the replica: read them with
/// [`Record::get`], [`Record::field`] and [`Record::fields`]. Serialises as
/// `{"id", "fields": {name: field}}`.
///
/// ```
/// use mana_sync_core::fold::{FieldState, Record};
/// use mana_sync_core::Stamp;
/// use serde_json::json;
///
/// let mut record = Record::new("t-1");
/// record.set("title", FieldState::new(json!("Buy milk"), Stamp::Empty, None));
/// assert_eq!(record.get("title").as_deref(), Some(&json!("Buy milk")));
/// assert_eq!(record.fields().map(|(name, _)| name).collect::<Vec<_>>(), ["title"]);
/// assert!(!record.is_deleted());
/// ```
#[derive(Clone, PartialEq)]
pub struct Record {
    /// The record id.
    pub id: String,
    /// Sorted by name, no two with one name; no spare capacity.
    fields: Vec<(Name, FieldState)>,
}

impl Record {
    /// The name of the soft-delete field.
    pub const DELETED_AT: &'static str = "deletedAt";

    /// A record with no fields.
    pub fn new(id: impl Into<String>) -> Record {
        Record {
            id: id.into(),
            fields: Vec::new(),
        }
    }

    /// A record with no fields yet and room for `fields` (no spare
    /// capacity is kept: a replica holds many records).
    pub(crate) fn with_capacity(id: &str, fields: usize) -> Record {
        Record {
            id: id.to_owned(),
            fields: Vec::with_capacity(fields),
        }
    }

    /// Where `field` is, or where it would go.
    pub(crate) fn position(&self, field: &str) -> Result<usize, usize> {
        // A record has a handful of fields: equal names are found by their
        // length first, cheaper than ordering them.
        if self.fields.len() <= 8 {
            if let Some(i) = self.fields.iter().position(|(n, _)| n.as_str() == field) {
                return Ok(i);
            }
        }
        self.fields
            .binary_search_by(|(name, _)| name.as_str().cmp(field))
    }

    /// A field's state.
    pub fn field(&self, field: &str) -> Option<&FieldState> {
        let i = self.position(field).ok()?;
        self.fields.get(i).map(|(_, f)| f)
    }

    /// A field's state, to change (the fold's).
    pub(crate) fn field_at_mut(&mut self, i: usize) -> Option<&mut FieldState> {
        self.fields.get_mut(i).map(|(_, f)| f)
    }

    /// Inserts a field not held yet at its place `i` (from
    /// [`Record::position`]), keeping no spare capacity.
    pub(crate) fn insert_at(&mut self, i: usize, name: Name, state: FieldState) {
        self.fields.reserve_exact(1);
        self.fields.insert(i.min(self.fields.len()), (name, state));
    }

    /// Sets a field (replacing what it held).
    pub fn set(&mut self, field: &str, state: FieldState) {
        match self.position(field) {
            Ok(i) => {
                if let Some(f) = self.field_at_mut(i) {
                    *f = state;
                }
            }
            Err(i) => self.insert_at(i, Arc::new(field.to_owned()), state),
        }
    }

    /// A field's value (see [`FieldState::value`]).
    pub fn get(&self, field: &str) -> Option<Cow<'_, Value>> {
        self.field(field).map(FieldState::value)
    }

    /// The fields, sorted by name.
    pub fn fields(
        &self,
    ) -> impl ExactSizeIterator<Item = (&str, &FieldState)> + DoubleEndedIterator + '_ {
        self.fields.iter().map(|(name, f)| (name.as_str(), f))
    }

    /// How many fields the record has.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether the record has no field.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Whether the record is soft-deleted (its `deletedAt` is set).
    pub fn is_deleted(&self) -> bool {
        self.field(Record::DELETED_AT).is_some_and(|f| !f.is_null())
    }

    /// The record as plain JSON: its fields' values.
    pub fn to_json(&self) -> Map<String, Value> {
        self.fields
            .iter()
            .map(|(k, f)| (k.as_str().to_owned(), f.value().into_owned()))
            .collect()
    }

    /// Replaces the record's names by the shared ones `intern` gives.
    pub(crate) fn share_names(&mut self, mut intern: impl FnMut(&str) -> Name) {
        for (name, _) in &mut self.fields {
            *name = intern(name.as_str());
        }
    }
}

impl fmt::Debug for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Record")
            .field("id", &self.id)
            .field("fields", &FieldsOut(&self.fields))
            .finish()
    }
}

/// The fields as a map from name to state (for serde and `Debug`).
struct FieldsOut<'a>(&'a [(Name, FieldState)]);

impl Serialize for FieldsOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k.as_str(), v)))
    }
}

impl fmt::Debug for FieldsOut<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.iter().map(|(k, v)| (k.as_str(), v)))
            .finish()
    }
}

impl Serialize for Record {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut out = s.serialize_struct("Record", 2)?;
        out.serialize_field("id", &self.id)?;
        out.serialize_field("fields", &FieldsOut(&self.fields))?;
        out.end()
    }
}

/// The saved form of a [`Record`].
#[derive(Deserialize)]
struct RecordIn {
    id: String,
    fields: BTreeMap<String, FieldState>,
}

impl<'de> Deserialize<'de> for Record {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let r = RecordIn::deserialize(d)?;
        let mut fields = Vec::with_capacity(r.fields.len());
        fields.extend(r.fields.into_iter().map(|(k, v)| (Arc::new(k), v)));
        Ok(Record { id: r.id, fields })
    }
}

/// The order of two stamp keys (`None`: one is unreadable).
pub(crate) fn cmp_keys(a: StampKey, b: StampKey) -> Option<Ordering> {
    Some(a?.cmp(&b?))
}

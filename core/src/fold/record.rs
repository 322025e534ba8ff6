//! [`Record`]: a folded record, each field with its stamp, in a compact
//! form (a replica holds one per record of the collection).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::FieldState;

/// A field name, shared by every record of a table that has the field (one
/// allocation per distinct name, not one per field of each record; a thin
/// pointer).
pub(crate) type Name = Arc<String>;

/// A record as the fold of its changes.
///
/// Its fields are kept sorted by name in one compact list, their names
/// shared with the other records of the replica: read them with
/// [`Record::get`], [`Record::field`] and [`Record::fields`]. Serialises as
/// `{"id", "fields": {name: field}}`.
///
/// ```
/// # use mana_sync_core::surface as mana_sync_ureq;
/// use mana_sync_ureq::fold::{FieldState, Record};
/// use mana_sync_ureq::Stamp;
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
        let r: RecordIn = crate::wire::map_only(d, "a saved record object {id, fields}")?;
        let mut fields = Vec::with_capacity(r.fields.len());
        fields.extend(r.fields.into_iter().map(|(k, v)| (Arc::new(k), v)));
        Ok(Record { id: r.id, fields })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Stamp;
    use serde_json::json;

    fn field(v: Value) -> FieldState {
        FieldState::new(v, Stamp::Empty, None)
    }

    #[test]
    fn fields_are_kept_sorted_and_found_by_name() {
        let mut r = Record::new("r");
        for name in ["m", "b", "z", "a", "deletedAt", "y", "c", "d", "e", "f"] {
            r.set(name, field(json!(name)));
        }
        r.set("b", field(json!(2)));
        let names: Vec<&str> = r.fields().map(|(n, _)| n).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted);
        assert_eq!(r.len(), 10);
        for name in names {
            let want = if name == "b" { json!(2) } else { json!(name) };
            assert_eq!(r.get(name).as_deref(), Some(&want), "{name}");
        }
        assert!(r.get("nope").is_none());
        assert!(r.position("nope").is_err());
        assert!(r.is_deleted(), "deletedAt is set");
        r.set(Record::DELETED_AT, field(json!(null)));
        assert!(!r.is_deleted());
    }

    #[test]
    fn a_record_saves_and_loads_as_before() {
        let text = r#"{"id":"t-1","fields":{"z":{"value":[1],"at":""},"a":{"value":"x","at":"2026-01-01T00:00:00.000Z","origin":"user"}}}"#;
        let r: Record = serde_json::from_str(text).unwrap();
        assert_eq!(r.fields().map(|(n, _)| n).collect::<Vec<_>>(), ["a", "z"]);
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"id":"t-1","fields":{"a":{"value":"x","at":"2026-01-01T00:00:00.000Z","origin":"user"},"z":{"value":[1],"at":""}}}"#
        );
        assert_eq!(
            r.to_json(),
            *json!({"a": "x", "z": [1]}).as_object().unwrap()
        );
        assert!(
            serde_json::from_str::<Record>(r#"{"fields":{}}"#).is_err(),
            "an id is needed"
        );
    }
}

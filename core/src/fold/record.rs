//! [`Record`]: a folded record, each field with its stamp.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{Origin, Stamp};

/// One field of a record: its value, when it was written, and by whom.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldState {
    /// The value.
    pub value: Value,
    /// When it was written.
    pub at: Stamp,
    /// The origin of the change that wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
}

/// A record as the fold of its changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// The record id.
    pub id: String,
    /// Its fields.
    pub fields: BTreeMap<String, FieldState>,
}

impl Record {
    /// The name of the soft-delete field.
    pub const DELETED_AT: &'static str = "deletedAt";

    /// A field's value.
    pub fn get(&self, field: &str) -> Option<&Value> {
        self.fields.get(field).map(|f| &f.value)
    }

    /// Whether the record is soft-deleted (its `deletedAt` is set).
    pub fn is_deleted(&self) -> bool {
        self.get(Record::DELETED_AT).is_some_and(|v| !v.is_null())
    }

    /// The record as plain JSON: its fields' values.
    pub fn to_json(&self) -> Map<String, Value> {
        self.fields
            .iter()
            .map(|(k, f)| (k.clone(), f.value.clone()))
            .collect()
    }
}

//! The stored change log: rows as the `sync_changes` table holds them, and
//! their JSON as the server's `changeFromRow` writes it.

use std::collections::BTreeMap;

use mana_sync_core::Timestamp;
use serde_json::{Map, Value};

use crate::go_json::{has_nul, sorted};
use crate::push_body::IncomingChange;

/// One stored change (a `sync_changes` row).
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub event_id: String,
    pub schema_version: i64,
    pub app_id: String,
    pub client_id: String,
    pub table: String,
    pub id: String,
    pub op: String,
    /// The `data` column: an insert's record, an update's field values, a
    /// delete's `deletedAt`; `None` for SQL/JSON null.
    pub data: Option<Map<String, Value>>,
    /// The `field_timestamps` column: an update's `at` per field.
    pub field_timestamps: BTreeMap<String, String>,
    pub space_id: Option<String>,
    pub actor: Option<Value>,
    pub origin: Option<String>,
    /// Microsecond precision, strictly increasing across the server.
    pub created_at: Timestamp,
}

/// Why a change could not be recorded.
pub(crate) enum RecordError {
    /// The handler dereferences a nil `*FieldChange` (a field sent as
    /// `null`) and panics: the connection is dropped without an answer.
    Panic,
    /// PostgreSQL refused the row: the error as pgx words it.
    Db(String),
}

/// The `data` and `field_timestamps` columns of a row.
pub(crate) type Columns = (Option<Map<String, Value>>, BTreeMap<String, String>);

/// What the handler writes into `data` and `field_timestamps` for a change.
pub(crate) fn stored_columns(c: &IncomingChange) -> Result<Columns, RecordError> {
    let mut data = c.data.clone();
    let mut timestamps = BTreeMap::new();
    if c.op == "update" {
        if let Some(fields) = &c.fields {
            let mut built = Map::new();
            for (name, field) in fields {
                let field = field.as_ref().ok_or(RecordError::Panic)?;
                built.insert(name.clone(), field.value.clone());
                timestamps.insert(name.clone(), field.at.clone());
            }
            data = Some(built);
        }
    }
    if c.op == "delete" {
        let map = data.get_or_insert_with(Map::new);
        if let Some(at) = &c.deleted_at {
            map.insert("deletedAt".into(), Value::String(at.clone()));
        }
    }
    Ok((data, timestamps))
}

/// The space a change belongs to: `spaceId`, else `data.spaceId`, else
/// `fields.spaceId.value`, when a non-empty string.
pub(crate) fn space_of(c: &IncomingChange) -> Option<String> {
    let from_data = || {
        c.data
            .as_ref()
            .and_then(|d| d.get("spaceId"))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let from_fields = || {
        c.fields
            .as_ref()
            .and_then(|f| f.get("spaceId"))
            .and_then(Option::as_ref)
            .and_then(|f| f.value.as_str())
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    Some(c.space_id.clone())
        .filter(|s| !s.is_empty())
        .or_else(from_data)
        .or_else(from_fields)
}

/// PostgreSQL's refusal of a `text` parameter: a NUL byte or invalid
/// UTF-8, worded as pgx reports it.
pub(crate) fn pg_text(bytes: &[u8]) -> Result<(), String> {
    let bad = match std::str::from_utf8(bytes) {
        Ok(s) => match s.find('\0') {
            Some(at) => at,
            None => return Ok(()),
        },
        Err(e) => e.valid_up_to(),
    };
    let lead = bytes[bad];
    let len = match lead {
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf7 => 4,
        _ => 1,
    };
    let shown: Vec<String> = bytes[bad..]
        .iter()
        .take(len)
        .map(|b| format!("0x{b:02x}"))
        .collect();
    Err(format!(
        "ERROR: invalid byte sequence for encoding \"UTF8\": {} (SQLSTATE 22021)",
        shown.join(" ")
    ))
}

/// PostgreSQL's refusal of a `jsonb` parameter holding U+0000.
pub(crate) fn pg_jsonb(v: &Value) -> Result<(), String> {
    if has_nul(v) {
        Err("ERROR: unsupported Unicode escape sequence (SQLSTATE 22P05)".into())
    } else {
        Ok(())
    }
}

impl Row {
    /// The member for the op: an insert's `data`, an update's `fields`, a
    /// delete's `deletedAt`; empty maps are omitted (`omitempty`).
    fn op_members(&self, m: &mut Map<String, Value>) {
        match self.op.as_str() {
            "insert" => {
                if let Some(data) = self.data.as_ref().filter(|d| !d.is_empty()) {
                    m.insert("data".into(), sorted(&Value::Object(data.clone())));
                }
            }
            "update" => {
                let mut fields = Map::new();
                for (name, at) in &self.field_timestamps {
                    if let Some(value) = self.data.as_ref().and_then(|d| d.get(name)) {
                        let mut field = Map::new();
                        field.insert("value".into(), sorted(value));
                        field.insert("at".into(), Value::String(at.clone()));
                        fields.insert(name.clone(), Value::Object(field));
                    }
                }
                if !fields.is_empty() {
                    m.insert("fields".into(), Value::Object(fields));
                }
            }
            "delete" => {
                if let Some(at) = self
                    .data
                    .as_ref()
                    .and_then(|d| d.get("deletedAt"))
                    .and_then(Value::as_str)
                {
                    m.insert("deletedAt".into(), Value::String(at.to_owned()));
                }
            }
            _ => {}
        }
    }

    /// The change as push and pull return it (`changeFromRow`): members in
    /// the server's order, maps sorted, optional members omitted.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("eventId".into(), self.event_id.clone().into());
        m.insert("schemaVersion".into(), self.schema_version.max(1).into());
        m.insert("table".into(), self.table.clone().into());
        m.insert("id".into(), self.id.clone().into());
        m.insert("op".into(), self.op.clone().into());
        self.op_members(&mut m);
        if let Some(s) = &self.space_id {
            m.insert("spaceId".into(), s.clone().into());
        }
        self.tail(&mut m);
        Value::Object(m)
    }

    /// The row as the stream endpoint writes it: no `eventId`,
    /// `schemaVersion` or `spaceId`.
    pub fn to_stream_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("table".into(), self.table.clone().into());
        m.insert("id".into(), self.id.clone().into());
        m.insert("op".into(), self.op.clone().into());
        self.op_members(&mut m);
        self.tail(&mut m);
        Value::Object(m)
    }

    fn tail(&self, m: &mut Map<String, Value>) {
        if let Some(a) = &self.actor {
            m.insert("actor".into(), a.clone());
        }
        if let Some(o) = &self.origin {
            m.insert("origin".into(), o.clone().into());
        }
    }
}

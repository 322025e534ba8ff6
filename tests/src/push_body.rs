//! Reading a push body the way the Go server does: only `at` is a field's
//! stamp (`updatedAt` is ignored), unknown members are ignored, and a member
//! of the wrong type fails the whole body.

use serde_json::{Map, Value};

/// One change as the server reads it.
pub(crate) struct IncomingChange {
    pub table: String,
    pub id: String,
    pub op: String,
    pub data: Option<Map<String, Value>>,
    /// Field name to (value, at); `at` is `""` when the client sent none.
    pub fields: Option<Vec<(String, Value, String)>>,
    pub deleted_at: Option<String>,
    pub space_id: Option<String>,
    pub actor: Option<Value>,
    pub origin: Option<String>,
    pub schema_version: i64,
}

/// A push body as the server reads it.
pub(crate) struct IncomingChangeset {
    pub client_id: String,
    pub since: Option<String>,
    pub schema_version: i64,
    pub changes: Vec<IncomingChange>,
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn type_error(v: &Value, go_type: &str, field: &str) -> String {
    format!(
        "invalid JSON: json: cannot unmarshal {} into Go struct field {field} of type {go_type}",
        kind(v)
    )
}

fn string(obj: &Map<String, Value>, key: &str, field: &str) -> Result<Option<String>, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(type_error(other, "string", field)),
    }
}

fn int(obj: &Map<String, Value>, key: &str, field: &str) -> Result<i64, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(0),
        Some(v @ Value::Number(n)) => n.as_i64().ok_or_else(|| type_error(v, "int", field)),
        Some(other) => Err(type_error(other, "int", field)),
    }
}

/// Parses a body; the error is the server's 400 text.
pub(crate) fn parse(body: &[u8]) -> Result<IncomingChangeset, String> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        if e.is_eof() {
            "invalid JSON: unexpected EOF".to_owned()
        } else {
            format!("invalid JSON: {e}")
        }
    })?;
    let Value::Object(top) = &value else {
        return Err(format!(
            "invalid JSON: json: cannot unmarshal {} into Go value of type handler.Changeset",
            kind(&value)
        ));
    };
    let mut changes = Vec::new();
    match top.get("changes") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for item in items {
                changes.push(change(item)?);
            }
        }
        Some(other) => return Err(type_error(other, "[]handler.Change", "Changeset.changes")),
    }
    Ok(IncomingChangeset {
        client_id: string(top, "clientId", "Changeset.clientId")?.unwrap_or_default(),
        since: string(top, "since", "Changeset.since")?,
        schema_version: int(top, "schemaVersion", "Changeset.schemaVersion")?,
        changes,
    })
}

fn change(item: &Value) -> Result<IncomingChange, String> {
    let Value::Object(obj) = item else {
        return Err(type_error(item, "handler.Change", "Changeset.changes"));
    };
    let data = match obj.get("data") {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) => Some(m.clone()),
        Some(other) => return Err(type_error(other, "map[string]interface {}", "Change.data")),
    };
    let fields = match obj.get("fields") {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) => {
            let mut out = Vec::new();
            for (name, f) in m {
                let Value::Object(f) = f else {
                    return Err(type_error(f, "handler.FieldChange", "Change.fields"));
                };
                let at = string(f, "at", "FieldChange.at")?.unwrap_or_default();
                out.push((
                    name.clone(),
                    f.get("value").cloned().unwrap_or(Value::Null),
                    at,
                ));
            }
            Some(out)
        }
        Some(other) => {
            return Err(type_error(
                other,
                "map[string]handler.FieldChange",
                "Change.fields",
            ))
        }
    };
    let actor = match obj.get("actor") {
        None | Some(Value::Null) => None,
        Some(v @ Value::Object(_)) => Some(v.clone()),
        Some(other) => return Err(type_error(other, "json.RawMessage object", "Change.actor")),
    };
    Ok(IncomingChange {
        table: string(obj, "table", "Change.table")?.unwrap_or_default(),
        id: string(obj, "id", "Change.id")?.unwrap_or_default(),
        op: string(obj, "op", "Change.op")?.unwrap_or_default(),
        data,
        fields,
        deleted_at: string(obj, "deletedAt", "Change.deletedAt")?,
        space_id: string(obj, "spaceId", "Change.spaceId")?,
        actor,
        origin: string(obj, "origin", "Change.origin")?,
        schema_version: int(obj, "schemaVersion", "Change.schemaVersion")?,
    })
}

//! The stored change log: rows, their JSON, and the times the server writes.

use serde_json::{Map, Value};

use mana_sync_core::Timestamp;

/// One stored change.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub event_id: String,
    pub schema_version: i64,
    pub app_id: String,
    pub client_id: String,
    pub table: String,
    pub id: String,
    pub op: String,
    pub data: Option<Map<String, Value>>,
    pub fields: Option<Map<String, Value>>,
    pub deleted_at: Option<String>,
    pub space_id: Option<String>,
    pub actor: Option<Value>,
    pub origin: Option<String>,
    /// Microsecond precision, strictly increasing across the server.
    pub created_at: Timestamp,
}

impl Row {
    /// The change as the server returns it: members in the server's order,
    /// maps sorted (Go marshals maps sorted), optional members omitted.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("eventId".into(), self.event_id.clone().into());
        m.insert("schemaVersion".into(), self.schema_version.into());
        m.insert("table".into(), self.table.clone().into());
        m.insert("id".into(), self.id.clone().into());
        m.insert("op".into(), self.op.clone().into());
        if let Some(data) = &self.data {
            m.insert("data".into(), sorted(&Value::Object(data.clone())));
        }
        if let Some(fields) = &self.fields {
            m.insert("fields".into(), sorted(&Value::Object(fields.clone())));
        }
        if let Some(d) = &self.deleted_at {
            m.insert("deletedAt".into(), d.clone().into());
        }
        if let Some(s) = &self.space_id {
            m.insert("spaceId".into(), s.clone().into());
        }
        if let Some(a) = &self.actor {
            m.insert("actor".into(), a.clone());
        }
        if let Some(o) = &self.origin {
            m.insert("origin".into(), o.clone().into());
        }
        Value::Object(m)
    }
}

/// `v` with every object's members sorted by key, recursively.
pub(crate) fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), sorted(&m[k])))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// Go's `time.RFC3339Nano`: fraction digits as needed, trailing zeros cut.
pub(crate) fn rfc3339_nano(t: Timestamp) -> String {
    let text = t.to_rfc3339_precise();
    match text.split_once('.') {
        Some((head, frac)) => {
            let digits = frac.trim_end_matches('Z').trim_end_matches('0');
            if digits.is_empty() {
                format!("{head}Z")
            } else {
                format!("{head}.{digits}Z")
            }
        }
        None => text,
    }
}

/// `t` cut to microseconds, as PostgreSQL stores it.
pub(crate) fn to_micros(t: Timestamp) -> Timestamp {
    let nanos = t.unix_nanos();
    Timestamp::from_unix_nanos(nanos - nanos.rem_euclid(1000)).unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_time_format() {
        let t = |s: &str| Timestamp::parse(s).unwrap();
        assert_eq!(
            rfc3339_nano(t("2026-11-24T22:21:44.564112Z")),
            "2026-11-24T22:21:44.564112Z"
        );
        assert_eq!(
            rfc3339_nano(t("2026-11-24T22:21:44.100Z")),
            "2026-11-24T22:21:44.1Z"
        );
        assert_eq!(
            rfc3339_nano(t("2026-11-24T22:21:44Z")),
            "2026-11-24T22:21:44Z"
        );
        assert_eq!(
            rfc3339_nano(t("2026-11-24T22:21:44.993070461Z")),
            "2026-11-24T22:21:44.993070461Z"
        );
        assert_eq!(
            rfc3339_nano(to_micros(t("2026-11-24T22:21:44.993070461Z"))),
            "2026-11-24T22:21:44.99307Z"
        );
    }
}

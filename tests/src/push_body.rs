//! A push body read the way the Go server's `json.Decoder` fills its
//! `Changeset` struct: members matched by name (case-insensitively if no
//! exact match), unknown members ignored, `null` leaving a field unset, a
//! field's stamp read only from `at` (a legacy `updatedAt` is ignored),
//! numbers inside `data` and `value` read as `float64`, and the first type
//! error reported in Go's words once the whole body has been read.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::go_json::{self, J};

/// One field of an update, as `*FieldChange` holds it.
#[derive(Debug, Clone)]
pub(crate) struct FieldIn {
    /// The value (any JSON), as Go's `any` holds it.
    pub value: Value,
    /// The stamp from `at`; `""` when the client sent none.
    pub at: String,
}

/// One change as the server reads it.
#[derive(Debug, Clone, Default)]
pub(crate) struct IncomingChange {
    pub table: String,
    pub id: String,
    pub op: String,
    /// `data`; `None` when absent or null.
    pub data: Option<Map<String, Value>>,
    /// `fields`; `None` when absent or null. A field given as `null` is a
    /// nil pointer (`None`), which makes the real handler panic.
    pub fields: Option<BTreeMap<String, Option<FieldIn>>>,
    pub deleted_at: Option<String>,
    pub space_id: String,
    /// `actor` as raw JSON (PostgreSQL `jsonb` order), `None` when absent.
    pub actor: Option<Value>,
    pub origin: String,
    pub schema_version: i64,
}

/// A push body as the server reads it.
#[derive(Debug, Clone, Default)]
pub(crate) struct IncomingChangeset {
    pub client_id: String,
    pub since: String,
    pub schema_version: i64,
    pub changes: Vec<IncomingChange>,
}

/// Where a value sits, for Go's `UnmarshalTypeError` text.
#[derive(Clone, Copy)]
struct Ctx<'a> {
    /// The innermost struct's type name (`""` at the top).
    strukt: &'a str,
    /// The JSON names from the root to the field, dotted.
    path: &'a str,
}

/// Collects the first error, as Go's decoder does (`saveError`).
#[derive(Default)]
struct Errors(Option<String>);

impl Errors {
    fn save(&mut self, ctx: Ctx<'_>, value: &str, go_type: &str) {
        if self.0.is_none() {
            self.0 = Some(if ctx.strukt.is_empty() && ctx.path.is_empty() {
                format!("json: cannot unmarshal {value} into Go value of type {go_type}")
            } else {
                format!(
                    "json: cannot unmarshal {value} into Go struct field {}.{} of type {go_type}",
                    ctx.strukt, ctx.path
                )
            });
        }
    }
}

/// Go's field matching: an exact name, else a case-insensitive one.
fn matches_name(key: &str, name: &str) -> bool {
    key == name || key.to_lowercase() == name.to_lowercase()
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

fn string_into(target: &mut String, j: &J, ctx: Ctx<'_>, errors: &mut Errors) {
    match j {
        J::Null => {}
        J::Str(s) => target.clone_from(s),
        other => errors.save(ctx, other.kind(), "string"),
    }
}

fn opt_string_into(target: &mut Option<String>, j: &J, ctx: Ctx<'_>, errors: &mut Errors) {
    match j {
        J::Null => *target = None,
        J::Str(s) => *target = Some(s.clone()),
        other => errors.save(ctx, other.kind(), "string"),
    }
}

fn int_into(target: &mut i64, j: &J, ctx: Ctx<'_>, errors: &mut Errors) {
    match j {
        J::Null => {}
        J::Num(n) => match n.parse::<i64>() {
            Ok(v) => *target = v,
            Err(_) => errors.save(ctx, &format!("number {n}"), "int"),
        },
        other => errors.save(ctx, other.kind(), "int"),
    }
}

/// A value read into `any`: an out-of-range number is a `float64` error.
fn any_of(j: &J, ctx: Ctx<'_>, errors: &mut Errors) -> Value {
    go_json::to_any(j).unwrap_or_else(|number| {
        errors.save(ctx, &number, "float64");
        Value::Null
    })
}

fn map_into(target: &mut Option<Map<String, Value>>, j: &J, ctx: Ctx<'_>, errors: &mut Errors) {
    match j {
        J::Null => *target = None,
        J::Obj(members) => {
            // Go fills an existing map rather than replacing it.
            let map = target.get_or_insert_with(Map::new);
            for (k, v) in members {
                map.insert(k.clone(), any_of(v, ctx, errors));
            }
        }
        other => errors.save(ctx, other.kind(), "map[string]interface {}"),
    }
}

fn field_change(j: &J, path: &str, errors: &mut Errors) -> Option<FieldIn> {
    let ctx = Ctx {
        strukt: "Change",
        path,
    };
    match j {
        J::Null => None,
        J::Obj(members) => {
            let mut field = FieldIn {
                value: Value::Null,
                at: String::new(),
            };
            for (key, v) in members {
                if matches_name(key, "value") {
                    let path = join(path, "value");
                    let ctx = Ctx {
                        strukt: "FieldChange",
                        path: &path,
                    };
                    field.value = any_of(v, ctx, errors);
                } else if matches_name(key, "at") {
                    let path = join(path, "at");
                    let ctx = Ctx {
                        strukt: "FieldChange",
                        path: &path,
                    };
                    string_into(&mut field.at, v, ctx, errors);
                }
            }
            Some(field)
        }
        other => {
            errors.save(ctx, other.kind(), "sync.FieldChange");
            // Go leaves a zero FieldChange behind a type error.
            Some(FieldIn {
                value: Value::Null,
                at: String::new(),
            })
        }
    }
}

/// The members of Go's `Change` struct.
const CHANGE_NAMES: [&str; 11] = [
    "eventId",
    "schemaVersion",
    "table",
    "id",
    "op",
    "fields",
    "data",
    "deletedAt",
    "spaceId",
    "actor",
    "origin",
];

fn change(j: &J, errors: &mut Errors) -> IncomingChange {
    let mut c = IncomingChange::default();
    let J::Obj(members) = j else {
        if !matches!(j, J::Null) {
            let ctx = Ctx {
                strukt: "Changeset",
                path: "changes",
            };
            errors.save(ctx, j.kind(), "sync.Change");
        }
        return c;
    };
    for (key, v) in members {
        let name = CHANGE_NAMES
            .into_iter()
            .find(|n| key == n)
            .or_else(|| CHANGE_NAMES.into_iter().find(|n| matches_name(key, n)));
        let Some(name) = name else { continue };
        let path = join("changes", name);
        let ctx = Ctx {
            strukt: "Change",
            path: &path,
        };
        match name {
            "eventId" => string_into(&mut String::new(), v, ctx, errors),
            "schemaVersion" => int_into(&mut c.schema_version, v, ctx, errors),
            "table" => string_into(&mut c.table, v, ctx, errors),
            "id" => string_into(&mut c.id, v, ctx, errors),
            "op" => string_into(&mut c.op, v, ctx, errors),
            "data" => map_into(&mut c.data, v, ctx, errors),
            "deletedAt" => opt_string_into(&mut c.deleted_at, v, ctx, errors),
            "spaceId" => string_into(&mut c.space_id, v, ctx, errors),
            "origin" => string_into(&mut c.origin, v, ctx, errors),
            // json.RawMessage takes any JSON; an explicit null is left out.
            "actor" => {
                c.actor = match v {
                    J::Null => None,
                    other => Some(go_json::to_jsonb(other)),
                }
            }
            _ => match v {
                J::Null => c.fields = None,
                J::Obj(fields) => {
                    let map = c.fields.get_or_insert_with(BTreeMap::new);
                    for (name, f) in fields {
                        map.insert(name.clone(), field_change(f, &path, errors));
                    }
                }
                other => errors.save(ctx, other.kind(), "map[string]*sync.FieldChange"),
            },
        }
    }
    c
}

/// Reads a push body (at most `limit` bytes of it, as the server does);
/// the error is the server's 400 text after `invalid JSON: `.
pub(crate) fn parse(body: &[u8], limit: usize) -> Result<IncomingChangeset, String> {
    let j = go_json::decode_first(body, limit)?;
    let mut errors = Errors::default();
    let mut set = IncomingChangeset::default();
    match &j {
        J::Null => {}
        J::Obj(members) => {
            const NAMES: [&str; 5] = ["clientId", "appId", "since", "changes", "schemaVersion"];
            for (key, v) in members {
                let name = NAMES
                    .into_iter()
                    .find(|n| key == n)
                    .or_else(|| NAMES.into_iter().find(|n| matches_name(key, n)));
                let Some(name) = name else { continue };
                let ctx = Ctx {
                    strukt: "Changeset",
                    path: name,
                };
                match name {
                    "clientId" => string_into(&mut set.client_id, v, ctx, &mut errors),
                    "appId" => string_into(&mut String::new(), v, ctx, &mut errors),
                    "since" => string_into(&mut set.since, v, ctx, &mut errors),
                    "schemaVersion" => int_into(&mut set.schema_version, v, ctx, &mut errors),
                    _ => match v {
                        J::Null => set.changes.clear(),
                        J::Arr(items) => {
                            set.changes = items.iter().map(|i| change(i, &mut errors)).collect();
                        }
                        other => errors.save(ctx, other.kind(), "[]sync.Change"),
                    },
                }
            }
        }
        other => errors.save(
            Ctx {
                strukt: "",
                path: "",
            },
            other.kind(),
            "sync.Changeset",
        ),
    }
    match errors.0 {
        Some(e) => Err(e),
        None => Ok(set),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn err(body: &str) -> String {
        parse(body.as_bytes(), 1 << 20).unwrap_err()
    }

    #[test]
    fn reads_as_go_does() {
        let set = parse(
            br#"{"ClientID": "c", "since": "s", "changes": [
                {"table": "t", "id": "1", "op": "update", "unknown": [1],
                 "fields": {"a": {"value": 1.0, "updatedAt": "x"}, "b": {"value": {"z": 1}, "at": "y"}},
                 "actor": {"missionId": "m", "kind": "ai"}, "spaceId": null}
            ]} trailing"#,
            1 << 20,
        )
        .unwrap();
        assert_eq!(set.client_id, "c");
        let c = &set.changes[0];
        let fields = c.fields.as_ref().unwrap();
        let a = fields["a"].as_ref().unwrap();
        assert_eq!((a.value.to_string(), a.at.as_str()), ("1".into(), ""));
        assert_eq!(fields["b"].as_ref().unwrap().at, "y");
        assert_eq!(
            c.actor.as_ref().unwrap().to_string(),
            r#"{"kind":"ai","missionId":"m"}"#
        );
        assert!(parse(b"null", 100).unwrap().changes.is_empty());
    }

    #[test]
    fn type_errors_in_go_words() {
        assert_eq!(
            err("[]"),
            "json: cannot unmarshal array into Go value of type sync.Changeset"
        );
        assert_eq!(
            err(r#"{"changes": {}}"#),
            "json: cannot unmarshal object into Go struct field Changeset.changes of type []sync.Change"
        );
        assert_eq!(
            err(r#"{"changes": [{"table": 5}], "clientId": 1}"#),
            "json: cannot unmarshal number into Go struct field Change.changes.table of type string"
        );
        assert_eq!(
            err(r#"{"schemaVersion": 1.5}"#),
            "json: cannot unmarshal number 1.5 into Go struct field Changeset.schemaVersion of type int"
        );
        assert_eq!(
            err(r#"{"changes": [{"fields": {"a": 1}}]}"#),
            "json: cannot unmarshal number into Go struct field Change.changes.fields of type sync.FieldChange"
        );
        assert_eq!(
            err(r#"{"changes": [{"fields": {"a": {"at": 1}}}]}"#),
            "json: cannot unmarshal number into Go struct field FieldChange.changes.fields.at of type string"
        );
        assert_eq!(
            err(r#"{"changes": [{"data": {"n": 1e999}}]}"#),
            "json: cannot unmarshal number 1e999 into Go struct field Change.changes.data of type float64"
        );
        assert_eq!(
            err(r#"{"changes": [7]}"#),
            "json: cannot unmarshal number into Go struct field Changeset.changes of type sync.Change"
        );
    }
}

//! Lenient reading of a list of changes: each change is checked on its own,
//! as the browser's guard (`isValidSyncChange`) does, and a malformed one is
//! skipped and reported instead of failing the whole list.

use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::scan::slot_of;
use super::{Change, Op, SkippedChange};
use crate::depth::{self, MAX_DEPTH};
use crate::error::bound;

/// Most characters kept of a skipped change's `table`, `id` or `eventId`.
const NAME_CHARS: usize = 200;

/// Reads each raw change; returns the changes that are well formed, in
/// order, and a report of the others (their index in `raw` and why).
///
/// Used for push and pull responses, and meant for stream batches.
pub(crate) fn decode_changes(raw: &[Box<RawValue>]) -> (Vec<Change>, Vec<SkippedChange>) {
    let mut changes = Vec::with_capacity(raw.len());
    let mut skipped = Vec::new();
    for (index, text) in raw.iter().enumerate() {
        match decode_one(text.get()) {
            Ok(change) => changes.push(change),
            Err((Some(value), reason)) => skipped.push(report(index, &value, &reason)),
            Err((None, reason)) => {
                skipped.push(report(index, &names_of(text.get()), &reason));
            }
        }
    }
    (changes, skipped)
}

/// The report of a change the reading skips, `None` for one it keeps.
pub(crate) fn skip_report(index: usize, text: &str) -> Option<SkippedChange> {
    match decode_one(text) {
        Ok(_) => None,
        Err((Some(value), reason)) => Some(report(index, &value, &reason)),
        Err((None, reason)) => Some(report(index, &names_of(text), &reason)),
    }
}

/// One change read from its text: the reference reading, which every
/// faster reading of a page agrees with.
///
/// The verdict is one whichever path decides it: the fast path keeps only
/// what the full reading keeps, as the same [`Change`].
pub(crate) fn decode_one(text: &str) -> Result<Change, (Option<Value>, String)> {
    match direct(text) {
        Some(change) => Ok(change),
        None => checked(text),
    }
}

/// The fast path: the change read straight from its text into [`Change`]
/// (no intermediate [`Value`], no path tracking), kept only when it also
/// passes what the guard asks beyond what the types already check (the
/// types check every member's JSON type, `op` aside, and fail on a
/// duplicate member). Anything else, including a field whose `value` is
/// `null` or absent (which the types cannot tell apart), goes to
/// [`checked`], which decides and says why. So a change this accepts is
/// one [`checked`] accepts, read to the same [`Change`].
fn direct(text: &str) -> Option<Change> {
    let change: Change = serde_json::from_str(text).ok()?;
    passes_guard(&change).then_some(change)
}

/// Whether a change read straight into [`Change`] passes what the guard
/// asks beyond the types (see [`direct`]). A change that fails may still
/// be well formed: only the full reading can tell.
fn passes_guard(change: &Change) -> bool {
    !change.table.is_empty()
        && !change.id.is_empty()
        && matches!(change.op, Op::Insert | Op::Update | Op::Delete)
        && change.actor.as_ref().is_none_or(Value::is_object)
        && change
            .fields
            .as_ref()
            .is_none_or(|fields| fields.values().all(|f| !f.value.is_null()))
}

/// The full reading: the members the client reads as [`Value`]s (each
/// nested at most [`MAX_DEPTH`] levels, the change counted), the browser's
/// guard on them, then the typed reading with the path of a failure.
///
/// A member the client does not read is only checked to be JSON, as the
/// fast path's types check it: so a number beyond `f64`, a lone surrogate
/// or deep nesting there never decides the verdict, whichever path reads
/// the change.
fn checked(text: &str) -> Result<Change, (Option<Value>, String)> {
    let members = match serde_json::from_str::<Members<'_>>(text) {
        Ok(members) => members.0,
        Err(e) => {
            let reason = match text.trim_start().as_bytes().first() {
                Some(b'{') | None => e.to_string(),
                Some(b'[') => "a change must be an object, not an array".into(),
                Some(b'"') => "a change must be an object, not a string".into(),
                Some(b't' | b'f') => "a change must be an object, not a boolean".into(),
                Some(b'n') => "a change must be an object, not null".into(),
                Some(_) => "a change must be an object, not a number".into(),
            };
            return Err((None, reason));
        }
    };
    let mut object = Map::new();
    for (name, raw) in members {
        if slot_of(name.as_bytes()).is_none() {
            continue;
        }
        // The member's value is one level inside the change.
        let value = depth::from_str_within::<Value>(raw.get(), MAX_DEPTH.saturating_sub(1))
            .map_err(|e| (None, format!("member `{name}`: {e}")))?;
        object.insert(name, value);
    }
    if let Err(reason) = guard(&object) {
        return Err((Some(Value::Object(object)), reason));
    }
    let value = Value::Object(object);
    match serde_path_to_error::deserialize::<_, Change>(&value) {
        Ok(change) => Ok(change),
        Err(e) => {
            let path = e.path().to_string();
            let reason = format!("member `{path}`: {}", e.into_inner());
            Err((Some(value), reason))
        }
    }
}

/// A change object's members in order, each value as its text (read
/// without limit of depth or range: only its syntax is checked).
struct Members<'a>(Vec<(String, &'a RawValue)>);

impl<'de> serde::Deserialize<'de> for Members<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Members<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a change object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Members<'de>, A::Error> {
                let mut members = Vec::new();
                while let Some(member) = map.next_entry::<String, &'de RawValue>()? {
                    members.push(member);
                }
                Ok(Members(members))
            }
        }
        d.deserialize_map(Visit)
    }
}

/// A member's name, the test its value must pass, and what that is.
type TypeCheck = (&'static str, fn(&Value) -> bool, &'static str);

/// The browser's guard, as PROTOCOL.md lists it.
fn guard(c: &Map<String, Value>) -> Result<(), String> {
    for name in ["table", "id"] {
        match c.get(name) {
            Some(Value::String(s)) if !s.is_empty() => {}
            Some(Value::String(_)) => return Err(format!("member `{name}` is empty")),
            Some(v) => return Err(format!("member `{name}` is {}, not a string", kind(v))),
            None => return Err(format!("member `{name}` is missing")),
        }
    }
    match c.get("op") {
        Some(Value::String(op)) if matches!(op.as_str(), "insert" | "update" | "delete") => {}
        Some(Value::String(_)) => {
            return Err(r#"member `op` is not "insert", "update" or "delete""#.into())
        }
        Some(v) => return Err(format!("member `op` is {}, not a string", kind(v))),
        None => return Err("member `op` is missing".into()),
    }
    if let Some(fields) = present(c, "fields") {
        let Value::Object(fields) = fields else {
            return Err(format!(
                "member `fields` is {}, not an object",
                kind(fields)
            ));
        };
        for (name, field) in fields {
            let Value::Object(field) = field else {
                return Err(format!(
                    "field `{}` is {}, not an object {{value, at}}",
                    bound(name, NAME_CHARS),
                    kind(field)
                ));
            };
            if !field.contains_key("value") {
                return Err(format!(
                    "field `{}` has no `value`",
                    bound(name, NAME_CHARS)
                ));
            }
            for stamp in ["at", "updatedAt"] {
                if let Some(at) = present(field, stamp) {
                    if !at.is_string() {
                        return Err(format!(
                            "field `{}`: `{stamp}` is {}, not a string",
                            bound(name, NAME_CHARS),
                            kind(at)
                        ));
                    }
                }
            }
        }
    }
    let typed: [TypeCheck; 6] = [
        ("data", Value::is_object, "an object"),
        ("deletedAt", Value::is_string, "a string"),
        ("eventId", Value::is_string, "a string"),
        ("spaceId", Value::is_string, "a string"),
        ("actor", Value::is_object, "an object"),
        ("origin", Value::is_string, "a string"),
    ];
    for (name, ok, want) in typed {
        if let Some(v) = present(c, name) {
            if !ok(v) {
                return Err(format!("member `{name}` is {}, not {want}", kind(v)));
            }
        }
    }
    if let Some(v) = present(c, "schemaVersion") {
        if !v.is_number() {
            return Err(format!(
                "member `schemaVersion` is {}, not a number",
                kind(v)
            ));
        }
        if v.as_u64().and_then(|n| u32::try_from(n).ok()).is_none() {
            return Err("member `schemaVersion` is not a whole number from 0 to 2^32-1".into());
        }
    }
    Ok(())
}

/// A member that is present and not `null` (the server omits absent
/// members; a `null` is read as absent).
fn present<'a>(c: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    c.get(name).filter(|v| !v.is_null())
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The names of a change that does not parse as a whole (a number beyond
/// f64, say), read while skipping every other member unparsed.
fn names_of(text: &str) -> Value {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Names {
        event_id: Option<String>,
        table: Option<String>,
        id: Option<String>,
    }
    match serde_json::from_str::<Names>(text) {
        Ok(n) => serde_json::json!({"eventId": n.event_id, "table": n.table, "id": n.id}),
        Err(_) => Value::Null,
    }
}

fn report(index: usize, change: &Value, reason: &str) -> SkippedChange {
    let text = |name: &str| {
        change
            .get(name)
            .and_then(Value::as_str)
            .map(|s| bound(s, NAME_CHARS))
    };
    SkippedChange {
        index,
        event_id: text("eventId"),
        table: text("table"),
        id: text("id"),
        reason: bound(reason, crate::limits::ERROR_BODY_CHARS),
    }
}

#[cfg(test)]
mod tests {
    use crate::SyncResponse;

    fn page(changes: &[&str]) -> SyncResponse {
        let body = format!(
            r#"{{"serverChanges":[{}],"conflicts":[],"syncedUntil":"2026-11-24T22:21:44.5Z","hasMore":true}}"#,
            changes.join(",")
        );
        serde_json::from_str(&body).unwrap()
    }

    const GOOD: &str = r#"{"eventId":"e","table":"t","id":"ok","op":"update","fields":{"a":{"value":1,"at":"2026-01-01T00:00:00.000Z"}}}"#;

    #[test]
    fn each_change_the_browser_would_drop_is_skipped_and_reported() {
        let deep = format!("{}1{}", "[".repeat(300), "]".repeat(300));
        let bad: Vec<(String, &str)> = vec![
            (r#"5"#.into(), "must be an object"),
            (r#"[1,2]"#.into(), "must be an object"),
            (r#"{"table":"t","id":"1","op":5}"#.into(), "`op` is a number"),
            (r#"{"table":"t","id":"1","op":"upsert"}"#.into(), "`op` is not"),
            (r#"{"table":"t","id":"1"}"#.into(), "`op` is missing"),
            (r#"{"table":"","id":"1","op":"delete"}"#.into(), "`table` is empty"),
            (r#"{"table":"t","id":7,"op":"delete"}"#.into(), "`id` is a number"),
            (r#"{"table":"t","id":"1","op":"update","fields":[]}"#.into(), "`fields` is an array"),
            (r#"{"table":"t","id":"1","op":"update","fields":{"title":["hacked","2030-01-01T00:00:00Z"]}}"#.into(), "field `title` is an array"),
            (r#"{"table":"t","id":"1","op":"update","fields":{"title":"x"}}"#.into(), "field `title` is a string"),
            (r#"{"table":"t","id":"1","op":"update","fields":{"title":{"at":"2030-01-01T00:00:00Z"}}}"#.into(), "has no `value`"),
            (r#"{"table":"t","id":"1","op":"update","fields":{"title":{"value":1,"at":5}}}"#.into(), "`at` is a number"),
            (r#"{"table":"t","id":"1","op":"insert","data":[1]}"#.into(), "`data` is an array"),
            (r#"{"table":"t","id":"1","op":"insert","data":{"n":1e400}}"#.into(), "number out of range"),
            (r#"{"table":"t","id":"1","op":"delete","deletedAt":5}"#.into(), "`deletedAt` is a number"),
            (r#"{"table":"t","id":"1","op":"delete","eventId":{}}"#.into(), "`eventId` is an object"),
            (r#"{"table":"t","id":"1","op":"delete","spaceId":1}"#.into(), "`spaceId` is a number"),
            (r#"{"table":"t","id":"1","op":"delete","actor":"me"}"#.into(), "`actor` is a string"),
            (r#"{"table":"t","id":"1","op":"delete","origin":[]}"#.into(), "`origin` is an array"),
            (r#"{"table":"t","id":"1","op":"delete","schemaVersion":"1"}"#.into(), "`schemaVersion` is a string"),
            (r#"{"table":"t","id":"1","op":"delete","schemaVersion":-1}"#.into(), "whole number"),
            (r#"{"table":"t","id":"1","op":"delete","schemaVersion":4294967296}"#.into(), "whole number"),
            (r#"{"table":"t","id":"1","op":"delete","schemaVersion":1.5}"#.into(), "whole number"),
            (format!(r#"{{"table":"t","id":"1","op":"insert","data":{{"deep":{deep}}}}}"#), "member `data`: nested deeper than 127 levels"),
        ];
        for (change, why) in &bad {
            let p = page(&[GOOD, change, GOOD]);
            assert_eq!(p.server_changes.len(), 2, "{change}");
            assert_eq!(p.skipped.len(), 1, "{change}");
            let s = &p.skipped[0];
            assert_eq!(s.index, 1, "{change}");
            assert!(s.reason.contains(why), "{change}: {}", s.reason);
            assert!(s.reason.chars().count() <= 500);
            assert!(p.has_more);
        }
        let p = page(&[r#"{"eventId":"e-9","table":"tasks","id":"t-9","op":"nope"}"#]);
        let s = &p.skipped[0];
        assert_eq!(
            (s.event_id.as_deref(), s.table.as_deref(), s.id.as_deref()),
            (Some("e-9"), Some("tasks"), Some("t-9"))
        );
        assert!(s.to_string().contains("tasks/t-9"), "{s}");
    }

    #[test]
    fn well_formed_changes_pass_including_nulls_and_legacy_fields() {
        let p = page(&[
            GOOD,
            r#"{"table":"t","id":"1","op":"update","fields":{"a":{"value":null},"b":{"value":2,"updatedAt":"2026-01-01T00:00:00Z"}},"deletedAt":null}"#,
            r#"{"table":"t","id":"1","op":"insert","data":{"n":1e300},"actor":{"kind":"ai"},"schemaVersion":1,"origin":"robot"}"#,
        ]);
        assert!(p.skipped.is_empty(), "{:?}", p.skipped);
        assert_eq!(p.server_changes.len(), 3);
    }

    #[test]
    fn the_direct_reading_agrees_with_the_checked_one() {
        // Every change the fast path keeps is kept by the full reading, as
        // the same Change; what the fast path refuses, the full reading
        // decides (and these include changes it keeps).
        let cases = [
            GOOD,
            r#"{"table":"t","id":"1","op":"update","fields":{"a":{"value":null},"b":{"value":2,"updatedAt":"2026-01-01T00:00:00Z"}},"deletedAt":null}"#,
            r#"{"table":"t","id":"1","op":"update","fields":{"a":{"at":"2026-01-01T00:00:00Z"}}}"#,
            r#"{"table":"t","id":"1","op":"insert","data":{"n":1e300,"x":null},"actor":{"kind":"ai"},"schemaVersion":1,"origin":"robot"}"#,
            r#"{"table":"t","id":"1","op":"insert","actor":null,"data":null,"fields":null,"eventId":null}"#,
            r#"{"table":"t","id":"1","op":"delete","actor":"me"}"#,
            r#"{"table":"t","id":"1","op":"delete","actor":[1]}"#,
            r#"{"table":"t","id":"1","op":"upsert"}"#,
            r#"{"table":"","id":"1","op":"delete"}"#,
            r#"{"id":"1","op":"delete"}"#,
            r#"{"table":"t","table":"u","id":"1","op":"delete"}"#,
            r#"{"table":"t","id":"1","op":"update","fields":{"a":{"value":1,"value":2,"at":""}}}"#,
            r#"{"table":"t","id":"1","op":"update","fields":{"a":{"value":1,"at":""},"a":{"value":2,"at":""}}}"#,
            r#"{"table":"t","id":"1","op":"insert","data":{"a":1,"a":2,"b":{"c":[1,{"d":null}]}}}"#,
            r#"{"table":"t","id":"1","op":"delete","deletedAt":"garbage","schemaVersion":0}"#,
            r#"{"table":"t","id":"1","op":"delete","schemaVersion":1.0}"#,
        ];
        let mut direct_kept = 0;
        for text in cases {
            let full = super::checked(text);
            match super::direct(text) {
                Some(change) => {
                    direct_kept += 1;
                    assert_eq!(full.as_ref().ok(), Some(&change), "{text}");
                }
                None => {
                    let _ = full;
                }
            }
        }
        assert!(direct_kept >= 4, "the fast path is taken");
        assert!(super::direct(r#"{"table":"t","id":"1","op":"delete","actor":"me"}"#).is_none());
        assert!(super::checked(
            r#"{"table":"t","id":"1","op":"update","fields":{"a":{"value":null}}}"#
        )
        .is_ok());
    }

    #[test]
    fn a_page_reads_the_same_whole_or_change_by_change() {
        // The whole-page fast path and the change-by-change reading agree:
        // on a page of good changes, and on pages with one the fast path
        // must hand over (a bad one, a null value, deep nesting).
        let deep = format!("{}1{}", "[".repeat(126), "]".repeat(126));
        let nested = format!(r#"{{"table":"t","id":"d","op":"insert","data":{{"x":{deep}}}}}"#);
        let null_value =
            r#"{"table":"t","id":"n","op":"update","fields":{"a":{"value":null,"at":""}}}"#;
        for changes in [
            vec![GOOD, GOOD],
            vec![GOOD, r#"{"table":"t","id":"1","op":"upsert"}"#, GOOD],
            vec![GOOD, null_value],
            vec![nested.as_str(), GOOD],
        ] {
            let p = page(&changes);
            let raw: Vec<Box<serde_json::value::RawValue>> = changes
                .iter()
                .map(|c| serde_json::value::RawValue::from_string((*c).to_owned()).unwrap())
                .collect();
            let (want, skipped) = super::decode_changes(&raw);
            assert_eq!(p.server_changes, want);
            assert_eq!(p.skipped, skipped);
        }
        assert_eq!(page(&[null_value]).server_changes.len(), 1);
        for bad in [r#"null"#, r#"{}"#, r#""x""#, "5"] {
            let body = format!(r#"{{"serverChanges":{bad},"syncedUntil":"2026-11-24T22:21:44Z"}}"#);
            let e = serde_json::from_str::<SyncResponse>(&body).unwrap_err();
            assert!(e.to_string().contains("expected a sequence"), "{bad}: {e}");
        }
        let none: SyncResponse =
            serde_json::from_str(r#"{"syncedUntil":"2026-11-24T22:21:44Z"}"#).unwrap();
        assert!(none.server_changes.is_empty() && none.skipped.is_empty());
    }

    #[test]
    fn texts_in_a_report_are_bounded() {
        let big = "x".repeat(1 << 20);
        let change = format!(
            r#"{{"eventId":"{big}","table":"{big}","id":"{big}","op":"{big}","fields":{{"{big}":5}}}}"#
        );
        let p = page(&[&change]);
        let s = &p.skipped[0];
        assert!(s.reason.chars().count() <= 500);
        assert!(s.table.as_ref().unwrap().chars().count() <= 200);
        assert!(s.to_string().chars().count() < 1200);
    }

    #[test]
    fn only_object_forms_are_read() {
        use crate::wire::{Change, Changeset, Conflict, FieldChange, Health};
        assert!(
            serde_json::from_str::<FieldChange>(r#"["hacked","2030-01-01T00:00:00Z"]"#).is_err()
        );
        assert!(serde_json::from_str::<Change>(r#"[null,null,"t","1","insert"]"#).is_err());
        assert!(
            serde_json::from_str::<SyncResponse>(r#"[[],[],"2026-01-01T00:00:00Z",true]"#).is_err()
        );
        assert!(serde_json::from_str::<Changeset>(r#"["c","2026-01-01T00:00:00Z",1,[]]"#).is_err());
        assert!(serde_json::from_str::<Conflict>(r#"["t","1","f",1,"",2,""]"#).is_err());
        assert!(serde_json::from_str::<Health>(r#"["ok","mana-sync",null,1,1]"#).is_err());
        // The object forms still read.
        assert!(serde_json::from_str::<FieldChange>(r#"{"value":1,"at":""}"#).is_ok());
        assert!(serde_json::from_str::<Changeset>(
            r#"{"clientId":"c","since":"2026-01-01T00:00:00Z"}"#
        )
        .is_ok());
        assert!(serde_json::from_str::<Health>(r#"{"status":"ok"}"#).is_ok());
        // And a change whose field is in the array form is skipped, not applied.
        let p = page(&[
            r#"{"table":"t","id":"1","op":"update","fields":{"title":["hacked","2030-01-01T00:00:00Z"]}}"#,
        ]);
        assert!(p.server_changes.is_empty());
    }
}

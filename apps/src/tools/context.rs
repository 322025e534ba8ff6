//! What a tool reads ([`Read`]) and returns ([`Plan`]), and the helpers the
//! tools share: ids, dates, encryption by the registry, changes.

use mana_sync_core::crypto::{decrypt_fields, encrypt_fields, MasterKey, PooledOsRng};
use mana_sync_core::fold::Record as Folded;
use mana_sync_core::{Change, Timestamp};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Map, Value};

use super::spaces::Space;
use super::{Tool, ToolError};
use crate::records::Record;
use crate::Registry;

/// What a tool is given to run on.
#[derive(Debug)]
pub struct Read<'a> {
    /// The live folded records of the tool's collection (empty unless it
    /// reads them).
    pub records: &'a [Folded],
    /// The user's master key (if the tool needs it).
    pub key: Option<&'a MasterKey>,
    /// The time of the call (the client's clock).
    pub now: Timestamp,
    /// The space writes go to, if one was chosen.
    pub space_id: Option<&'a str>,
    /// The user's spaces (for the tools that read them).
    pub spaces: Option<Vec<Space>>,
}

/// What a tool returns: the changes to push (to its app) and its output.
#[derive(Debug)]
pub struct Plan<O> {
    /// The changes, pushed in one push.
    pub changes: Vec<Change>,
    /// The tool's output.
    pub output: O,
}

impl<O> Plan<O> {
    /// An output and the one change that makes it so.
    pub fn write(change: Change, output: O) -> Plan<O> {
        Plan {
            changes: vec![change],
            output,
        }
    }

    /// An output with nothing to push.
    pub fn read(output: O) -> Plan<O> {
        Plan {
            changes: Vec::new(),
            output,
        }
    }
}

/// A tool's input from JSON, the error naming the field.
pub(crate) fn from_json<X: Tool>(input: Value) -> Result<X::Input, ToolError> {
    // `{}` and `null` are the same empty input to an agent.
    let input = if input.is_null() {
        Value::Object(Map::new())
    } else {
        input
    };
    serde_path_to_error::deserialize(input).map_err(|e| {
        let field = e.path().to_string();
        ToolError::Input {
            field: if field == "." { String::new() } else { field },
            message: mana_sync_core_without_value(&e.into_inner().to_string()),
        }
    })
}

/// serde's message can quote the value (`invalid type: string "…",
/// expected u8`): keep what names the type.
fn mana_sync_core_without_value(message: &str) -> String {
    let cut = match (
        message.starts_with("invalid"),
        message.find(": "),
        message.rfind(", expected "),
    ) {
        (true, Some(colon), Some(expected)) if expected > colon => format!(
            "{}{}",
            message.get(..colon).unwrap_or_default(),
            message.get(expected..).unwrap_or_default()
        ),
        _ => message.to_owned(),
    };
    cut.chars().take(300).collect()
}

/// A tool's output as JSON.
pub(crate) fn to_json<O: Serialize>(output: O) -> Result<Value, ToolError> {
    serde_json::to_value(output).map_err(|e| ToolError::Internal {
        message: e.to_string(),
    })
}

/// A fresh record id: a random (v4) UUID, as the browser's
/// `crypto.randomUUID()`.
pub(crate) fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// `now` as the browser writes times: ISO-8601 with milliseconds, UTC.
pub(crate) fn iso(now: Timestamp) -> String {
    now.to_string()
}

/// The UTC date of `now`, `YYYY-MM-DD`.
pub(crate) fn date_of(now: Timestamp) -> String {
    iso(now).chars().take(10).collect()
}

/// The UTC time of `now`, `HH:mm`.
pub(crate) fn time_of(now: Timestamp) -> String {
    iso(now).chars().skip(11).take(5).collect()
}

/// The UTC date `days` days before `now`.
pub(crate) fn days_before(now: Timestamp, days: u32) -> String {
    let back = std::time::Duration::from_secs(u64::from(days) * 86_400);
    date_of(now.checked_sub(back).unwrap_or(Timestamp::UNIX_EPOCH))
}

/// The registry's encrypted fields of `R`'s collection, sealed in `data`
/// with `key` (null stays null).
pub(crate) fn seal<R: Record>(
    data: &mut Map<String, Value>,
    key: Option<&MasterKey>,
) -> Result<(), ToolError> {
    let fields = Registry::get()
        .encrypted(R::APP_ID, R::COLLECTION)
        .map_err(|e| ToolError::Internal {
            message: e.to_string(),
        })?;
    let names: Vec<&str> = fields.iter().map(String::as_str).collect();
    let needs = names
        .iter()
        .any(|n| data.get(*n).is_some_and(|v| !v.is_null()));
    match key {
        Some(key) => encrypt_fields(key, data, &names, &mut PooledOsRng)
            .map_err(|e| ToolError::Sync(e.into())),
        None if needs => Err(ToolError::Internal {
            message: "an encrypted field to write and no master key".into(),
        }),
        None => Ok(()),
    }
}

/// The insert of record `value` (of `R`'s collection), sealed.
pub(crate) fn insert<R: Record>(
    value: &R,
    key: Option<&MasterKey>,
    id: &str,
) -> Result<Change, ToolError> {
    let mut data = match serde_json::to_value(value) {
        Ok(Value::Object(map)) => map,
        _ => {
            return Err(ToolError::Internal {
                message: "a record is not an object".into(),
            })
        }
    };
    seal::<R>(&mut data, key)?;
    Ok(Change::insert(R::COLLECTION, id, data))
}

/// The update setting `fields` (and `updatedAt`) on record `id` of `R`'s
/// collection, each stamped with `at = now`, sealed.
pub(crate) fn update<R: Record>(
    id: &str,
    mut fields: Map<String, Value>,
    key: Option<&MasterKey>,
    now: Timestamp,
) -> Result<Change, ToolError> {
    fields.insert("updatedAt".into(), Value::from(iso(now)));
    seal::<R>(&mut fields, key)?;
    Ok(fields
        .into_iter()
        .fold(Change::update(R::COLLECTION, id), |c, (name, value)| {
            c.with_field(name, value, now)
        }))
}

/// The live records read as `R`, decrypted (the record's id filled in when
/// its data does not repeat it); those that do not decode are left out and
/// counted.
pub(crate) fn decode<R: Record>(read: &Read<'_>) -> (Vec<R>, usize) {
    let fields = Registry::get()
        .encrypted(R::APP_ID, R::COLLECTION)
        .unwrap_or_default();
    let names: Vec<&str> = fields.iter().map(String::as_str).collect();
    let mut skipped = 0;
    let mut out = Vec::with_capacity(read.records.len());
    for record in read.records {
        let mut json = record.to_json();
        json.entry("id")
            .or_insert_with(|| Value::from(record.id.clone()));
        let opened = match read.key {
            Some(key) => decrypt_fields(key, &mut json, &names).is_ok(),
            None => true,
        };
        match serde_json::from_value::<R>(Value::Object(json)) {
            Ok(value) if opened => out.push(value),
            _ => skipped += 1,
        }
    }
    (out, skipped)
}

/// Record `id` must be live in what was read.
pub(crate) fn must_exist(read: &Read<'_>, what: &'static str, id: &str) -> Result<(), ToolError> {
    if read.records.iter().any(|r| r.id == id) {
        Ok(())
    } else {
        Err(ToolError::NotFound {
            what,
            id: id.chars().take(100).collect(),
        })
    }
}

/// The update setting `fields` on live record `id` of `R`'s collection
/// (see [`update`]); [`ToolError::NotFound`] naming `what` when it is not
/// live in what was read.
pub(crate) fn set_fields<R: Record>(
    read: &Read<'_>,
    what: &'static str,
    id: &str,
    fields: Map<String, Value>,
) -> Result<Plan<Done>, ToolError> {
    must_exist(read, what, id)?;
    Ok(Plan::write(
        update::<R>(id, fields, read.key, read.now)?,
        Done::yes(),
    ))
}

/// `{ "ok": true }`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Done {
    /// Always true.
    pub ok: bool,
}

impl Done {
    pub(crate) fn yes() -> Done {
        Done { ok: true }
    }
}

/// Whether `text` contains `needle`, ignoring case.
pub(crate) fn contains_ci(text: &str, needle: &str) -> bool {
    text.to_lowercase().contains(&needle.to_lowercase())
}

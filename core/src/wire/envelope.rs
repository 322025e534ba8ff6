//! [`SyncResponse`]: what push and pull answer.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;

use super::lenient::{decode_changes, passes_guard};
use super::object_form::object_only;
use super::{Change, Conflict, SkippedChange};
use crate::Cursor;

/// The response of a push or a pull.
///
/// The envelope is read strictly (an object; `serverChanges` and `conflicts`
/// arrays; `syncedUntil` a timestamp the server can read back; `hasMore` a
/// boolean): anything else fails the whole response. Each change is then
/// read on its own: a malformed one (see [`SkippedChange`]) is dropped and
/// reported in [`SyncResponse::skipped`], and the rest of the page is kept.
///
/// ```
/// use mana_sync_core::SyncResponse;
///
/// let r: SyncResponse = serde_json::from_str(
///     r#"{"serverChanges":[{"table":"t","id":"1","op":5},{"table":"t","id":"2","op":"delete"}],
///         "conflicts":[],"syncedUntil":"2026-11-24T22:21:44.564112Z","hasMore":true}"#,
/// )?;
/// assert!(r.has_more);
/// assert_eq!(r.synced_until.as_str(), "2026-11-24T22:21:44.564112Z");
/// assert_eq!(r.server_changes.len(), 1);
/// assert_eq!(r.skipped[0].index, 0);
/// assert!(serde_json::from_str::<SyncResponse>(r#"[[],[],"2026-11-24T22:21:44Z",true]"#).is_err());
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncResponse {
    /// Other clients' changes, oldest first (the well-formed ones).
    pub server_changes: Vec<Change>,
    /// Always empty today.
    pub conflicts: Vec<Conflict>,
    /// The cursor to send back as the next `since`, verbatim.
    pub synced_until: Cursor,
    /// Pull only: more changes wait after `synced_until`. Omitted when false.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub has_more: bool,
    /// The changes of `serverChanges` that were dropped as malformed (never
    /// written back).
    #[serde(skip)]
    pub skipped: Vec<SkippedChange>,
}

/// The envelope as it is on the wire, the changes kept as raw text.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", remote = "Self")]
struct Envelope {
    #[serde(default)]
    server_changes: RawArray,
    #[serde(default)]
    conflicts: Vec<Conflict>,
    synced_until: Cursor,
    #[serde(default)]
    has_more: bool,
}

object_only!(Envelope, "a sync response object");

impl<'de> Deserialize<'de> for SyncResponse {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let envelope = <Envelope as Deserialize>::deserialize(d)?;
        let (server_changes, skipped) = match &envelope.server_changes.0 {
            Some(array) => read_changes(array.get()).map_err(serde::de::Error::custom)?,
            None => (Vec::new(), Vec::new()),
        };
        Ok(SyncResponse {
            server_changes,
            conflicts: envelope.conflicts,
            synced_until: envelope.synced_until,
            has_more: envelope.has_more,
            skipped,
        })
    }
}

/// The text of a JSON array (anything else, `null` included, fails as
/// serde's sequences do); `None` when the member is absent.
#[derive(Default)]
struct RawArray(Option<Box<RawValue>>);

impl<'de> Deserialize<'de> for RawArray {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{Error, Unexpected};
        let raw = Box::<RawValue>::deserialize(d)?;
        if raw.get().starts_with('[') {
            return Ok(RawArray(Some(raw)));
        }
        let value: Value = serde_json::from_str(raw.get()).map_err(D::Error::custom)?;
        let unexpected = match &value {
            Value::Null => Unexpected::Unit,
            Value::Bool(b) => Unexpected::Bool(*b),
            Value::Number(n) => match (n.as_u64(), n.as_i64()) {
                (Some(u), _) => Unexpected::Unsigned(u),
                (None, Some(i)) => Unexpected::Signed(i),
                _ => Unexpected::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            Value::String(s) => Unexpected::Str(s),
            Value::Array(_) => Unexpected::Seq,
            Value::Object(_) => Unexpected::Map,
        };
        Err(D::Error::invalid_type(unexpected, &"a sequence"))
    }
}

/// The changes of a page from the text of its `serverChanges` array.
///
/// The usual page, every change well formed, is read in one pass straight
/// into [`Change`]s, each then held to the browser's guard as
/// [`decode_changes`] does (its fast path). A page where that fails in any
/// way is read again change by change, leniently: so the result is always
/// what the change-by-change reading gives.
fn read_changes(array: &str) -> Result<(Vec<Change>, Vec<SkippedChange>), serde_json::Error> {
    if let Ok(changes) = serde_json::from_str::<Vec<Change>>(array) {
        if changes.iter().all(passes_guard) {
            return Ok((changes, Vec::new()));
        }
    }
    let raw: Vec<Box<RawValue>> = serde_json::from_str(array)?;
    Ok(decode_changes(&raw))
}

//! [`SyncResponse`]: what push and pull answer.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::lenient::decode_changes;
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

/// The envelope as it is on the wire, each change kept as raw text.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", remote = "Self")]
struct Envelope {
    #[serde(default)]
    server_changes: Vec<Box<RawValue>>,
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
        let (server_changes, skipped) = decode_changes(&envelope.server_changes);
        Ok(SyncResponse {
            server_changes,
            conflicts: envelope.conflicts,
            synced_until: envelope.synced_until,
            has_more: envelope.has_more,
            skipped,
        })
    }
}

//! [`SyncResponse`]: what push and pull answer.

use serde::{Deserialize, Serialize};

use super::{Change, Conflict};
use crate::Cursor;

/// The response of a push or a pull.
///
/// ```
/// use mana_sync_core::SyncResponse;
///
/// let r: SyncResponse = serde_json::from_str(
///     r#"{"serverChanges":[],"conflicts":[],"syncedUntil":"2026-11-24T22:21:44.564112Z","hasMore":true}"#,
/// )?;
/// assert!(r.has_more);
/// assert_eq!(r.synced_until.as_str(), "2026-11-24T22:21:44.564112Z");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncResponse {
    /// Other clients' changes, oldest first.
    #[serde(default)]
    pub server_changes: Vec<Change>,
    /// Always empty today.
    #[serde(default)]
    pub conflicts: Vec<Conflict>,
    /// The cursor to send back as the next `since`, verbatim.
    pub synced_until: Cursor,
    /// Pull only: more changes wait after `synced_until`. Omitted when false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub has_more: bool,
}

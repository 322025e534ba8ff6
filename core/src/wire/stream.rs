//! [`StreamMessage`]: what one event of the change stream means.

use serde::{Deserialize, Serialize};

use super::Change;
use crate::sse::SseEvent;
use crate::{Cursor, Error};

/// One event of `GET /sync/{app}/stream`, typed.
///
/// ```
/// use mana_sync_core::sse::SseDecoder;
/// use mana_sync_core::StreamMessage;
///
/// let mut decoder = SseDecoder::new();
/// decoder.feed(b"event: changes\ndata: {\"table\":\"tasks\",\"changes\":[],\"syncedUntil\":\"2026-11-24T22:21:43.238373Z\"}\n\nevent: heartbeat\ndata: {}\n\n");
/// let Some(event) = decoder.next_event() else { unreachable!() };
/// let StreamMessage::Changes(batch) = StreamMessage::from_event(&event?)? else { unreachable!() };
/// assert_eq!((batch.table.as_str(), batch.has_more), ("tasks", false));
/// assert_eq!(batch.synced_until.as_str(), "2026-11-24T22:21:43.238373Z");
/// let Some(event) = decoder.next_event() else { unreachable!() };
/// assert_eq!(StreamMessage::from_event(&event?)?, StreamMessage::Heartbeat);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum StreamMessage {
    /// `event: changes`: a batch of changes to one collection.
    Changes(StreamBatch),
    /// `event: heartbeat`: the connection is alive (every 30 s).
    Heartbeat,
    /// An event type this client does not know; ignore it.
    Other {
        /// The event type.
        event: String,
    },
}

/// The data of a `changes` event.
///
/// Stream changes carry no `eventId`, `schemaVersion` or `spaceId`; a change
/// re-sent after a reconnect is byte-identical to its first delivery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamBatch {
    /// The collection the changes belong to (possibly one that was not asked
    /// for: the server sends a batch for every table another client's push
    /// touched).
    pub table: String,
    /// The changes, oldest first (a JSON `null` reads as none).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub changes: Vec<Change>,
    /// The collection's cursor after these changes, verbatim.
    pub synced_until: Cursor,
    /// More changes wait after `synced_until`: pull them. Omitted when false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub has_more: bool,
}

/// A Go server writes an empty slice as `null`.
fn null_as_empty<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Change>, D::Error> {
    Ok(Option::<Vec<Change>>::deserialize(d)?.unwrap_or_default())
}

impl StreamMessage {
    /// Reads one event: `changes` as a [`StreamBatch`] (its data must be the
    /// JSON of one, else [`Error::Decode`] for `stream event`), `heartbeat`
    /// as [`StreamMessage::Heartbeat`] (its data is not looked at), any other
    /// type as [`StreamMessage::Other`].
    pub fn from_event(event: &SseEvent) -> Result<StreamMessage, Error> {
        match event.event.as_str() {
            "changes" => crate::response::decode_json(event.data.as_bytes(), None, "stream event")
                .map(StreamMessage::Changes),
            "heartbeat" => Ok(StreamMessage::Heartbeat),
            other => Ok(StreamMessage::Other {
                event: other.to_owned(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::Op;

    fn event(event: &str, data: &str) -> SseEvent {
        SseEvent {
            event: event.to_owned(),
            data: data.to_owned(),
            id: None,
        }
    }

    #[test]
    fn changes_read_as_a_batch() {
        let data = r#"{"changes":[{"table":"tasks","id":"live-1","op":"insert","data":{"id":"live-1"}},
            {"table":"tasks","id":"live-1","op":"delete"}],"hasMore":true,
            "syncedUntil":"2026-11-24T22:22:12.93102Z","table":"tasks","newMember":[1]}"#;
        let StreamMessage::Changes(batch) =
            StreamMessage::from_event(&event("changes", data)).unwrap()
        else {
            panic!("not a batch")
        };
        assert_eq!(batch.table, "tasks");
        assert!(batch.has_more);
        assert_eq!(batch.synced_until.as_str(), "2026-11-24T22:22:12.93102Z");
        let ops: Vec<Op> = batch.changes.iter().map(|c| c.op.clone()).collect();
        assert_eq!(ops, [Op::Insert, Op::Delete]);
        assert!(batch.changes.iter().all(|c| c.event_id.is_none()));
    }

    #[test]
    fn has_more_defaults_to_false_and_null_changes_to_none() {
        let data = r#"{"table":"t","changes":null,"syncedUntil":"2026-11-24T22:22:12Z"}"#;
        let m = StreamMessage::from_event(&event("changes", data)).unwrap();
        let StreamMessage::Changes(batch) = m else {
            panic!("{m:?}")
        };
        assert!(!batch.has_more);
        assert!(batch.changes.is_empty());
        let json = serde_json::to_string(&batch).unwrap();
        assert_eq!(
            json,
            r#"{"table":"t","changes":[],"syncedUntil":"2026-11-24T22:22:12Z"}"#
        );
    }

    #[test]
    fn heartbeats_and_unknown_events() {
        assert_eq!(
            StreamMessage::from_event(&event("heartbeat", "{}")).unwrap(),
            StreamMessage::Heartbeat
        );
        assert_eq!(
            StreamMessage::from_event(&event("heartbeat", "not json")).unwrap(),
            StreamMessage::Heartbeat
        );
        assert_eq!(
            StreamMessage::from_event(&event("message", "{}")).unwrap(),
            StreamMessage::Other {
                event: "message".into()
            }
        );
    }

    #[test]
    fn bad_batches_are_decode_errors_that_say_where() {
        let cases = [
            ("", "."),
            ("{\"table\":\"t\",\"changes\":[]", "?"),
            (
                r#"{"table":"t","changes":[],"syncedUntil":"yesterday"}"#,
                "syncedUntil",
            ),
            (
                r#"{"table":"t","changes":[{"table":"t","id":"1","op":5}],"syncedUntil":"2026-11-24T22:22:12Z"}"#,
                "changes[0].op",
            ),
            (
                r#"{"changes":[],"syncedUntil":"2026-11-24T22:22:12Z"}"#,
                ".",
            ),
            (
                r#"{"table":"t","changes":[],"syncedUntil":"2026-11-24T22:22:12Z"} x"#,
                ".",
            ),
        ];
        for (data, want_path) in cases {
            match StreamMessage::from_event(&event("changes", data)) {
                Err(Error::Decode {
                    what, path, body, ..
                }) => {
                    assert_eq!(what, "stream event", "{data}");
                    assert_eq!(path, want_path, "{data}");
                    assert_eq!(body, data.trim(), "{data}");
                }
                other => panic!("{data}: {other:?}"),
            }
        }
        let long = format!("{{\"table\":\"{}\"", "x".repeat(2000));
        match StreamMessage::from_event(&event("changes", &long)) {
            Err(Error::Decode { body, .. }) => assert_eq!(body.chars().count(), 500),
            other => panic!("{other:?}"),
        }
    }
}

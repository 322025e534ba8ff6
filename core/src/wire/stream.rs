//! [`StreamMessage`]: what one event of the change stream means.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::lenient::decode_changes;
use super::{Change, SkippedChange};
use crate::sse::SseEvent;
use crate::{Cursor, Error};

/// One event of `GET /sync/{app}/stream`, typed.
///
/// ```
/// # use mana_sync_core::surface as mana_sync_ureq;
/// use mana_sync_ureq::sse::SseDecoder;
/// use mana_sync_ureq::StreamMessage;
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
/// re-sent after a reconnect is byte-identical to its first delivery. As in
/// a pull page, a malformed change is dropped and reported in
/// [`StreamBatch::skipped`], never failing the batch.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamBatch {
    /// The collection the changes belong to (possibly one that was not asked
    /// for: the server sends a batch for every table another client's push
    /// touched).
    pub table: String,
    /// The well-formed changes, oldest first (a JSON `null` reads as none).
    pub changes: Vec<Change>,
    /// The collection's cursor after these changes, verbatim.
    pub synced_until: Cursor,
    /// More changes wait after `synced_until`: pull them. Omitted when false.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub has_more: bool,
    /// The changes that were dropped as malformed (never written back).
    #[serde(skip)]
    pub skipped: Vec<SkippedChange>,
}

/// A batch as it is on the wire, each change kept as raw text.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawBatch {
    table: String,
    /// A Go server writes an empty slice as `null`.
    #[serde(default)]
    changes: Option<Vec<Box<RawValue>>>,
    synced_until: Cursor,
    #[serde(default)]
    has_more: bool,
}

impl<'de> Deserialize<'de> for StreamBatch {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = crate::wire::map_only::<RawBatch, _>(d, "a stream batch object")?;
        let (changes, skipped) = decode_changes(raw.changes.as_deref().unwrap_or_default());
        Ok(StreamBatch {
            table: raw.table,
            changes,
            synced_until: raw.synced_until,
            has_more: raw.has_more,
            skipped,
        })
    }
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
    fn a_malformed_change_is_skipped_not_fatal() {
        let data = r#"{"changes":[{"table":"tasks","id":"a","op":5},
            {"table":"tasks","id":"b","op":"update","fields":{"title":["hacked","2030-01-01T00:00:00Z"]}},
            {"table":"tasks","id":"c","op":"delete"}],
            "syncedUntil":"2026-11-24T22:22:12.93102Z","table":"tasks"}"#;
        let StreamMessage::Changes(batch) =
            StreamMessage::from_event(&event("changes", data)).unwrap()
        else {
            panic!("not a batch")
        };
        assert_eq!(batch.changes.len(), 1);
        assert_eq!(batch.changes[0].id, "c");
        assert_eq!(
            batch.skipped.iter().map(|s| s.index).collect::<Vec<_>>(),
            [0, 1]
        );
        // The array form of a whole batch is refused.
        let array = r#"["tasks",[],"2026-11-24T22:22:12.93102Z",false]"#;
        assert!(StreamMessage::from_event(&event("changes", array)).is_err());
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
                r#"{"table":"t","changes":{},"syncedUntil":"2026-11-24T22:22:12Z"}"#,
                "changes",
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

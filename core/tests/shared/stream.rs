//! Checking a captured stream (`"operation": "stream"`) against its
//! `expect.events`, through the core's SSE decoder and stream messages.

use mana_sync_core::sse::SseDecoder;
use mana_sync_core::StreamMessage;
use serde_json::{json, Value};

/// What the core makes of `chunks` fed in order: one summary per event, in
/// the capture's `expect.events` form.
fn summaries(chunks: &[&[u8]]) -> Result<Vec<Value>, String> {
    let mut decoder = SseDecoder::new();
    let mut out = Vec::new();
    let mut read = |event: Option<Result<_, _>>| -> Result<bool, String> {
        let Some(event) = event else { return Ok(false) };
        let event = event.map_err(|e| format!("SSE: {e}"))?;
        let message = StreamMessage::from_event(&event).map_err(|e| e.to_string())?;
        out.push(match message {
            StreamMessage::Changes(batch) => json!({
                "event": "changes",
                "table": batch.table,
                "changes": batch.changes.len(),
                "hasMore": batch.has_more,
                "syncedUntil": batch.synced_until.as_str(),
            }),
            StreamMessage::Heartbeat => json!({ "event": "heartbeat" }),
            StreamMessage::Other { event } => json!({ "event": event }),
        });
        Ok(true)
    };
    for chunk in chunks {
        decoder.feed(chunk);
        while read(decoder.next_event())? {}
    }
    while read(decoder.finish())? {}
    Ok(out)
}

/// `Ok` when `got` is exactly `want`, else both, for the failure report.
fn same(got: &[Value], want: &[Value]) -> Result<(), String> {
    if got == want {
        return Ok(());
    }
    Err(format!(
        "decoded {} events, want {}:\n got  {}\n want {}",
        got.len(),
        want.len(),
        Value::from(got.to_vec()),
        Value::from(want.to_vec())
    ))
}

/// Checks one stream capture: its body fed whole, in two chunks split at
/// every byte, and in one-byte chunks, must decode to exactly
/// `expect.events`. Returns how many events it holds.
pub fn check(fixture: &Value) -> Result<usize, String> {
    let response = &fixture["response"];
    if response["status"] != 200 {
        return Err(format!(
            "a stream capture with status {}",
            response["status"]
        ));
    }
    let body = response["body"]
        .as_str()
        .ok_or("the capture has no response body")?
        .as_bytes();
    let want = fixture["expect"]["events"]
        .as_array()
        .ok_or("the capture has no expect.events")?;
    if want.is_empty() {
        return Err("expect.events is empty: nothing would be checked".into());
    }
    same(&summaries(&[body])?, want).map_err(|e| format!("fed whole: {e}"))?;
    for cut in 0..=body.len() {
        let (a, b) = body.split_at(cut);
        same(&summaries(&[a, b])?, want).map_err(|e| format!("split at byte {cut}: {e}"))?;
    }
    let bytes: Vec<&[u8]> = body.chunks(1).collect();
    same(&summaries(&bytes)?, want).map_err(|e| format!("in one-byte chunks: {e}"))?;
    Ok(want.len())
}

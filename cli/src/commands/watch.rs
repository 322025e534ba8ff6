//! `watch`: the live stream of some collections, as JSON lines.

use mana_sync_core::ops::StreamEvent;
use mana_sync_core::{Config, Cursor};
use serde_json::{json, Value};

use crate::args::{Global, WatchArgs};
use crate::connect::{client, config, progress};
use crate::failure::Failure;
use crate::output;

/// Runs `watch`: one JSON line per event on stdout, until interrupted (or
/// `--max-events` change events). A permanent failure (a refused token, a
/// lapsed subscription) ends it with that failure's exit code; cuts are
/// reconnected, reported as `reconnecting` events.
pub fn run(global: &Global, args: &WatchArgs) -> Result<(), Failure> {
    let since = super::since(args.since.as_deref())?.unwrap_or(Cursor::EPOCH);
    let collections = super::collections(&args.collections)?;
    let mut config = config(global, false)?;
    if args.include_own {
        // The stream leaves out the changes of the client id it is opened
        // with: opened with the reader id, which never writes, it leaves
        // out none.
        config = Config::new(
            &global.url,
            config.token().expose(),
            &config.reader_client_id(),
        )
        .map_err(|e| Failure::usage(format!("{e} (--url, --client-id)")))?;
    }
    let fail = |e: mana_sync_core::Error| Failure::from_error(&e, &global.url);
    // No progress bar: the stream never ends by itself.
    let bar = progress(None, "watching");
    bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    let client = client(global, config, &bar)?;
    let mut changes_seen = 0u64;
    let mut events = client
        .stream(&args.app, &collections, &since)
        .map_err(fail)?;
    events
        .operation_mut()
        .set_max_reconnects(args.max_reconnects);
    for event in events {
        let event = event.map_err(fail)?;
        // A batch that only moves a cursor says nothing to a reader of
        // changes.
        if matches!(&event, StreamEvent::Changes(b) if b.changes.is_empty() && b.skipped.is_empty())
        {
            continue;
        }
        output::json(&line(&event))?;
        if matches!(event, StreamEvent::Changes(_)) {
            changes_seen = changes_seen.saturating_add(1);
            if args.max_events.is_some_and(|max| changes_seen >= max) {
                break;
            }
        }
    }
    Ok(())
}

/// One event as a JSON line.
fn line(event: &StreamEvent) -> Value {
    match event {
        StreamEvent::Changes(batch) => {
            let mut line = json!({
                "event": "changes",
                "collection": batch.collection,
                "changes": batch.changes,
                "cursor": batch.cursor.as_str(),
            });
            if !batch.skipped.is_empty() {
                line["skipped"] = batch
                    .skipped
                    .iter()
                    .map(|s| Value::String(s.to_string()))
                    .collect();
            }
            line
        }
        StreamEvent::Heartbeat => json!({"event": "heartbeat"}),
        StreamEvent::Reconnecting { wait, reason } => json!({
            "event": "reconnecting",
            "waitMs": u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
            "reason": reason,
        }),
        StreamEvent::Stalled { reconnects, reason } => json!({
            "event": "stalled",
            "reconnects": reconnects,
            "reason": reason,
        }),
        _ => json!({"event": "other"}),
    }
}

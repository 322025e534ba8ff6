//! `ops::Stream` driven by hand, with no server: what it does with hostile
//! or failing connections, step by step.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use bytes::Bytes;
use mana_sync_core::ops::{Stream, StreamEvent, StreamStep};
use mana_sync_core::retry::JitterRng;
use mana_sync_core::{Config, Cursor, Error, RetryPolicy, Timestamp};
use serde_json::json;

fn now() -> Timestamp {
    Timestamp::parse("2026-01-01T00:00:00Z").unwrap()
}

fn stream() -> Stream {
    let config = Config::new("http://mana.test", "token", "reader").unwrap();
    Stream::new(&config, "todo", &["tasks"], &Cursor::EPOCH)
        .unwrap()
        .retry(RetryPolicy::default(), JitterRng::seeded(1))
}

fn empty_page() -> http::Response<Vec<u8>> {
    let body = json!({"serverChanges": [], "conflicts": [], "syncedUntil": "2026-01-01T00:00:00Z"});
    http::Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(body.to_string().into_bytes())
        .unwrap()
}

fn event_stream_head() -> http::Response<()> {
    http::Response::builder()
        .status(200)
        .header("content-type", "text/event-stream")
        .body(())
        .unwrap()
}

/// What the stream wants, answering its pulls with an empty page, its
/// opens with an event stream whose body is `body`, and its waits by
/// noting them; returns the waits until it ends, and how it ended.
fn run(mut op: Stream, body: &'static [u8], limit: usize) -> (Vec<Duration>, Option<Error>) {
    let mut waits = Vec::new();
    let mut fed = false;
    for _ in 0..limit {
        match op.step(now()) {
            StreamStep::Send(_) => op.on_response(now(), Ok(empty_page())),
            StreamStep::Open(_) => {
                fed = false;
                op.on_open(now(), Ok(event_stream_head()));
            }
            StreamStep::Read => {
                let chunk = if fed {
                    None
                } else {
                    Some(Bytes::from_static(body))
                };
                fed = true;
                op.on_chunk(now(), Ok(chunk));
            }
            StreamStep::Wait(d) => waits.push(d),
            StreamStep::Event(StreamEvent::Reconnecting { .. } | StreamEvent::Stalled { .. }) => {}
            StreamStep::Event(_) => {}
            StreamStep::Done(e) => return (waits, Some(e)),
        }
    }
    (waits, None)
}

/// Issue 20, cause 3: each connection brings one event that does not
/// decode. That is a failed connection: the backoff grows and the limit of
/// failed connections ends the stream (the failure count used to be reset
/// before the event was known to be good: a reconnect storm at the
/// shortest wait, for ever).
#[test]
fn undecodable_events_count_as_failed_connections() {
    let garbage: &[u8] = b"event: changes\ndata: {\"table\": 7}\n\n";
    let (waits, end) = run(stream().max_reconnects(6), garbage, 10_000);
    assert!(
        matches!(end, Some(Error::Decode { .. } | Error::Protocol { .. })),
        "{end:?}"
    );
    assert_eq!(waits.len(), 6, "{waits:?}");
}

/// A connection whose events decode resets the count: a stream cut after
/// each good event keeps going at the shortest backoff.
#[test]
fn good_events_reset_the_failure_count() {
    let heartbeat: &[u8] = b"event: heartbeat\ndata: {}\n\n";
    let (waits, end) = run(stream().max_reconnects(2), heartbeat, 2_000);
    assert!(end.is_none(), "{end:?}");
    assert!(waits.len() > 50);
    assert!(
        waits.iter().all(|w| *w <= Duration::from_millis(500)),
        "{waits:?}"
    );
}

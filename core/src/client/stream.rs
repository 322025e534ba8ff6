//! The stream on both facades: building it from a client's settings, and
//! what both drivers do with each [`StreamStep`] apart from the IO itself.

use crate::fold::Replica;
use crate::ops::{Stream, StreamEvent};
use crate::{Cursor, Error, Timestamp};

use super::Settings;

/// The stream of `collections` from `since`, with the client's retry
/// policy, jitter and token source.
pub(crate) fn stream(
    settings: &Settings,
    app_id: &str,
    collections: &[&str],
    since: &Cursor,
) -> Result<Stream, Error> {
    Ok(configured(
        settings,
        Stream::new(&settings.config, app_id, collections, since)?,
    ))
}

/// The stream of `collections`, each from the cursor `replica` keeps for it.
pub(crate) fn stream_from(
    settings: &Settings,
    app_id: &str,
    collections: &[&str],
    replica: &Replica,
) -> Result<Stream, Error> {
    let cursors = collections
        .iter()
        .map(|c| {
            let cursor = replica.cursor(c).cloned().unwrap_or(Cursor::EPOCH);
            ((*c).to_owned(), cursor)
        })
        .collect();
    Ok(configured(
        settings,
        Stream::from_cursors(&settings.config, app_id, cursors)?,
    ))
}

/// `stream` with the client's retry policy, jitter and token source.
fn configured(settings: &Settings, stream: Stream) -> Stream {
    stream
        .retry(settings.retry, settings.jitter())
        .auth(settings.auth.clone())
}

/// Applies a batch to `replica` and moves its cursor (what `watch_into`
/// does with each event before handing it on).
pub(crate) fn apply(replica: &mut Replica, event: &StreamEvent, now: Timestamp) {
    if let StreamEvent::Changes(batch) = event {
        replica.apply_all(&batch.changes, now);
        replica.set_cursor(&batch.collection, batch.cursor.clone());
    }
}

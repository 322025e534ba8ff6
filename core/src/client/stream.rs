//! The stream on both facades: building it from a client's settings, and
//! what both drivers do with each [`StreamEvent`] apart from the IO itself.

use crate::fold::Replica;
use crate::ops::{Stream, StreamEvent};
use crate::{Cursor, Error};

use super::Settings;

/// The stream of `collections` from `since`, with the client's retry
/// policy, jitter, token source and own-changes setting.
pub(crate) fn stream(
    settings: &Settings,
    app_id: &str,
    collections: &[&str],
    since: &Cursor,
) -> Result<Stream, Error> {
    let stream = configured(
        settings,
        Stream::new(&settings.config, app_id, collections, since)?,
    );
    Ok(if settings.include_own {
        stream.including_own_changes()
    } else {
        stream
    })
}

/// The stream of `collections` into `replica`, from its read point
/// ([`Stream::for_replica`]).
pub(crate) fn stream_from(
    settings: &Settings,
    app_id: &str,
    collections: &[&str],
    replica: &Replica,
) -> Result<Stream, Error> {
    Ok(configured(
        settings,
        Stream::for_replica(&settings.config, app_id, collections, replica)?,
    ))
}

/// `stream` with the client's retry policy, jitter and token source.
fn configured(settings: &Settings, stream: Stream) -> Stream {
    stream
        .retry(settings.retry, settings.jitter())
        .auth(settings.auth.clone())
        .recheck_every(settings.recheck_every)
}

/// Folds a batch into `replica` (what `watch_into` does with each event
/// before handing it on).
pub(crate) fn apply(replica: &mut Replica, event: &StreamEvent) {
    if let StreamEvent::Changes(batch) = event {
        batch.apply_to(replica);
    }
}

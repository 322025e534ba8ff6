//! [`Pull`]: one page of `GET {base}/sync/{appId}/pull`.

use http::Method;

use super::exchange::Exchange;
use crate::endpoint::{authed, check_segment, uri};
use crate::response::decode;
use crate::{Config, Cursor, Error, Operation, Step, SyncResponse, Timestamp, TransportError};

/// Pulls one page (at most 1000 changes) of a collection, strictly after
/// `since`. The caller's own changes are left out by the server.
///
/// To read a whole collection, use [`super::PullAll`], which follows
/// `hasMore`.
pub struct Pull(Exchange<SyncResponse>);

impl Pull {
    /// One page of `collection` of app `app_id` after `since`.
    pub fn new(
        config: &Config,
        app_id: &str,
        collection: &str,
        since: &Cursor,
    ) -> Result<Pull, Error> {
        Ok(Pull(Exchange::new(
            pull_request(config, app_id, collection, since)?,
            |r| decode(r, "pull response"),
        )))
    }
}

pub(crate) fn pull_request(
    config: &Config,
    app_id: &str,
    collection: &str,
    since: &Cursor,
) -> Result<http::Request<Vec<u8>>, Error> {
    check_segment("app id", app_id)?;
    if collection.is_empty() {
        return Err(Error::InvalidRequest {
            reason: "the collection is empty".into(),
        });
    }
    let uri = uri(
        config.sync_url(),
        &["sync", app_id, "pull"],
        &[("collection", collection), ("since", since.as_str())],
    )?;
    authed(config, Method::GET, uri, None)
}

impl Operation for Pull {
    type Output = SyncResponse;

    fn step(&mut self, _now: Timestamp) -> Step<SyncResponse> {
        self.0.step()
    }

    fn on_response(
        &mut self,
        _now: Timestamp,
        response: Result<http::Response<Vec<u8>>, TransportError>,
    ) {
        self.0.on_response(response)
    }
}

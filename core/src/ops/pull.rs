//! [`Pull`]: one page of `GET {base}/sync/{appId}/pull`.

use http::Method;

use super::exchange::Exchange;
use crate::endpoint::{authed, check_segment, uri};
use crate::response::decode_page;
use crate::{Config, Cursor, Error, Operation, Step, SyncResponse, Timestamp, TransportError};

/// Pulls one page (at most 1000 changes) of a collection, strictly after
/// `since`. **The caller's own changes are left out by the server** (those
/// pushed with the same `X-Client-Id`): to read them too, use
/// [`Pull::including_own_changes`].
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
            |r| decode_page(r, "pull response"),
        )))
    }

    /// One page of `collection`, this client's own changes (and rows pushed
    /// without a client id) included: it reads with
    /// [`Config::reader_client_id`], an id derived from this client's that
    /// never writes.
    ///
    /// ```
    /// # use mana_sync_core::surface as mana_sync_ureq;
    /// use mana_sync_ureq::ops::Pull;
    /// use mana_sync_ureq::{Config, Cursor, Operation, Step, Timestamp};
    ///
    /// let config = Config::new("http://localhost:3050", "token", "my-app")?;
    /// let mut pull = Pull::including_own_changes(&config, "todo", "tasks", &Cursor::EPOCH)?;
    /// let Step::Send(request) = pull.step(Timestamp::UNIX_EPOCH) else { unreachable!() };
    /// assert_eq!(request.headers()["x-client-id"], "my-app#reader");
    /// # Ok::<(), mana_sync_ureq::Error>(())
    /// ```
    pub fn including_own_changes(
        config: &Config,
        app_id: &str,
        collection: &str,
        since: &Cursor,
    ) -> Result<Pull, Error> {
        let mut request = pull_request(config, app_id, collection, since)?;
        reader_header(config, &mut request)?;
        Ok(Pull(Exchange::new(request, |r| {
            decode_page(r, "pull response")
        })))
    }
}

/// Replaces the request's `X-Client-Id` with the reader's id (see
/// [`Config::reader_client_id`]).
pub(crate) fn reader_header(
    config: &Config,
    request: &mut http::Request<Vec<u8>>,
) -> Result<(), Error> {
    let value = http::HeaderValue::from_str(&config.reader_client_id()).map_err(|_| {
        Error::InvalidConfig {
            reason: "the reader client id is not a header value".into(),
        }
    })?;
    request.headers_mut().insert("x-client-id", value);
    Ok(())
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

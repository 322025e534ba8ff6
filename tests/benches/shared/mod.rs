//! A loopback server holding a collection of N changes, and the same pull
//! made through a bare HTTP request loop.

#![allow(dead_code)] // each bench uses part of it

use mana_sync_testkit::{token_for, LoopbackServer, MemoryServer};
use serde_json::json;

/// The user, app, collection and client ids of the benches.
pub const USER: &str = "u-1";
pub const APP: &str = "todo";
pub const COLLECTION: &str = "tasks_bulk";
pub const CLIENT: &str = "bench-reader";

/// The bearer token the loopback server accepts for [`USER`].
pub fn token() -> String {
    token_for(USER)
}

/// A loopback server holding `n` changes of [`COLLECTION`] pushed by another
/// client: inserts of small rows, as in the captured pages, with every 4th
/// an update of two fields.
pub fn server_with(n: usize) -> LoopbackServer {
    let memory = MemoryServer::new();
    let batch = 10_000;
    let mut i = 0;
    while i < n {
        let end = (i + batch).min(n);
        let changes: Vec<_> = (i..end)
            .map(|k| {
                if k % 4 == 3 {
                    json!({"table": COLLECTION, "id": format!("r-{:07}", k - 1), "op": "update",
                        "fields": {"title": {"value": format!("row {k} edited"), "at": "2026-11-24T10:00:00.000Z"},
                                   "done": {"value": true, "at": "2026-11-24T10:00:00.000Z"}}})
                } else {
                    json!({"table": COLLECTION, "id": format!("r-{k:07}"), "op": "insert",
                        "data": {"n": k, "title": format!("row {k}"), "done": false}})
                }
            })
            .collect();
        memory.seed(USER, APP, "bench-writer", &changes);
        i = end;
    }
    LoopbackServer::start(memory).unwrap_or_else(|e| panic!("loopback server: {e}"))
}

/// The cursor and `hasMore` of a page, found by searching its bytes (the
/// server writes them after `serverChanges`), without decoding the page.
fn tail(body: &[u8]) -> Option<(&str, bool)> {
    let key = b"\"syncedUntil\":\"";
    let at = body.windows(key.len()).rposition(|w| w == key)? + key.len();
    let end = at + body.get(at..)?.iter().position(|b| *b == b'"')?;
    let cursor = std::str::from_utf8(body.get(at..end)?).ok()?;
    let more = body
        .get(end..)?
        .windows(14)
        .any(|w| w == b"\"hasMore\":true");
    Some((cursor, more))
}

/// What a query component is encoded as by the library (RFC 3986
/// unreserved characters kept).
const COMPONENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The agent of the bare loop: configured as `mana_sync_ureq`'s transport
/// configures its own (every status back, no redirects, the default
/// connect and total timeouts, rustls with the webpki roots), so that both
/// send and read the same way.
pub fn bare_agent() -> ureq::Agent {
    use ureq::tls::{RootCerts, TlsConfig, TlsProvider};
    let options = mana_sync_core::TransportOptions::default();
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_connect(Some(options.connect_timeout))
        .timeout_global(Some(options.total_timeout))
        .tls_config(
            TlsConfig::builder()
                .provider(TlsProvider::Rustls)
                .root_certs(RootCerts::WebPki)
                .build(),
        )
        .build()
        .new_agent()
}

/// The headers the library sends with a pull of [`COLLECTION`] as
/// [`CLIENT`] (authorization, client id, accept, user agent), taken from
/// the request the core builds, so that the bare loop sends the same bytes.
pub fn library_headers(base_url: &str) -> http::HeaderMap {
    use mana_sync_core::{ops::PullAll, Config, Cursor, Operation, Step, Timestamp};
    let config = Config::new(base_url, token(), CLIENT).unwrap_or_else(|e| panic!("{e}"));
    let mut op =
        PullAll::new(&config, APP, COLLECTION, &Cursor::EPOCH).unwrap_or_else(|e| panic!("{e}"));
    match op.step(Timestamp::UNIX_EPOCH) {
        Step::Send(request) => request.headers().clone(),
        _ => panic!("the pull sent no request"),
    }
}

/// What a pull fetched: per request its URI and body length.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// Requests and the bytes of their bodies.
    pub pages: usize,
    pub total: usize,
    /// Per request (when kept): its URI and body length.
    pub uris: Vec<String>,
    pub bodies: Vec<usize>,
}

/// The pull of the whole collection through plain ureq requests: the same
/// requests as the library's (same agent settings, same headers, same
/// URIs) and so the same bytes, read and not decoded. It follows the same
/// `since` sequence: after a page with `hasMore`, the library asks again
/// from one microsecond before the page's `syncedUntil` (found here by a
/// byte search; the arithmetic on it uses the core's `Cursor`), so every
/// page but the first starts with the previous page's last change again.
/// With `record`, the URIs and body sizes are kept (to check that the
/// library fetched the same). Stops after `max_pages` pages.
pub fn bare_pull_all(
    agent: &ureq::Agent,
    base_url: &str,
    headers: &http::HeaderMap,
    decode: bool,
    mut record: Option<&mut Fetched>,
    max_pages: usize,
) -> (usize, usize) {
    use mana_sync_core::Cursor;
    let mut since = Cursor::EPOCH;
    let (mut pages, mut bytes) = (0, 0);
    loop {
        let uri = format!(
            "{base_url}/sync/{APP}/pull?collection={}&since={}",
            percent_encoding::utf8_percent_encode(COLLECTION, COMPONENT),
            percent_encoding::utf8_percent_encode(since.as_str(), COMPONENT)
        );
        let mut request = http::Request::get(&uri)
            .body(Vec::new())
            .unwrap_or_else(|e| panic!("{e}"));
        *request.headers_mut() = headers.clone();
        let response = agent.run(request).unwrap_or_else(|e| panic!("{e}"));
        let (parts, mut body) = response.into_parts();
        // Read as the library's transport reads it: into a buffer sized
        // from Content-Length, up to the same cap.
        let declared = parts
            .headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<usize>().ok());
        let mut body_bytes = Vec::with_capacity(declared.unwrap_or(0));
        std::io::Read::read_to_end(
            &mut body
                .with_config()
                .limit(mana_sync_core::TransportOptions::default().max_response_bytes)
                .reader(),
            &mut body_bytes,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let body = body_bytes;
        if decode {
            std::hint::black_box(serde_json::from_slice::<serde_json::Value>(&body).ok());
        }
        pages += 1;
        bytes += body.len();
        if let Some(r) = record.as_deref_mut() {
            r.pages += 1;
            r.total += body.len();
            r.uris.push(uri);
            r.bodies.push(body.len());
        }
        let Some((cursor, more)) = tail(&body) else {
            panic!("no syncedUntil in the page")
        };
        if !more || pages >= max_pages {
            return (pages, bytes);
        }
        let at = Cursor::parse(cursor)
            .unwrap_or_else(|e| panic!("{e}"))
            .timestamp();
        since = at
            .checked_sub(std::time::Duration::from_micros(1))
            .map_or(Cursor::EPOCH, Cursor::from);
    }
}

/// A transport that hands every request to `inner` and records its URI
/// and the length of the body that came back (to check what the library
/// fetched, and to count the bytes the server sent).
pub struct Recording<T> {
    pub inner: T,
    pub fetched: std::sync::Mutex<Fetched>,
    /// Keeps each URI and body length; else only counts (no allocation
    /// per request).
    pub keep_uris: bool,
}

impl<T> Recording<T> {
    pub fn new(inner: T, keep_uris: bool) -> Recording<T> {
        Recording {
            inner,
            fetched: std::sync::Mutex::new(Fetched::default()),
            keep_uris,
        }
    }

    pub fn take(&self) -> Fetched {
        std::mem::take(&mut *self.fetched.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl<T: mana_sync_core::BlockingTransport> mana_sync_core::BlockingTransport for Recording<T> {
    type Body = T::Body;

    fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, mana_sync_core::TransportError> {
        let uri = self.keep_uris.then(|| request.uri().to_string());
        let response = self.inner.send(request)?;
        let mut f = self.fetched.lock().unwrap_or_else(|e| e.into_inner());
        f.pages += 1;
        f.total += response.body().len();
        if let Some(uri) = uri {
            f.uris.push(uri);
            f.bodies.push(response.body().len());
        }
        Ok(response)
    }

    fn open(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Self::Body>, mana_sync_core::TransportError> {
        self.inner.open(request)
    }

    fn sleep(&self, duration: std::time::Duration) {
        self.inner.sleep(duration)
    }
}

//! [`HyperTransport`]: executes requests with a pooled hyper-util client.

use std::error::Error as StdError;
use std::io;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use mana_sync_core::{AsyncTransport, Error, TimeoutKind, TransportError, TransportOptions};

type Pool = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// Sends requests through one pooled hyper client. Cloning is cheap and
/// shares the pool.
#[derive(Clone)]
pub struct HyperTransport {
    client: Pool,
    options: TransportOptions,
}

impl HyperTransport {
    /// A transport with these timeouts and cap.
    pub fn new(options: TransportOptions) -> Result<HyperTransport, Error> {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(options.connect_timeout));
        let https = HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())
            .map_err(|e| Error::InvalidConfig {
                reason: format!("TLS setup failed: {e}"),
            })?
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new()).build(https);
        Ok(HyperTransport { client, options })
    }

    /// The options it enforces.
    pub fn options(&self) -> &TransportOptions {
        &self.options
    }
}

impl std::fmt::Debug for HyperTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HyperTransport")
            .field("options", &self.options)
            .finish()
    }
}

/// Whether any cause in the chain is an IO time-out.
fn timed_out(error: &(dyn StdError + 'static)) -> bool {
    let mut cause: Option<&(dyn StdError + 'static)> = Some(error);
    while let Some(c) = cause {
        if c.downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::TimedOut)
        {
            return true;
        }
        cause = c.source();
    }
    false
}

impl HyperTransport {
    async fn exchange(
        &self,
        request: Request<Vec<u8>>,
    ) -> Result<Response<Vec<u8>>, TransportError> {
        let options = self.options;
        let (parts, body) = request.into_parts();
        let request = Request::from_parts(parts, Full::new(Bytes::from(body)));
        let response = self.client.request(request).await.map_err(|e| {
            if e.is_connect() && timed_out(&e) {
                TransportError::Timeout {
                    kind: TimeoutKind::Connect,
                    limit: options.connect_timeout,
                }
            } else {
                TransportError::other(e)
            }
        })?;
        let cap = options.max_response_bytes;
        let too_large = TransportError::TooLarge { limit: cap };
        let (parts, body) = response.into_parts();
        let declared = parts
            .headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|len| len > cap) {
            return Err(too_large);
        }
        let limit = usize::try_from(cap).unwrap_or(usize::MAX);
        let collected = Limited::new(body, limit).collect().await.map_err(|e| {
            if e.downcast_ref::<LengthLimitError>().is_some() {
                TransportError::TooLarge { limit: cap }
            } else {
                TransportError::message(format!("reading the response body failed: {e}"))
            }
        })?;
        Ok(Response::from_parts(parts, collected.to_bytes().to_vec()))
    }
}

impl AsyncTransport for HyperTransport {
    async fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError> {
        let total = self.options.total_timeout;
        match tokio::time::timeout(total, self.exchange(request)).await {
            Ok(result) => result,
            Err(_) => Err(TransportError::Timeout {
                kind: TimeoutKind::Total,
                limit: total,
            }),
        }
    }

    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}

//! [`HyperTransport`]: executes requests with a pooled hyper-util client.

use std::error::Error as StdError;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, Uri};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use mana_sync_core::{AsyncTransport, Error, TimeoutKind, TransportError, TransportOptions};

type BoxError = Box<dyn StdError + Send + Sync>;

/// The pooled client: TCP (hyper-util), then TLS (hyper-rustls) when the URL
/// is `https`, the whole of it bounded by the connect timeout.
type Pool = Client<ConnectTimeout<HttpsConnector<HttpConnector>>, Full<Bytes>>;

/// Sends requests through one pooled hyper client (HTTP/1.1, and HTTP/2 when
/// a TLS server offers it through ALPN). Cloning is cheap and shares the
/// pool, so connections are reused across clones.
///
/// The futures need a tokio runtime with the IO and time drivers enabled
/// (what `#[tokio::main]` and `#[tokio::test]` give); building a transport
/// does not.
///
/// It enforces [`TransportOptions`]:
///
/// * `connect_timeout` bounds opening a connection: name resolution, TCP and
///   the TLS handshake, as [`TransportError::Timeout`] with
///   [`TimeoutKind::Connect`];
/// * `total_timeout` bounds the whole exchange, from sending the request to
///   the last byte of the body ([`TimeoutKind::Total`]);
/// * `max_response_bytes` caps the body while it is read: a larger one fails
///   with [`TransportError::TooLarge`] as soon as the cap is crossed (or at
///   once when its `Content-Length` says so), and the rest is never read.
///
/// Every response comes back, whatever its status; redirects are not
/// followed.
#[derive(Clone)]
pub struct HyperTransport {
    client: Pool,
    options: TransportOptions,
}

impl HyperTransport {
    /// A transport with these timeouts and cap: rustls with the ring
    /// provider and the webpki roots, `https` and plain `http` URLs.
    ///
    /// Fails only if rustls refuses the TLS configuration
    /// ([`Error::InvalidConfig`]).
    pub fn new(options: TransportOptions) -> Result<HyperTransport, Error> {
        let tls = HttpsConnectorBuilder::new()
            // An explicit provider, so that an application enabling another
            // rustls provider does not make the process default ambiguous.
            .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())
            .map_err(|e| Error::InvalidConfig {
                reason: format!("TLS setup failed: {e}"),
            })?;
        Ok(HyperTransport::over(tls, options))
    }

    /// The pooled client over TCP (hyper-util) and this TLS layer, the whole
    /// of opening a connection bounded by the connect timeout.
    fn over(
        tls: HttpsConnectorBuilder<hyper_rustls::builderstates::WantsSchemes>,
        options: TransportOptions,
    ) -> HyperTransport {
        let mut http = HttpConnector::new();
        // The URL may be https: the TLS layer above handles the scheme.
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(options.connect_timeout));
        let https = tls
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .wrap_connector(http);
        let connector = ConnectTimeout {
            inner: https,
            limit: options.connect_timeout,
        };
        let client = Client::builder(TokioExecutor::new())
            // Idle pooled connections are closed after the pool's idle
            // timeout (90 s) only if the pool has a timer.
            .pool_timer(TokioTimer::new())
            .timer(TokioTimer::new())
            .build(connector);
        HyperTransport { client, options }
    }

    /// A transport that trusts these root certificates (DER) **instead of**
    /// the webpki roots: for a server behind a private CA, or a self-signed
    /// test server. Everything else is as [`HyperTransport::new`].
    ///
    /// Fails if a certificate cannot be read or rustls refuses the
    /// configuration ([`Error::InvalidConfig`]).
    ///
    /// ```
    /// use mana_sync_hyper::{HyperTransport, TransportOptions};
    ///
    /// let not_a_certificate = b"not DER".to_vec();
    /// assert!(HyperTransport::with_root_certificates(TransportOptions::default(), &[not_a_certificate]).is_err());
    /// ```
    pub fn with_root_certificates(
        options: TransportOptions,
        roots: &[Vec<u8>],
    ) -> Result<HyperTransport, Error> {
        let invalid = |e: &dyn std::fmt::Display| Error::InvalidConfig {
            reason: format!("TLS setup failed: {e}"),
        };
        let mut store = rustls::RootCertStore::empty();
        for der in roots {
            store
                .add(rustls::pki_types::CertificateDer::from(der.clone()))
                .map_err(|e| invalid(&e))?;
        }
        let tls = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| invalid(&e))?
        .with_root_certificates(store)
        .with_no_client_auth();
        Ok(HyperTransport::over(
            HttpsConnectorBuilder::new().with_tls_config(tls),
            options,
        ))
    }

    /// The options it enforces.
    pub fn options(&self) -> &TransportOptions {
        &self.options
    }

    /// One exchange, without the total timeout.
    async fn exchange(
        &self,
        request: Request<Vec<u8>>,
    ) -> Result<Response<Vec<u8>>, TransportError> {
        let options = self.options;
        let request = with_full_body(request);
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| request_error(e, &options))?;

        let cap = options.max_response_bytes;
        let (parts, body) = response.into_parts();
        let declared = parts
            .headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        if declared.is_some_and(|len| len > cap) {
            // Dropping the body closes the connection unread.
            return Err(TransportError::TooLarge { limit: cap });
        }
        // `Limited` counts every frame as it arrives and fails the first one
        // that crosses the cap; nothing after it is read.
        let limit = usize::try_from(cap).unwrap_or(usize::MAX);
        let collected = Limited::new(body, limit)
            .collect()
            .await
            .map_err(|e| body_error(e, cap))?;
        Ok(Response::from_parts(parts, Vec::from(collected.to_bytes())))
    }
}

impl std::fmt::Debug for HyperTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HyperTransport")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// A streamed response body from hyper, a piece at a time; each piece is
/// awaited at most the idle timeout. Dropping it closes the connection.
pub type HyperBody =
    Pin<Box<dyn futures_util::Stream<Item = Result<Bytes, TransportError>> + Send>>;

impl AsyncTransport for HyperTransport {
    type Body = HyperBody;

    async fn open(&self, request: Request<Vec<u8>>) -> Result<Response<HyperBody>, TransportError> {
        let options = self.options;
        let request = with_full_body(request);
        let response =
            match tokio::time::timeout(options.head_timeout, self.client.request(request)).await {
                Ok(result) => result.map_err(|e| request_error(e, &options))?,
                Err(_) => {
                    return Err(TransportError::Timeout {
                        kind: TimeoutKind::Head,
                        limit: options.head_timeout,
                    })
                }
            };
        let idle = options.idle_timeout;
        let (parts, incoming) = response.into_parts();
        let chunks = futures_util::stream::unfold(Some(incoming), move |state| async move {
            let mut incoming = state?;
            loop {
                match tokio::time::timeout(idle, incoming.frame()).await {
                    Err(_) => {
                        let timeout = TransportError::Timeout {
                            kind: TimeoutKind::Idle,
                            limit: idle,
                        };
                        return Some((Err(timeout), None));
                    }
                    Ok(None) => return None,
                    Ok(Some(Err(e))) => return Some((Err(TransportError::other(e)), None)),
                    Ok(Some(Ok(frame))) => {
                        // Trailers carry no data: read on.
                        if let Ok(data) = frame.into_data() {
                            return Some((Ok(data), Some(incoming)));
                        }
                    }
                }
            }
        });
        Ok(Response::from_parts(parts, Box::pin(chunks) as HyperBody))
    }

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

/// The request with its body as hyper sends it.
fn with_full_body(request: Request<Vec<u8>>) -> Request<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    Request::from_parts(parts, Full::new(Bytes::from(body)))
}

/// What the client's error means to the core. hyper's errors never hold the
/// request's headers, so the token cannot leak through them.
fn request_error(
    error: hyper_util::client::legacy::Error,
    options: &TransportOptions,
) -> TransportError {
    if error.is_connect() && timed_out(&error) {
        TransportError::Timeout {
            kind: TimeoutKind::Connect,
            limit: options.connect_timeout,
        }
    } else {
        TransportError::other(error)
    }
}

/// What an error reading the (limited) body means to the core.
fn body_error(error: BoxError, cap: u64) -> TransportError {
    if error.is::<LengthLimitError>() {
        return TransportError::TooLarge { limit: cap };
    }
    match error.downcast::<hyper::Error>() {
        Ok(e) => TransportError::other(*e),
        Err(e) => TransportError::message(format!("reading the response body failed: {e}")),
    }
}

/// Whether any cause in the chain is an IO time-out (hyper-util's TCP
/// connect timeout, the [`ConnectTimeout`] around TLS, or the system's).
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

/// A connector whose connections must be open (resolved, connected and, for
/// `https`, through the TLS handshake) within `limit`.
/// `HttpConnector::set_connect_timeout` alone bounds only the TCP connect.
#[derive(Clone, Debug)]
struct ConnectTimeout<C> {
    inner: C,
    limit: Duration,
}

impl<C> tower_service::Service<Uri> for ConnectTimeout<C>
where
    C: tower_service::Service<Uri>,
    C::Error: Into<BoxError>,
    C::Future: Send + 'static,
{
    type Response = C::Response;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<C::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let connecting = self.inner.call(uri);
        let limit = self.limit;
        Box::pin(async move {
            match tokio::time::timeout(limit, connecting).await {
                Ok(result) => result.map_err(Into::into),
                Err(_) => Err(Box::new(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("opening the connection took longer than {limit:?}"),
                )) as BoxError),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_are_found_anywhere_in_the_chain() {
        #[derive(Debug)]
        struct Outer(io::Error);
        impl std::fmt::Display for Outer {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("outer")
            }
        }
        impl StdError for Outer {
            fn source(&self) -> Option<&(dyn StdError + 'static)> {
                Some(&self.0)
            }
        }
        assert!(timed_out(&Outer(io::Error::from(io::ErrorKind::TimedOut))));
        assert!(!timed_out(&Outer(io::Error::from(
            io::ErrorKind::ConnectionRefused
        ))));
    }

    #[tokio::test]
    async fn body_errors_other_than_the_cap_are_transport_errors() {
        let over = Limited::new(Full::new(Bytes::from_static(b"12345678")), 7)
            .collect()
            .await
            .expect_err("8 bytes are over a 7-byte limit");
        assert!(matches!(
            body_error(over, 7),
            TransportError::TooLarge { limit: 7 }
        ));
        let e: BoxError = "broken".into();
        assert!(matches!(body_error(e, 7), TransportError::Other { .. }));
    }
}

//! [`UreqTransport`]: executes requests with a shared ureq agent.

use std::io::{self, Read};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use mana_sync_core::{
    BlockingBody, BlockingTransport, TimeoutKind, TransportError, TransportOptions,
};
use ureq::tls::{RootCerts, TlsConfig, TlsProvider};

/// Most a response's `Content-Length` reserves before its body is read.
const PRESIZE_LIMIT: usize = 16 << 20;

/// Sends requests with one [`ureq::Agent`], which pools and reuses
/// connections. Cloning is cheap and shares the pool.
///
/// It enforces [`TransportOptions`]:
///
/// * `connect_timeout` bounds opening a connection: name resolution, TCP and
///   the TLS handshake ([`TimeoutKind::Connect`]);
/// * `total_timeout` bounds the whole exchange, from sending the request to
///   the last byte of the body ([`TimeoutKind::Total`]);
/// * `max_response_bytes` caps the body while it is read: a larger one fails
///   with [`TransportError::TooLarge`] as soon as the cap is crossed (or at
///   once when its `Content-Length` says so), and the rest is never read.
///
/// Every response comes back, whatever its status; redirects are not
/// followed. TLS is rustls (ring) with the webpki roots. Like ureq itself, it
/// honours the `HTTPS_PROXY`/`HTTP_PROXY`/`ALL_PROXY` and `NO_PROXY`
/// environment variables.
#[derive(Clone)]
pub struct UreqTransport {
    agent: ureq::Agent,
    options: TransportOptions,
}

impl UreqTransport {
    /// A transport with these timeouts and cap.
    pub fn new(options: TransportOptions) -> UreqTransport {
        UreqTransport::with_roots(options, RootCerts::WebPki)
    }

    /// The agent: every status and body back to the core, no redirects
    /// followed, the connect and total timeouts, rustls with these roots.
    fn with_roots(options: TransportOptions, roots: RootCerts) -> UreqTransport {
        let agent = ureq::Agent::config_builder()
            // The core reads every status and body itself.
            .http_status_as_error(false)
            // ...and reports redirects rather than following them.
            .max_redirects(0)
            .timeout_connect(Some(options.connect_timeout))
            .timeout_global(Some(options.total_timeout))
            .tls_config(
                TlsConfig::builder()
                    .provider(TlsProvider::Rustls)
                    .root_certs(roots)
                    .build(),
            )
            .build()
            .new_agent();
        UreqTransport { agent, options }
    }

    /// A transport that trusts these root certificates (DER) **instead of**
    /// the webpki roots: for a server behind a private CA, or a self-signed
    /// test server. Everything else is as [`UreqTransport::new`].
    ///
    /// ```
    /// use mana_sync_ureq::{TransportOptions, UreqTransport};
    ///
    /// # let der: Vec<u8> = Vec::new();
    /// let transport = UreqTransport::with_root_certificates(TransportOptions::default(), &[der]);
    /// # let _ = transport;
    /// ```
    pub fn with_root_certificates(options: TransportOptions, roots: &[Vec<u8>]) -> UreqTransport {
        let roots: Vec<ureq::tls::Certificate<'static>> = roots
            .iter()
            .map(|der| ureq::tls::Certificate::from_der(der).to_owned())
            .collect();
        UreqTransport::with_roots(options, RootCerts::new_with_certs(&roots))
    }

    /// The options it enforces.
    pub fn options(&self) -> &TransportOptions {
        &self.options
    }

    /// What an error reading a streamed body means to the core: ureq
    /// reports its timeouts inside the IO error.
    fn map_io_error(&self, error: io::Error) -> TransportError {
        if error.kind() == io::ErrorKind::TimedOut {
            return TransportError::Timeout {
                kind: TimeoutKind::Idle,
                limit: self.options.idle_timeout,
            };
        }
        match error.into_inner() {
            Some(inner) => match inner.downcast::<ureq::Error>() {
                Ok(e) => self.map_error(*e),
                Err(other) => {
                    TransportError::message(format!("reading the stream failed: {other}"))
                }
            },
            None => TransportError::message("reading the stream failed"),
        }
    }

    /// What ureq's error means to the core. ureq's errors never hold the
    /// request's headers, so the token cannot leak through them.
    fn map_error(&self, error: ureq::Error) -> TransportError {
        match error {
            ureq::Error::Timeout(t) => {
                let (kind, limit) = match t {
                    ureq::Timeout::Connect | ureq::Timeout::Resolve => {
                        (TimeoutKind::Connect, self.options.connect_timeout)
                    }
                    ureq::Timeout::RecvResponse => (TimeoutKind::Head, self.options.head_timeout),
                    ureq::Timeout::PerRead => (TimeoutKind::Idle, self.options.idle_timeout),
                    _ => (TimeoutKind::Total, self.options.total_timeout),
                };
                TransportError::Timeout { kind, limit }
            }
            ureq::Error::BodyExceedsLimit(_) => TransportError::TooLarge {
                limit: self.options.max_response_bytes,
            },
            ureq::Error::Io(e) if e.kind() == io::ErrorKind::TimedOut => TransportError::Timeout {
                kind: TimeoutKind::Total,
                limit: self.options.total_timeout,
            },
            other => TransportError::other(other),
        }
    }
}

impl std::fmt::Debug for UreqTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UreqTransport")
            .field("options", &self.options)
            .finish()
    }
}

impl BlockingTransport for UreqTransport {
    type Body = UreqBody;

    fn open(&self, request: Request<Vec<u8>>) -> Result<Response<UreqBody>, TransportError> {
        // No total time limit for a stream: the head must come within the
        // head timeout, and then each read within the idle timeout.
        let request = self
            .agent
            .configure_request(request)
            .timeout_global(None)
            .timeout_recv_response(Some(self.options.head_timeout))
            .timeout_recv_body(None)
            .timeout_per_read(Some(self.options.idle_timeout))
            .build();
        let response = self.agent.run(request).map_err(|e| self.map_error(e))?;
        let (parts, body) = response.into_parts();
        let body = UreqBody {
            reader: Box::new(body.into_reader()),
            transport: self.clone(),
        };
        Ok(Response::from_parts(parts, body))
    }

    fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError> {
        let cap = self.options.max_response_bytes;
        let response = self.agent.run(request).map_err(|e| self.map_error(e))?;
        let (parts, mut body) = response.into_parts();
        let declared = parts
            .headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        if declared.is_some_and(|len| len > cap) {
            // Dropping the body closes the connection unread.
            return Err(TransportError::TooLarge { limit: cap });
        }
        // Sized from Content-Length (at most the cap, checked above): the
        // body is read once into a buffer of its size, not into one that
        // doubles as it fills (which copies the body and leaves up to half
        // of the buffer unused, held by the core with the page). The
        // reader fails as soon as it crosses the cap (`read_to_vec` alone
        // would cap at 10 MiB: set the cap we mean).
        // A declared length is only a claim: at most 16 MiB is reserved up
        // front, so a header alone cannot make the client allocate the cap.
        let mut bytes = Vec::with_capacity(
            declared
                .and_then(|len| usize::try_from(len).ok())
                .unwrap_or(0)
                .min(PRESIZE_LIMIT),
        );
        body.with_config()
            .limit(cap)
            .reader()
            .read_to_end(&mut bytes)
            .map_err(|e| self.map_error(ureq::Error::from(e)))?;
        Ok(Response::from_parts(parts, bytes))
    }

    fn sleep(&self, duration: Duration) {
        std::thread::sleep(duration);
    }
}

/// A streamed response body read from ureq, a piece at a time; each read
/// waits at most the idle timeout. Dropping it closes the connection.
pub struct UreqBody {
    reader: Box<dyn Read + Send>,
    transport: UreqTransport,
}

impl std::fmt::Debug for UreqBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UreqBody").finish_non_exhaustive()
    }
}

/// The most read at once from a streamed body.
const CHUNK: usize = 16 * 1024;

impl BlockingBody for UreqBody {
    fn next_chunk(&mut self) -> Result<Option<Bytes>, TransportError> {
        let mut buffer = vec![0; CHUNK];
        loop {
            match self.reader.read(&mut buffer) {
                Ok(0) => return Ok(None),
                Ok(n) => {
                    buffer.truncate(n);
                    return Ok(Some(Bytes::from(buffer)));
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.transport.map_io_error(e)),
            }
        }
    }
}

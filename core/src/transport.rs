//! What a transport must do: [`BlockingTransport`], [`AsyncTransport`], and
//! the options every transport honours ([`TransportOptions`]).

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use futures_core::Stream;
use http::{Request, Response};

use crate::TransportError;

/// Timeouts and the response-size cap every transport enforces.
///
/// ```
/// # use mana_sync_core::surface as mana_sync_ureq;
/// use std::time::Duration;
/// use mana_sync_ureq::TransportOptions;
///
/// let options = TransportOptions::default()
///     .connect_timeout(Duration::from_secs(3))
///     .total_timeout(Duration::from_secs(20))
///     .max_response_bytes(8 << 20);
/// assert_eq!(options.max_response_bytes, 8 << 20);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransportOptions {
    /// Longest time to open a connection (TCP and TLS). Default 10 s.
    pub connect_timeout: Duration,
    /// Longest time for a whole exchange, from sending to the last byte of
    /// the body. Default 60 s.
    pub total_timeout: Duration,
    /// Largest response body read; a larger one fails with
    /// [`TransportError::TooLarge`] as soon as the cap is crossed, without
    /// reading the rest. Default 64 MiB.
    pub max_response_bytes: u64,
    /// For a streamed response ([`BlockingTransport::open`]): longest wait
    /// for the status and headers. The real server sends them only with the
    /// first event when nothing is pending, up to 30 s after the request
    /// (docs/PROTOCOL.md), so the default is 45 s.
    pub head_timeout: Duration,
    /// For a streamed response: longest silence between two reads; longer
    /// means a dead connection. The server sends a heartbeat every 30 s, so
    /// the default is 45 s.
    pub idle_timeout: Duration,
}

impl Default for TransportOptions {
    fn default() -> Self {
        TransportOptions {
            connect_timeout: Duration::from_secs(10),
            total_timeout: Duration::from_secs(60),
            max_response_bytes: 64 * 1024 * 1024,
            head_timeout: Duration::from_secs(45),
            idle_timeout: Duration::from_secs(45),
        }
    }
}

impl TransportOptions {
    /// Sets [`TransportOptions::connect_timeout`].
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }
    /// Sets [`TransportOptions::total_timeout`].
    pub fn total_timeout(mut self, d: Duration) -> Self {
        self.total_timeout = d;
        self
    }
    /// Sets [`TransportOptions::max_response_bytes`].
    pub fn max_response_bytes(mut self, n: u64) -> Self {
        self.max_response_bytes = n;
        self
    }
    /// Sets [`TransportOptions::head_timeout`].
    pub fn head_timeout(mut self, d: Duration) -> Self {
        self.head_timeout = d;
        self
    }
    /// Sets [`TransportOptions::idle_timeout`].
    pub fn idle_timeout(mut self, d: Duration) -> Self {
        self.idle_timeout = d;
        self
    }
}

/// A response body read piece by piece, blocking: what
/// [`BlockingTransport::open`] returns. Dropping it closes the connection.
pub trait BlockingBody: Send {
    /// The next piece of the body (`Ok(None)` at its end). Fails with
    /// [`TransportError::Timeout`] ([`crate::TimeoutKind::Idle`]) when
    /// nothing arrives for [`TransportOptions::idle_timeout`].
    fn next_chunk(&mut self) -> Result<Option<Bytes>, TransportError>;
}

/// A response body read piece by piece, async: what
/// [`AsyncTransport::open`] returns. It ends after the last piece; an item
/// is [`TransportError::Timeout`] ([`crate::TimeoutKind::Idle`]) when
/// nothing arrives for [`TransportOptions::idle_timeout`]. Dropping it
/// closes the connection.
pub trait AsyncBody: Stream<Item = Result<Bytes, TransportError>> + Send + Unpin {}

impl<S> AsyncBody for S where S: Stream<Item = Result<Bytes, TransportError>> + Send + Unpin {}

/// Executes requests and waits, blocking the calling thread.
///
/// A transport knows nothing of the protocol: it sends what it is given and
/// returns every response, whatever its status, with its whole body (up to
/// the cap).
pub trait BlockingTransport {
    /// A streamed response body.
    type Body: BlockingBody;

    /// Sends `request` and reads the whole response.
    fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError>;

    /// Sends `request` and returns as soon as the status and headers are in
    /// (within [`TransportOptions::head_timeout`]), with a body to read
    /// piece by piece (for a stream of events). No total timeout applies;
    /// each read waits at most [`TransportOptions::idle_timeout`].
    fn open(&self, request: Request<Vec<u8>>) -> Result<Response<Self::Body>, TransportError>;
    /// Waits `duration` (an operation asked to wait, e.g. before a retry).
    fn sleep(&self, duration: Duration);
}

/// Executes requests and waits, asynchronously. The futures are `Send`, so a
/// client can be used from any task of a multi-threaded runtime.
pub trait AsyncTransport: Send + Sync {
    /// A streamed response body.
    type Body: AsyncBody;

    /// Sends `request` and reads the whole response.
    fn send(
        &self,
        request: Request<Vec<u8>>,
    ) -> impl Future<Output = Result<Response<Vec<u8>>, TransportError>> + Send;

    /// Sends `request` and resolves as soon as the status and headers are
    /// in (within [`TransportOptions::head_timeout`]), with a body to read
    /// piece by piece (for a stream of events). No total timeout applies;
    /// each piece is awaited at most [`TransportOptions::idle_timeout`].
    fn open(
        &self,
        request: Request<Vec<u8>>,
    ) -> impl Future<Output = Result<Response<Self::Body>, TransportError>> + Send;
    /// Waits `duration`.
    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + Send;
}

/// A borrowed transport is a transport: a client or driver can run over
/// `&T` while the owner keeps it (the engine's drivers run the live stream
/// and the requests over one transport this way).
impl<T: BlockingTransport + ?Sized> BlockingTransport for &T {
    type Body = T::Body;

    fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError> {
        (**self).send(request)
    }

    fn open(&self, request: Request<Vec<u8>>) -> Result<Response<Self::Body>, TransportError> {
        (**self).open(request)
    }

    fn sleep(&self, duration: Duration) {
        (**self).sleep(duration)
    }
}

/// A borrowed transport is a transport (see the blocking one).
impl<T: AsyncTransport + ?Sized> AsyncTransport for &T {
    type Body = T::Body;

    fn send(
        &self,
        request: Request<Vec<u8>>,
    ) -> impl Future<Output = Result<Response<Vec<u8>>, TransportError>> + Send {
        (**self).send(request)
    }

    fn open(
        &self,
        request: Request<Vec<u8>>,
    ) -> impl Future<Output = Result<Response<Self::Body>, TransportError>> + Send {
        (**self).open(request)
    }

    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + Send {
        (**self).sleep(duration)
    }
}

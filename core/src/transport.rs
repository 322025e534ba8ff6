//! What a transport must do: [`BlockingTransport`], [`AsyncTransport`], and
//! the options every transport honours ([`TransportOptions`]).

use std::future::Future;
use std::time::Duration;

use http::{Request, Response};

use crate::TransportError;

/// Timeouts and the response-size cap every transport enforces.
///
/// ```
/// use std::time::Duration;
/// use mana_sync_core::TransportOptions;
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
}

impl Default for TransportOptions {
    fn default() -> Self {
        TransportOptions {
            connect_timeout: Duration::from_secs(10),
            total_timeout: Duration::from_secs(60),
            max_response_bytes: 64 * 1024 * 1024,
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
}

/// Executes requests and waits, blocking the calling thread.
///
/// A transport knows nothing of the protocol: it sends what it is given and
/// returns every response, whatever its status, with its whole body (up to
/// the cap).
pub trait BlockingTransport {
    /// Sends `request` and reads the whole response.
    fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError>;
    /// Waits `duration` (an operation asked to wait, e.g. before a retry).
    fn sleep(&self, duration: Duration);
}

/// Executes requests and waits, asynchronously. The futures are `Send`, so a
/// client can be used from any task of a multi-threaded runtime.
pub trait AsyncTransport: Send + Sync {
    /// Sends `request` and reads the whole response.
    fn send(
        &self,
        request: Request<Vec<u8>>,
    ) -> impl Future<Output = Result<Response<Vec<u8>>, TransportError>> + Send;
    /// Waits `duration`.
    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + Send;
}

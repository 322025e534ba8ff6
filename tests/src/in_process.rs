//! [`InProcess`]: a transport that calls a [`MemoryServer`] directly.

use std::sync::Arc;
use std::time::Duration;

use http::{Request, Response};
use mana_sync_core::{
    AsyncClient, AsyncTransport, BlockingClient, BlockingTransport, Config, TransportError,
    TransportOptions,
};

use crate::server::Dropped;
use crate::{ManualClock, MemoryServer};

/// A transport with no sockets: each request goes straight to a
/// [`MemoryServer`]. Waiting advances the [`ManualClock`] instead of
/// sleeping, so retries and backoff run instantly and deterministically.
/// The response-size cap of [`TransportOptions`] is enforced as a network
/// transport would.
///
/// ```
/// use mana_sync_core::{Config, Cursor};
/// use mana_sync_testkit::{token_for, InProcess};
///
/// let net = InProcess::default();
/// let client = net.blocking_client(Config::new("http://mana.test", token_for("u-1"), "app")?);
/// let page = client.pull("todo", "tasks", &Cursor::EPOCH)?;
/// assert!(page.server_changes.is_empty());
/// # Ok::<(), mana_sync_core::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct InProcess {
    server: Arc<MemoryServer>,
    clock: ManualClock,
    options: TransportOptions,
}

impl Default for InProcess {
    /// A fresh [`MemoryServer`] and a [`ManualClock`] at
    /// [`crate::start_time`], shared by both.
    fn default() -> Self {
        let clock = ManualClock::default();
        InProcess::new(MemoryServer::with_clock(clock.clone()), clock)
    }
}

impl InProcess {
    /// A transport to `server`; `clock` is what clients built here read and
    /// what waiting advances (give the server the same clock).
    pub fn new(server: impl Into<Arc<MemoryServer>>, clock: ManualClock) -> InProcess {
        InProcess {
            server: server.into(),
            clock,
            options: TransportOptions::default(),
        }
    }

    /// Sets the options (only the response-size cap applies in process).
    pub fn with_options(mut self, options: TransportOptions) -> InProcess {
        self.options = options;
        self
    }

    /// The server.
    pub fn server(&self) -> &Arc<MemoryServer> {
        &self.server
    }

    /// The clock.
    pub fn clock(&self) -> &ManualClock {
        &self.clock
    }

    /// A blocking client over this transport, reading this clock.
    pub fn blocking_client(&self, config: Config) -> BlockingClient<InProcess> {
        BlockingClient::new(config, self.clone()).with_clock(self.clock.clone())
    }

    /// An async client over this transport, reading this clock.
    pub fn async_client(&self, config: Config) -> AsyncClient<InProcess> {
        AsyncClient::new(config, self.clone()).with_clock(self.clock.clone())
    }

    fn exchange(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError> {
        let response = self.server.handle(request);
        if response.extensions().get::<Dropped>().is_some() {
            return Err(TransportError::message(
                "the connection was closed before a response (the server's handler panicked)",
            ));
        }
        if response.body().len() as u64 > self.options.max_response_bytes {
            return Err(TransportError::TooLarge {
                limit: self.options.max_response_bytes,
            });
        }
        Ok(response)
    }
}

impl BlockingTransport for InProcess {
    fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError> {
        self.exchange(request)
    }

    fn sleep(&self, duration: Duration) {
        self.clock.advance(duration);
    }
}

impl AsyncTransport for InProcess {
    async fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError> {
        self.exchange(request)
    }

    async fn sleep(&self, duration: Duration) {
        self.clock.advance(duration);
    }
}

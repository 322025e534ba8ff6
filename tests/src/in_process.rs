//! [`InProcess`]: a transport that calls a [`MemoryServer`] directly.

use std::sync::Arc;
use std::time::Duration;

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use mana_sync_core::{
    AsyncClient, AsyncTransport, BlockingBody, BlockingClient, BlockingTransport, Config,
    TimeoutKind, TransportError, TransportOptions,
};

use crate::faults::{Stalled, Truncated};
use crate::server::Dropped;
use crate::{ManualClock, MemoryServer, StreamSession};

/// A transport with no sockets: each request goes straight to a
/// [`MemoryServer`]. Waiting advances the [`ManualClock`] instead of
/// sleeping, so retries and backoff run instantly and deterministically.
/// The response-size cap of [`TransportOptions`] is enforced as a network
/// transport would, and injected faults ([`crate::Fault`]) end as they would
/// over a network: a closed connection or a cut body as a
/// [`TransportError`], a stall as a [`TransportError::Timeout`] after the
/// clock has advanced by the total timeout.
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

    /// Sets the options (in process, only the response-size cap and, for a
    /// stalled answer, the total timeout apply).
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
                "the connection was closed before a response",
            ));
        }
        if response.extensions().get::<Truncated>().is_some() {
            return Err(TransportError::message(
                "the connection was closed before the whole body arrived",
            ));
        }
        if response.extensions().get::<Stalled>().is_some() {
            // As a network transport would: the time limit passes, then it
            // gives up.
            let limit = self.options.total_timeout;
            self.clock.advance(limit);
            return Err(TransportError::Timeout {
                kind: TimeoutKind::Total,
                limit,
            });
        }
        if response.body().len() as u64 > self.options.max_response_bytes {
            return Err(TransportError::TooLarge {
                limit: self.options.max_response_bytes,
            });
        }
        Ok(response)
    }
}

impl InProcess {
    fn open_stream(
        &self,
        request: Request<Vec<u8>>,
    ) -> Result<Response<InProcessBody>, TransportError> {
        let (head, body) = match self.server.open_stream(request) {
            Ok(session) => {
                let head = Response::builder()
                    .status(200)
                    .header(http::header::CONTENT_TYPE, "text/event-stream")
                    .header(http::header::CACHE_CONTROL, "no-cache")
                    .body(())
                    .unwrap_or_default();
                let body = InProcessBody::Live {
                    session: Box::new(session),
                    clock: self.clock.clone(),
                    heartbeat: self.server.heartbeat(),
                    idle: self.options.idle_timeout,
                };
                (head, body)
            }
            Err(refused) => {
                if refused.extensions().get::<Dropped>().is_some() {
                    return Err(TransportError::message(
                        "the connection was closed before a response",
                    ));
                }
                let (parts, bytes) = (*refused).into_parts();
                (
                    Response::from_parts(parts, ()),
                    InProcessBody::Fixed(Some(bytes)),
                )
            }
        };
        let (parts, ()) = head.into_parts();
        Ok(Response::from_parts(parts, body))
    }
}

/// A streamed body in process: a finished one (a refused stream), or a
/// live [`StreamSession`]. When nothing is ready it sends a heartbeat,
/// advancing the clock by the server's interval, as if that much time had
/// passed; a silent session instead fails with the idle timeout, as a
/// network transport would, advancing the clock by it. A cut session ends.
#[derive(Debug)]
pub enum InProcessBody {
    /// A whole body, handed out once.
    Fixed(Option<Vec<u8>>),
    /// An open stream.
    Live {
        /// The server side of the stream.
        session: Box<StreamSession>,
        /// The clock heartbeats and timeouts advance.
        clock: ManualClock,
        /// The server's heartbeat interval.
        heartbeat: Duration,
        /// The transport's idle timeout.
        idle: Duration,
    },
}

impl BlockingBody for InProcessBody {
    fn next_chunk(&mut self) -> Result<Option<Bytes>, TransportError> {
        match self {
            InProcessBody::Fixed(bytes) => Ok(bytes.take().map(Bytes::from)),
            InProcessBody::Live {
                session,
                clock,
                heartbeat,
                idle,
            } => {
                if let Some(event) = session.next_event() {
                    return Ok(Some(Bytes::from(event)));
                }
                if session.is_cut() {
                    return Ok(None);
                }
                if session.is_silent() {
                    clock.advance(*idle);
                    return Err(TransportError::Timeout {
                        kind: TimeoutKind::Idle,
                        limit: *idle,
                    });
                }
                clock.advance(*heartbeat);
                Ok(session.heartbeat().map(Bytes::from))
            }
        }
    }
}

impl futures_core::Stream for InProcessBody {
    type Item = Result<Bytes, TransportError>;

    fn poll_next(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Poll::Ready(self.get_mut().next_chunk().transpose())
    }
}

impl BlockingTransport for InProcess {
    type Body = InProcessBody;

    fn open(&self, request: Request<Vec<u8>>) -> Result<Response<InProcessBody>, TransportError> {
        self.open_stream(request)
    }

    fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError> {
        self.exchange(request)
    }

    fn sleep(&self, duration: Duration) {
        self.clock.advance(duration);
    }
}

impl AsyncTransport for InProcess {
    type Body = InProcessBody;

    async fn open(
        &self,
        request: Request<Vec<u8>>,
    ) -> Result<Response<InProcessBody>, TransportError> {
        self.open_stream(request)
    }

    async fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError> {
        self.exchange(request)
    }

    async fn sleep(&self, duration: Duration) {
        self.clock.advance(duration);
    }
}

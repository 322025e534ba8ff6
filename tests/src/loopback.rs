//! [`LoopbackServer`]: a [`MemoryServer`] over real HTTP on 127.0.0.1.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::sync::oneshot;

use crate::faults::{Stalled, Truncated};
use crate::server::{Dropped, MAX_BODY_BYTES};
use crate::{MemoryServer, StreamSession};

/// What the loopback server answers with: a whole body, or a stream.
type Body = BoxBody<Bytes, HangUp>;

/// The most of a request body read and thrown away after the first
/// [`MAX_BODY_BYTES`] + 1 bytes, so that a client sending an oversized body
/// still gets its 400 instead of a reset connection.
const DRAIN_LIMIT: usize = 1 << 30;

/// How long a stalled answer stays silent by default, in milliseconds.
const DEFAULT_STALL_MS: u64 = 30_000;

/// A [`MemoryServer`] served over HTTP/1.1 and HTTP/2 (cleartext) on
/// 127.0.0.1, on a free port, on its own thread with its own Tokio
/// runtime, so blocking and async tests alike can reach it. It counts the
/// TCP connections it accepts, so a test can show that a client reuses
/// them. Injected faults ([`crate::Fault`]) happen on the wire: the
/// connection really closes, the body is really cut, a stall is real
/// silence. It stops when dropped.
///
/// ```
/// use mana_sync_testkit::{LoopbackServer, MemoryServer};
///
/// let server = LoopbackServer::start(MemoryServer::new().with_prefix("/api"))?;
/// assert!(server.base_url().starts_with("http://127.0.0.1:"));
/// assert!(server.base_url().ends_with("/api"));
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct LoopbackServer {
    addr: SocketAddr,
    stall: Arc<AtomicU64>,
    server: Arc<MemoryServer>,
    prefix: String,
    connections: Arc<AtomicUsize>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for LoopbackServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoopbackServer")
            .field("addr", &self.addr)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// The connection was to be dropped without an answer.
#[derive(Debug)]
struct HangUp;

impl std::fmt::Display for HangUp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("handler panicked: connection dropped")
    }
}

impl std::error::Error for HangUp {}

/// Reads the first `MAX_BODY_BYTES + 1` bytes of the body (what the server
/// looks at), drains the rest, and hands the request to the server.
async fn serve(
    server: Arc<MemoryServer>,
    stall: Arc<AtomicU64>,
    request: Request<Incoming>,
) -> Result<Response<Body>, HangUp> {
    let (parts, mut body) = request.into_parts();
    let mut kept = Vec::new();
    let mut total = 0usize;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else { break };
        if let Ok(data) = frame.into_data() {
            total += data.len();
            let room = (MAX_BODY_BYTES + 1).saturating_sub(kept.len());
            kept.extend_from_slice(&data[..data.len().min(room)]);
            if total > DRAIN_LIMIT {
                break;
            }
        }
    }
    let request = Request::from_parts(parts, kept);
    let is_stream =
        request.method() == http::Method::GET && request.uri().path().ends_with("/stream");
    let response = if is_stream {
        match server.open_stream(request) {
            Ok(session) => return Ok(stream(server, session).await),
            Err(refused) => *refused,
        }
    } else {
        server.handle_sized(request, total)
    };
    if response.extensions().get::<Dropped>().is_some() {
        return Err(HangUp);
    }
    if response.extensions().get::<Stalled>().is_some() {
        // Silence past any client's timeout, then a hang-up: the client never
        // gets this answer, however slow or fast it is.
        tokio::time::sleep(Duration::from_millis(stall.load(Ordering::SeqCst))).await;
        return Err(HangUp);
    }
    if response.extensions().get::<Truncated>().is_some() {
        return truncated(response);
    }
    let (parts, body) = response.into_parts();
    let body = Full::new(Bytes::from(body))
        .map_err(|never| match never {})
        .boxed();
    Ok(Response::from_parts(parts, body))
}

/// An answer whose head gives the whole body's length, and whose body
/// stops half-way with the connection closed.
fn truncated(response: Response<Vec<u8>>) -> Result<Response<Body>, HangUp> {
    let (mut parts, body) = response.into_parts();
    if body.len() < 2 {
        return Err(HangUp);
    }
    parts.headers.insert(
        http::header::CONTENT_LENGTH,
        http::HeaderValue::from(body.len()),
    );
    let half = Bytes::from(body);
    let half = half.slice(..half.len() / 2);
    let frames = futures_util::stream::iter([Ok(hyper::body::Frame::data(half)), Err(HangUp)]);
    Ok(Response::from_parts(parts, StreamBody::new(frames).boxed()))
}

/// A stream's response: sent only once its first event (or heartbeat) is
/// ready, as the real server does; then each event as it comes, a
/// heartbeat after each quiet interval, until the client goes away or the
/// session is cut.
async fn stream(server: Arc<MemoryServer>, session: StreamSession) -> Response<Body> {
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(16);
    let heartbeat = server.heartbeat();
    let mut pushes = server.subscribe();
    let (first_tx, first_rx) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let mut session = session;
        let mut first = Some(first_tx);
        loop {
            let event = match session.next_event() {
                Some(event) => Some(event),
                None if session.is_cut() => break,
                None if session.is_silent() => {
                    // Head sent, then nothing: wait for the client to go.
                    if let Some(first) = first.take() {
                        let _ = first.send(());
                    }
                    tx.closed().await;
                    break;
                }
                None => tokio::select! {
                    changed = pushes.changed() => {
                        if changed.is_err() {
                            break;
                        }
                        None
                    }
                    _ = tokio::time::sleep(heartbeat) => session.heartbeat(),
                    _ = tx.closed() => break,
                },
            };
            if let Some(event) = event {
                if tx.send(Bytes::from(event)).await.is_err() {
                    break;
                }
                if let Some(first) = first.take() {
                    let _ = first.send(());
                }
            }
        }
        // Dropping the session counts the stream as closed.
    });
    // The head waits for the first event (or the end).
    let _ = first_rx.await;
    let frames = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|bytes| (Ok::<_, HangUp>(hyper::body::Frame::data(bytes)), rx))
    });
    Response::builder()
        .status(200)
        .header(http::header::CONTENT_TYPE, "text/event-stream")
        .header(http::header::CACHE_CONTROL, "no-cache")
        .body(StreamBody::new(frames).boxed())
        .unwrap_or_else(|_| {
            Response::new(
                Full::new(Bytes::new())
                    .map_err(|never| match never {})
                    .boxed(),
            )
        })
}

impl LoopbackServer {
    /// A fresh [`MemoryServer::new`] (the system clock, as a real server)
    /// served on a free port. For a fixed clock:
    /// `LoopbackServer::start(MemoryServer::deterministic())`.
    pub fn new() -> std::io::Result<LoopbackServer> {
        LoopbackServer::start(MemoryServer::new())
    }

    /// Serves `server` (an `Arc<MemoryServer>` or a `MemoryServer`) on a free
    /// port of 127.0.0.1.
    pub fn start(server: impl Into<Arc<MemoryServer>>) -> std::io::Result<LoopbackServer> {
        LoopbackServer::start_on(server, SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// Serves `server` on `addr` (port 0: a free one), e.g. for a local
    /// development server on a fixed port.
    pub fn start_on(
        server: impl Into<Arc<MemoryServer>>,
        addr: SocketAddr,
    ) -> std::io::Result<LoopbackServer> {
        let server: Arc<MemoryServer> = server.into();
        let listener = std::net::TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (shutdown, mut stop) = oneshot::channel::<()>();
        let connections = Arc::new(AtomicUsize::new(0));
        let stall = Arc::new(AtomicU64::new(DEFAULT_STALL_MS));
        let (served, counter, stalls) = (server.clone(), connections.clone(), stall.clone());
        let thread = std::thread::Builder::new()
            .name(format!("mana-sync-loopback-{}", addr.port()))
            .spawn(move || {
                runtime.block_on(async move {
                    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                        return;
                    };
                    loop {
                        tokio::select! {
                            _ = &mut stop => break,
                            accepted = listener.accept() => {
                                let Ok((stream, _)) = accepted else { continue };
                                counter.fetch_add(1, Ordering::SeqCst);
                                let server = served.clone();
                                let stall = stalls.clone();
                                tokio::spawn(async move {
                                    let service = service_fn(move |req| {
                                        serve(server.clone(), stall.clone(), req)
                                    });
                                    let _ = auto::Builder::new(TokioExecutor::new())
                                        .serve_connection(TokioIo::new(stream), service)
                                        .await;
                                });
                            }
                        }
                    }
                });
                // Dropping the runtime here cancels every connection task.
                drop(runtime);
            })?;
        Ok(LoopbackServer {
            addr,
            stall,
            prefix: server.prefix().to_owned(),
            server,
            connections,
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }

    /// Sets the path [`Self::base_url`] ends with (by default the served
    /// [`MemoryServer`]'s prefix, see [`MemoryServer::with_prefix`]).
    pub fn with_prefix(mut self, prefix: &str) -> LoopbackServer {
        self.prefix = prefix.trim_end_matches('/').to_owned();
        self
    }

    /// How long a stalled answer ([`crate::Fault::Stall`]) stays silent
    /// before the connection closes without it (30 s by default): make it
    /// longer than the client's timeout.
    pub fn with_stall(self, silence: Duration) -> LoopbackServer {
        let ms = u64::try_from(silence.as_millis()).unwrap_or(u64::MAX);
        self.stall.store(ms, Ordering::SeqCst);
        self
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` and the prefix, if any.
    pub fn base_url(&self) -> String {
        format!("http://{}{}", self.addr, self.prefix)
    }

    /// The server behind it.
    pub fn server(&self) -> &Arc<MemoryServer> {
        &self.server
    }

    /// How many TCP connections it has accepted.
    pub fn connections_accepted(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

impl Drop for LoopbackServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

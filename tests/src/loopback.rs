//! [`LoopbackServer`]: a [`MemoryServer`] over real HTTP on 127.0.0.1.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::sync::oneshot;

use crate::server::{Dropped, MAX_BODY_BYTES};
use crate::MemoryServer;

/// The most of a request body read and thrown away after the first
/// [`MAX_BODY_BYTES`] + 1 bytes, so that a client sending an oversized body
/// still gets its 400 instead of a reset connection.
const DRAIN_LIMIT: usize = 1 << 30;

/// A [`MemoryServer`] served over HTTP/1.1 and HTTP/2 (cleartext) on
/// 127.0.0.1, on a free port, on its own thread with its own Tokio
/// runtime, so blocking and async tests alike can reach it. It counts the
/// TCP connections it accepts, so a test can show that a client reuses
/// them. It stops when dropped.
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
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, HangUp> {
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
    let response = server.handle_sized(Request::from_parts(parts, kept), total);
    if response.extensions().get::<Dropped>().is_some() {
        return Err(HangUp);
    }
    let (parts, body) = response.into_parts();
    Ok(Response::from_parts(parts, Full::new(Bytes::from(body))))
}

impl LoopbackServer {
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
        let (served, counter) = (server.clone(), connections.clone());
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
                                tokio::spawn(async move {
                                    let service = service_fn(move |req| serve(server.clone(), req));
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

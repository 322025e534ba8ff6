//! [`LoopbackServer`]: a [`MemoryServer`] over real HTTP on 127.0.0.1.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::sync::oneshot;

use crate::server::MAX_BODY_BYTES;
use crate::MemoryServer;

/// A [`MemoryServer`] served over HTTP/1.1 and HTTP/2 on 127.0.0.1 (a free
/// port), on its own thread and runtime, so blocking and async tests alike
/// can reach it. Stops when dropped.
///
/// ```
/// let server = mana_sync_testkit::LoopbackServer::start(mana_sync_testkit::MemoryServer::new())?;
/// assert!(server.base_url().starts_with("http://127.0.0.1:"));
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
            .finish_non_exhaustive()
    }
}

async fn serve(
    server: Arc<MemoryServer>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = request.into_parts();
    let response = match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(body) => server.handle(Request::from_parts(parts, body.to_bytes().to_vec())),
        Err(_) => Response::builder()
            .status(StatusCode::BAD_REQUEST)
            .header("content-type", "text/plain; charset=utf-8")
            .body(b"invalid JSON: http: request body too large\n".to_vec())
            .unwrap_or_default(),
    };
    let (parts, body) = response.into_parts();
    Ok(Response::from_parts(parts, Full::new(Bytes::from(body))))
}

impl LoopbackServer {
    /// Serves `server` (an `Arc<MemoryServer>` or a `MemoryServer`) on a free
    /// port of 127.0.0.1.
    pub fn start(server: impl Into<Arc<MemoryServer>>) -> std::io::Result<LoopbackServer> {
        let server: Arc<MemoryServer> = server.into();
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
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
            })?;
        Ok(LoopbackServer {
            addr,
            prefix: String::new(),
            server,
            connections,
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }

    /// Says the served [`MemoryServer`] is mounted under `prefix` (see
    /// [`MemoryServer::with_prefix`]), so that [`Self::base_url`] includes it.
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

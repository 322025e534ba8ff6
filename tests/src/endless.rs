//! [`EndlessServer`]: a response body that never ends.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// The most body it ever writes to one connection (1 GiB): a safety bound.
pub const ENDLESS_LIMIT: u64 = 1 << 30;

/// Body bytes per write when streaming fast (chunked).
const FAST_CHUNK: usize = 64 * 1024;
/// Body bytes per write, and the pause after each, when streaming slowly
/// (declared length): about 8 MB/s.
const SLOW_CHUNK: usize = 8 * 1024;
const SLOW_PAUSE: Duration = Duration::from_millis(1);

/// A loopback HTTP/1.1 server that answers every request with `200 OK`,
/// `Content-Type: application/json` and a chunked body that starts like a
/// JSON array (`[` and then spaces) and never ends: it stops after 1 GiB,
/// when the client hangs up, or when a write has been blocked for 5 s. It
/// counts the body bytes it wrote, so a test can show that a client gave up
/// at its size cap instead of reading everything.
///
/// With [`EndlessServer::start_with_length`], it declares a `Content-Length`
/// instead (larger than any cap a test sets) and streams slowly, so a
/// client that trusts the declared length fails fast and one that reads on
/// takes long.
///
/// ```
/// let server = mana_sync_testkit::EndlessServer::start()?;
/// assert!(server.base_url().starts_with("http://127.0.0.1:"));
/// assert_eq!(server.bytes_sent(), 0);
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct EndlessServer {
    addr: SocketAddr,
    sent: Arc<AtomicU64>,
    connections: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for EndlessServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EndlessServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

/// Reads up to the end of the request head; `false` if the client left.
fn read_head(stream: &mut TcpStream) -> bool {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return false,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
        if head.len() > 1 << 20 {
            return false;
        }
    }
    true
}

fn stream_forever(
    mut stream: TcpStream,
    declared: Option<u64>,
    sent: &AtomicU64,
    stop: &AtomicBool,
) {
    if !read_head(&mut stream) {
        return;
    }
    let head = match declared {
        Some(len) => format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len}\r\n\r\n"
        ),
        None => "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            .to_owned(),
    };
    if stream.write_all(head.as_bytes()).is_err() {
        return;
    }
    let size = if declared.is_some() {
        SLOW_CHUNK
    } else {
        FAST_CHUNK
    };
    let limit = declared.map_or(ENDLESS_LIMIT, |d| d.min(ENDLESS_LIMIT));
    let mut written = 0u64;
    while written < limit && !stop.load(Ordering::SeqCst) {
        let mut payload = vec![b' '; size];
        if written == 0 {
            payload[0] = b'[';
        }
        let payload_len = payload.len() as u64;
        let bytes = match declared {
            Some(_) => payload,
            None => [
                format!("{:x}\r\n", payload.len()).into_bytes(),
                payload,
                b"\r\n".to_vec(),
            ]
            .concat(),
        };
        if stream.write_all(&bytes).is_err() {
            return;
        }
        written += payload_len;
        sent.fetch_add(payload_len, Ordering::SeqCst);
        if declared.is_some() {
            std::thread::sleep(SLOW_PAUSE);
        }
    }
}

impl EndlessServer {
    /// Starts a chunked endless server on a free port of 127.0.0.1.
    pub fn start() -> std::io::Result<EndlessServer> {
        EndlessServer::spawn(None)
    }

    /// Starts a server that declares `Content-Length: length` and streams
    /// filler slowly.
    pub fn start_with_length(length: u64) -> std::io::Result<EndlessServer> {
        EndlessServer::spawn(Some(length))
    }

    fn spawn(declared: Option<u64>) -> std::io::Result<EndlessServer> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let sent = Arc::new(AtomicU64::new(0));
        let connections = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (s, c, st) = (sent.clone(), connections.clone(), stop.clone());
        let thread = std::thread::Builder::new()
            .name(format!("mana-sync-endless-{}", addr.port()))
            .spawn(move || {
                while !st.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            c.fetch_add(1, Ordering::SeqCst);
                            let _ = stream.set_nonblocking(false);
                            let _ = stream.set_write_timeout(Some(Duration::from_secs(5)));
                            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                            let (s, st) = (s.clone(), st.clone());
                            std::thread::spawn(move || stream_forever(stream, declared, &s, &st));
                        }
                        Err(e) if e.kind() == ErrorKind::WouldBlock => {
                            std::thread::sleep(Duration::from_millis(5));
                        }
                        Err(_) => break,
                    }
                }
            })?;
        Ok(EndlessServer {
            addr,
            sent,
            connections,
            stop,
            thread: Some(thread),
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Body bytes written so far (chunk framing not counted), all
    /// connections together.
    pub fn bytes_sent(&self) -> u64 {
        self.sent.load(Ordering::SeqCst)
    }

    /// How many TCP connections it has accepted.
    pub fn connections_accepted(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

impl Drop for EndlessServer {
    /// Stops accepting and tells the writers to stop (each notices within
    /// one write); does not wait for them.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

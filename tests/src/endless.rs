//! [`EndlessServer`]: a response body that never ends.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// The most it ever writes to one connection (1 GiB): a safety bound.
pub const ENDLESS_LIMIT: u64 = 1 << 30;

/// A loopback HTTP/1.1 server that answers every request with `200`,
/// `Content-Type: application/json`, a chunked body, and then streams filler
/// without end (up to 1 GiB, or until the client hangs up). It counts the
/// body bytes it wrote, so a test can show that a client gave up at its cap
/// instead of reading everything.
///
/// With [`EndlessServer::start_with_length`], it declares a `Content-Length`
/// instead (larger than any cap a test sets) and streams slowly.
pub struct EndlessServer {
    addr: SocketAddr,
    sent: Arc<AtomicU64>,
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
        Some(len) => format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len}\r\n\r\n"),
        None => "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".to_owned(),
    };
    if stream.write_all(head.as_bytes()).is_err() {
        return;
    }
    let filler = vec![b' '; 64 * 1024];
    let chunk = match declared {
        Some(_) => filler.clone(),
        None => [
            format!("{:x}\r\n", filler.len()).into_bytes(),
            filler,
            b"\r\n".to_vec(),
        ]
        .concat(),
    };
    let mut written = 0u64;
    while written < ENDLESS_LIMIT && !stop.load(Ordering::SeqCst) {
        if stream.write_all(&chunk).is_err() {
            return;
        }
        written += chunk.len() as u64;
        sent.fetch_add(chunk.len() as u64, Ordering::SeqCst);
        if declared.is_some() {
            std::thread::sleep(Duration::from_millis(1));
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
        let stop = Arc::new(AtomicBool::new(false));
        let (s, st) = (sent.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !st.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let _ = stream.set_nonblocking(false);
                        let _ = stream.set_write_timeout(Some(Duration::from_secs(5)));
                        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                        let (s, st) = (s.clone(), st.clone());
                        std::thread::spawn(move || stream_forever(stream, declared, &s, &st));
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(5))
                    }
                    Err(_) => break,
                }
            }
        });
        Ok(EndlessServer {
            addr,
            sent,
            stop,
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Body bytes written so far, all connections together.
    pub fn bytes_sent(&self) -> u64 {
        self.sent.load(Ordering::SeqCst)
    }
}

impl Drop for EndlessServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

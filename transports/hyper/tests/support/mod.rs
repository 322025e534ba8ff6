//! A raw HTTP/1.1 server on `127.0.0.1:0` for the transport tests, on std
//! threads (no runtime of its own), and requests to send it.
//!
//! Each transport crate keeps an identical copy (`.ci/run` checks they stay
//! identical), so each packaged crate tests alone, without a dev-dependency
//! on the other or on the testkit.

#![allow(dead_code)]

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// The most an endless body writes before giving up on its own.
pub const ENDLESS_BOUND: u64 = 256 << 20;

/// The token the tests send; no error may ever show it.
pub const TOKEN: &str = "SECRET-TOKEN-0xDEADBEEF";

/// How the server answers.
#[derive(Clone, Debug)]
pub enum Reply {
    /// This status, headers and body, to every request of a kept-alive
    /// connection (`Content-Length` is added).
    Fixed {
        /// The status.
        status: u16,
        /// Extra headers.
        headers: Vec<(String, String)>,
        /// The body.
        body: Vec<u8>,
    },
    /// A 200 with a chunked body (no `Content-Length`) of exactly this many
    /// bytes.
    Chunked(usize),
    /// A 200 with a chunked body that never ends: written until the client
    /// hangs up (or [`ENDLESS_BOUND`] is reached).
    Endless,
    /// A 200 declaring `Content-Length: n`, then nothing: the connection
    /// stays open until the client closes it.
    Declared(u64),
    /// Reads whatever comes (a request, a TLS hello) and never answers.
    Silent,
}

impl Reply {
    /// A `Fixed` reply with a `Content-Type` header.
    pub fn fixed(status: u16, content_type: &str, body: &[u8]) -> Reply {
        Reply::Fixed {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: body.to_vec(),
        }
    }
}

/// A request as the server read it.
#[derive(Clone, Debug)]
pub struct Seen {
    /// Which accepted connection it came on (0, 1, ...).
    pub connection: usize,
    /// `GET`, `POST`, ...
    pub method: String,
    /// The request target, e.g. `/sync/todo/pull?x=1`.
    pub target: String,
    /// Header names (lower case) and values, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Seen {
    /// The first value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A running server. Its threads end with the test process.
pub struct Server {
    addr: SocketAddr,
    accepts: Arc<AtomicUsize>,
    seen: Arc<Mutex<Vec<Seen>>>,
    endless_done: Mutex<Receiver<u64>>,
}

impl Server {
    /// Starts a server answering every connection with `reply`.
    pub fn start(reply: Reply) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let accepts = Arc::new(AtomicUsize::new(0));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (done_tx, done_rx) = channel();
        {
            let accepts = Arc::clone(&accepts);
            let seen = Arc::clone(&seen);
            thread::spawn(move || {
                for stream in listener.incoming() {
                    let Ok(stream) = stream else { continue };
                    let connection = accepts.fetch_add(1, Ordering::SeqCst);
                    let reply = reply.clone();
                    let seen = Arc::clone(&seen);
                    let done_tx = done_tx.clone();
                    thread::spawn(move || {
                        // A client hanging up is how most tests end.
                        let _ = serve(stream, connection, &reply, &seen, &done_tx);
                    });
                }
            });
        }
        Server {
            addr,
            accepts,
            seen,
            endless_done: Mutex::new(done_rx),
        }
    }

    /// `http://127.0.0.1:port`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// How many connections it accepted.
    pub fn accepts(&self) -> usize {
        self.accepts.load(Ordering::SeqCst)
    }

    /// The requests it read, in order.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("lock").clone()
    }

    /// Waits until an endless body stopped (the client hung up, or the
    /// bound was reached) and returns how many body bytes it wrote. The wait
    /// is bounded so that a client that neither reads nor hangs up fails the
    /// test instead of blocking it.
    pub fn endless_written(&self) -> u64 {
        self.endless_done
            .lock()
            .expect("lock")
            .recv_timeout(Duration::from_secs(60))
            .expect("the endless body never stopped: the client kept the connection open")
    }
}

/// A URL nobody listens on.
pub fn closed_port_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local address");
    drop(listener);
    format!("http://{addr}")
}

/// A request with the test token, marked sensitive the way the core marks it.
pub fn request(method: &str, url: &str, body: &[u8]) -> http::Request<Vec<u8>> {
    let mut auth = http::HeaderValue::from_str(&format!("Bearer {TOKEN}")).expect("header value");
    auth.set_sensitive(true);
    let mut builder = http::Request::builder()
        .method(method)
        .uri(url)
        .header(http::header::AUTHORIZATION, auth)
        .header(http::header::ACCEPT, "application/json");
    if !body.is_empty() {
        builder = builder.header(http::header::CONTENT_TYPE, "application/json");
    }
    builder.body(body.to_vec()).expect("a valid request")
}

/// Panics if `error`, shown either way, holds the token.
pub fn assert_no_token(error: &impl std::fmt::Debug) {
    let shown = format!("{error:?}");
    assert!(!shown.contains(TOKEN), "the token leaked: {shown}");
}

fn serve(
    stream: TcpStream,
    connection: usize,
    reply: &Reply,
    seen: &Mutex<Vec<Seen>>,
    done: &Sender<u64>,
) -> io::Result<()> {
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    if let Reply::Silent = reply {
        return drain(&mut reader);
    }
    loop {
        let Some(request) = read_request(&mut reader, connection)? else {
            return Ok(());
        };
        seen.lock().expect("lock").push(request);
        match reply {
            Reply::Fixed {
                status,
                headers,
                body,
            } => {
                let mut head = format!("HTTP/1.1 {status} Whatever\r\n");
                for (name, value) in headers {
                    head.push_str(&format!("{name}: {value}\r\n"));
                }
                head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
                writer.write_all(head.as_bytes())?;
                writer.write_all(body)?;
                writer.flush()?;
            }
            Reply::Chunked(len) => {
                writer.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\
                      Transfer-Encoding: chunked\r\n\r\n",
                )?;
                for piece in vec![b'x'; *len].chunks(1000) {
                    write_chunk(&mut writer, piece)?;
                }
                writer.write_all(b"0\r\n\r\n")?;
                writer.flush()?;
            }
            Reply::Endless => {
                let written = endless(&mut writer);
                let _ = done.send(written);
                return Ok(());
            }
            Reply::Declared(len) => {
                writer.write_all(
                    format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len}\r\n\r\n")
                        .as_bytes(),
                )?;
                writer.flush()?;
                return drain(&mut reader);
            }
            Reply::Silent => return drain(&mut reader),
        }
    }
}

/// Writes 64 KiB chunks until a write fails or the bound is reached;
/// returns the body bytes written.
fn endless(writer: &mut TcpStream) -> u64 {
    let head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                 Transfer-Encoding: chunked\r\n\r\n";
    if writer.write_all(head).is_err() {
        return 0;
    }
    let piece = vec![b' '; 64 << 10];
    let mut written = 0u64;
    while written < ENDLESS_BOUND {
        if write_chunk(writer, &piece).is_err() {
            break;
        }
        written += piece.len() as u64;
    }
    written
}

fn write_chunk(writer: &mut impl Write, piece: &[u8]) -> io::Result<()> {
    writer.write_all(format!("{:x}\r\n", piece.len()).as_bytes())?;
    writer.write_all(piece)?;
    writer.write_all(b"\r\n")
}

/// Reads until the peer closes.
fn drain(reader: &mut impl Read) -> io::Result<()> {
    let mut buf = [0u8; 4096];
    while reader.read(&mut buf)? > 0 {}
    Ok(())
}

/// One request, or `None` when the client closed the connection.
fn read_request(reader: &mut impl BufRead, connection: usize) -> io::Result<Option<Seen>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default().to_string();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    let length = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok(Some(Seen {
        connection,
        method,
        target,
        headers,
        body,
    }))
}

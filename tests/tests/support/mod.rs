//! Raw requests for the server tests: `http::Request` values built by hand,
//! and a minimal HTTP/1.1 client over a TCP socket, so that these tests
//! depend on no client or transport of this workspace.

#![allow(dead_code, clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use http::{Method, Request, Response};
use mana_sync_testkit::token_for;
use serde_json::Value;

/// The user every test acts as unless it says otherwise.
pub const USER: &str = "u-1";

/// A request with an optional bearer token for `user` and an optional
/// `X-Client-Id`.
pub fn request(
    method: Method,
    uri: &str,
    user: Option<&str>,
    client: Option<&str>,
    body: impl Into<Vec<u8>>,
) -> Request<Vec<u8>> {
    let mut b = Request::builder().method(method).uri(uri);
    if let Some(client) = client {
        b = b.header("x-client-id", client);
    }
    if let Some(user) = user {
        b = b.header("authorization", format!("Bearer {}", token_for(user)));
    }
    b.body(body.into()).unwrap()
}

/// A request with this exact `Authorization` header.
pub fn with_authorization(method: Method, uri: &str, authorization: &str) -> Request<Vec<u8>> {
    Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", authorization)
        .header("x-client-id", "c")
        .body(Vec::new())
        .unwrap()
}

/// `POST /sync/todo` as [`USER`] from `client`.
pub fn push(client: &str, body: &Value) -> Request<Vec<u8>> {
    request(
        Method::POST,
        "/sync/todo",
        Some(USER),
        Some(client),
        body.to_string(),
    )
}

/// `GET /sync/todo/pull?{query}` as [`USER`] from `client`.
pub fn pull(client: &str, query: &str) -> Request<Vec<u8>> {
    request(
        Method::GET,
        &format!("/sync/todo/pull?{query}"),
        Some(USER),
        Some(client),
        Vec::new(),
    )
}

/// The body as text.
pub fn text(r: &Response<Vec<u8>>) -> &str {
    std::str::from_utf8(r.body()).unwrap()
}

/// The body as JSON.
pub fn json(r: &Response<Vec<u8>>) -> Value {
    serde_json::from_slice(r.body()).unwrap()
}

/// Status, content type and body, for one-line assertions.
pub fn summary(r: &Response<Vec<u8>>) -> (u16, String, String) {
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (r.status().as_u16(), ct, text(r).to_owned())
}

/// `(400, "text/plain; charset=utf-8", "{body}\n")`: how `http.Error` answers.
pub fn plain(status: u16, body: &str) -> (u16, String, String) {
    (
        status,
        "text/plain; charset=utf-8".into(),
        format!("{body}\n"),
    )
}

/// A change of `table` inserting `{"n": i}` with id `r-{i:04}`.
pub fn insert(table: &str, i: usize) -> Value {
    serde_json::json!({"table": table, "id": format!("r-{i:04}"), "op": "insert", "data": {"n": i}})
}

/// One HTTP/1.1 answer read off a socket.
#[derive(Debug)]
pub struct RawResponse {
    /// The status line, without CRLF.
    pub status_line: String,
    /// The header lines, lower-cased names.
    pub headers: Vec<(String, String)>,
    /// The body (by `Content-Length`).
    pub body: Vec<u8>,
}

impl RawResponse {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A keep-alive HTTP/1.1 connection that sends raw requests.
pub struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    /// Connects to `addr`.
    pub fn open(addr: SocketAddr) -> Conn {
        let stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        Conn {
            stream,
            buf: Vec::new(),
        }
    }

    /// Sends `head` (request line and headers, without the blank line)
    /// with `Content-Length` and `body`; does not read.
    pub fn send(&mut self, head: &str, body: &[u8]) {
        let head = format!(
            "{head}\r\nhost: test\r\ncontent-length: {}\r\n\r\n",
            body.len()
        );
        // A closed connection shows when reading.
        let _ = self.stream.write_all(head.as_bytes());
        let _ = self.stream.write_all(body);
    }

    fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 64 * 1024];
        match self.stream.read(&mut chunk) {
            Ok(0) | Err(_) => false,
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                true
            }
        }
    }

    /// Reads one response; `None` if the server closed the connection
    /// without one.
    pub fn read(&mut self) -> Option<RawResponse> {
        let end = loop {
            if let Some(i) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i;
            }
            if !self.fill() {
                return None;
            }
        };
        let head = String::from_utf8(self.buf[..end].to_vec()).unwrap();
        self.buf.drain(..end + 4);
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap().to_owned();
        let headers: Vec<(String, String)> = lines
            .map(|l| {
                let (n, v) = l.split_once(':').unwrap();
                (n.trim().to_ascii_lowercase(), v.trim().to_owned())
            })
            .collect();
        let len: usize = headers
            .iter()
            .find(|(n, _)| n == "content-length")
            .map_or(0, |(_, v)| v.parse().unwrap());
        while self.buf.len() < len {
            if !self.fill() {
                return None;
            }
        }
        let body = self.buf.drain(..len).collect();
        Some(RawResponse {
            status_line,
            headers,
            body,
        })
    }

    /// Sends a request and reads its response.
    pub fn exchange(&mut self, head: &str, body: &[u8]) -> Option<RawResponse> {
        self.send(head, body);
        self.read()
    }

    /// The socket, for tests that read it themselves.
    pub fn stream(&mut self) -> &mut TcpStream {
        &mut self.stream
    }
}

/// `Authorization` header line for [`USER`].
pub fn auth_line() -> String {
    format!("authorization: Bearer {}", token_for(USER))
}

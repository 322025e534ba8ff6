//! [`EndlessServer`] read by hand: the head it sends, the body that starts
//! like JSON and goes on, and the count that shows where a client stopped.

#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use mana_sync_testkit::EndlessServer;

/// Sends a GET, reads `want` bytes (head included), hangs up; returns them.
fn read_then_hang_up(server: &EndlessServer, want: usize) -> Vec<u8> {
    let mut stream = TcpStream::connect(server.addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
        .write_all(b"GET /sync/todo/pull?collection=t&since=x HTTP/1.1\r\nhost: t\r\n\r\n")
        .unwrap();
    let mut got = vec![0u8; want];
    stream.read_exact(&mut got).unwrap();
    got
}

/// Waits until the count stops moving, and returns it.
fn settled(server: &EndlessServer) -> u64 {
    let mut last = server.bytes_sent();
    loop {
        std::thread::sleep(Duration::from_millis(50));
        let now = server.bytes_sent();
        if now == last {
            return now;
        }
        last = now;
    }
}

#[test]
fn a_chunked_body_without_end() {
    let server = EndlessServer::start().unwrap();
    let got = read_then_hang_up(&server, 1 << 20);
    let text = String::from_utf8_lossy(&got[..200]);
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert_eq!(
        head,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked"
    );
    let (size, data) = body.split_once("\r\n").unwrap();
    assert_eq!(size, "10000", "64 KiB chunks");
    assert!(data.starts_with("[    "), "{data:?}");
    // The writer stops once the client is gone: far below the 1 GiB bound.
    let sent = settled(&server);
    assert!((1 << 19..64 << 20).contains(&sent), "{sent}");
    assert_eq!(server.connections_accepted(), 1);
}

#[test]
fn a_declared_length_over_any_cap() {
    let server = EndlessServer::start_with_length(1 << 40).unwrap();
    let got = read_then_hang_up(&server, 100);
    let text = String::from_utf8_lossy(&got);
    assert!(
        text.starts_with("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1099511627776\r\n\r\n["),
        "{text:?}"
    );
    assert!(settled(&server) < 8 << 20);
}

//! A TLS (rustls) HTTP/1.1 server on `127.0.0.1:0` with a fresh self-signed
//! certificate (rcgen) for `127.0.0.1`, on std threads: it answers every
//! request with a health body and counts the requests it answered. Shared by
//! both transport crates' TLS tests (`#[path]`).

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

/// The body every request gets.
pub const HEALTH: &str = r#"{"status":"ok","service":"mana-sync","timestamp":"2026-11-24T22:21:43Z","connections":0,"users":0}"#;

/// A running TLS server.
pub struct TlsServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its certificate (DER), self-signed: the root a client must trust.
    pub certificate: Vec<u8>,
    answered: Arc<AtomicUsize>,
}

impl TlsServer {
    /// Starts it.
    pub fn start() -> TlsServer {
        let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
        let der = cert.cert.der().to_vec();
        let key =
            rustls::pki_types::PrivateKeyDer::try_from(cert.key_pair.serialize_der()).unwrap();
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![der.clone().into()], key)
        .unwrap();
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let answered = Arc::new(AtomicUsize::new(0));
        let count = answered.clone();
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut tcp) = stream else { continue };
                let config = config.clone();
                let count = count.clone();
                thread::spawn(move || {
                    let _ = tcp.set_read_timeout(Some(Duration::from_secs(10)));
                    let Ok(conn) = rustls::ServerConnection::new(config) else {
                        return;
                    };
                    let mut tls = rustls::StreamOwned::new(conn, &mut tcp);
                    let mut head = Vec::new();
                    let mut byte = [0u8; 1];
                    // A client that refuses the certificate ends here.
                    while !head.ends_with(b"\r\n\r\n") {
                        match tls.read(&mut byte) {
                            Ok(1) => head.push(byte[0]),
                            _ => return,
                        }
                    }
                    let reply = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{HEALTH}",
                        HEALTH.len()
                    );
                    // Counted before the reply is sent, so a client that has
                    // its answer always sees the count.
                    count.fetch_add(1, Ordering::SeqCst);
                    let _ = tls.write_all(reply.as_bytes()).and_then(|()| tls.flush());
                    tls.conn.send_close_notify();
                    let _ = tls.flush();
                });
            }
        });
        TlsServer {
            addr,
            certificate: der,
            answered,
        }
    }

    /// `https://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// How many requests it read whole (and answered).
    pub fn answered(&self) -> usize {
        self.answered.load(Ordering::SeqCst)
    }
}

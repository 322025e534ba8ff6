//! # mana-sync-hyper
//!
//! The async transport of the mana-sync client: [hyper] 1 through
//! hyper-util's pooled client (HTTP/1.1 and HTTP/2, connections reused),
//! rustls (ring, webpki roots), on tokio. It sends what the core builds and
//! returns every response, whatever its status, with its whole body up to a
//! cap; timeouts and the cap come from [`TransportOptions`]. It has no
//! protocol logic.
//!
//! **It needs a tokio runtime** with the IO and time drivers enabled (what
//! `#[tokio::main]` and `#[tokio::test]` give): hyper-util's pooled client
//! spawns its connection tasks on the current runtime, so its futures must
//! be awaited inside one. Building a client does not need a runtime. The
//! client's futures are `Send`, so it can be cloned into spawned tasks of a
//! multi-threaded runtime; clones share one connection pool.
//!
//! Timeouts and the cap: [`TransportOptions`] (connect 10 s, covering DNS,
//! TCP and TLS; total 60 s per exchange; bodies up to 64 MiB, enforced while
//! reading). This crate re-exports the core ([`core`]) and its main types, so
//! it is the only dependency an application needs.
//!
//! ```no_run
//! use mana_sync_hyper::{Config, Cursor};
//!
//! # async fn run() -> Result<(), mana_sync_hyper::Error> {
//! let config = Config::new("https://sync.example.com", "<jwt>", "my-agent")?;
//! let client = mana_sync_hyper::client(config)?;
//! let all = client.pull_all("todo", "tasks", &Cursor::EPOCH).await?;
//! println!("{} changes, resume from {}", all.changes.len(), all.cursor);
//! # Ok(())
//! # }
//! ```
//!
//! With other limits:
//!
//! ```no_run
//! use std::time::Duration;
//! use mana_sync_hyper::{Config, TransportOptions};
//!
//! # fn build() -> Result<mana_sync_hyper::Client, mana_sync_hyper::Error> {
//! let options = TransportOptions::default()
//!     .connect_timeout(Duration::from_secs(3))
//!     .total_timeout(Duration::from_secs(20))
//!     .max_response_bytes(16 << 20);
//! let config = Config::new("https://sync.example.com", "<jwt>", "my-agent")?;
//! mana_sync_hyper::client_with(config, options)
//! # }
//! ```

mod transport;

pub use mana_sync_core as core;
pub use mana_sync_core::{
    ops, wire, AsyncClient, Change, Config, Conflict, Cursor, Error, FieldChange, Health, Op,
    Origin, Stamp, SyncResponse, TimeoutKind, Timestamp, Token, TransportError, TransportOptions,
};
pub use transport::{HyperBody, HyperTransport};

/// An async client over hyper.
pub type Client = AsyncClient<HyperTransport>;

/// An async client with the default [`TransportOptions`] (connect 10 s,
/// total 60 s, responses up to 64 MiB).
pub fn client(config: Config) -> Result<Client, Error> {
    client_with(config, TransportOptions::default())
}

/// An async client with the given options.
///
/// Fails only if rustls refuses the TLS configuration
/// ([`Error::InvalidConfig`]).
pub fn client_with(config: Config, options: TransportOptions) -> Result<Client, Error> {
    Ok(AsyncClient::new(config, HyperTransport::new(options)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>(_: &T) {}

    /// Checked at compile time: the futures are only built, never polled.
    #[test]
    fn client_futures_are_send() {
        let config = Config::new("http://127.0.0.1:9", "t", "c").unwrap_or_else(|e| panic!("{e}"));
        let client = client(config).unwrap_or_else(|e| panic!("{e}"));
        let changes: Vec<Change> = Vec::new();
        assert_send(&client.push("todo", &changes, &Cursor::EPOCH));
        assert_send(&client.pull("todo", "tasks", &Cursor::EPOCH));
        assert_send(&client.pull_all("todo", "tasks", &Cursor::EPOCH));
        assert_send(&client.health());
        let request = http::Request::new(Vec::new());
        assert_send(&mana_sync_core::AsyncTransport::send(
            client.transport(),
            request,
        ));
    }
}

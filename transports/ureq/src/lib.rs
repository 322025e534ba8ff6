//! # mana-sync-ureq
//!
//! The blocking transport of the mana-sync client: [ureq] 3 with rustls
//! (webpki roots). It sends what the core builds and returns every response,
//! whatever its status, with its whole body up to a cap; timeouts and the cap
//! come from [`TransportOptions`]. It has no protocol logic.
//!
//! Timeouts and the cap: [`TransportOptions`] (connect 10 s, covering DNS,
//! TCP and TLS; total 60 s per exchange; bodies up to 64 MiB, enforced while
//! reading). The client is `Clone`; clones share one connection pool. This
//! crate re-exports the core ([`core`]) and its main types, so it is the only
//! dependency an application needs.
//!
//! ```no_run
//! use mana_sync_ureq::{Config, Cursor};
//!
//! let config = Config::new("https://sync.example.com", "<jwt>", "my-tool")?;
//! let client = mana_sync_ureq::client(config)?;
//! let all = client.pull_all("todo", "tasks", &Cursor::EPOCH)?;
//! println!("{} changes, resume from {}", all.changes.len(), all.cursor);
//! # Ok::<(), mana_sync_ureq::Error>(())
//! ```
//!
//! With other limits:
//!
//! ```no_run
//! use std::time::Duration;
//! use mana_sync_ureq::{Config, TransportOptions};
//!
//! let options = TransportOptions::default()
//!     .connect_timeout(Duration::from_secs(3))
//!     .total_timeout(Duration::from_secs(20))
//!     .max_response_bytes(16 << 20);
//! let config = Config::new("https://sync.example.com", "<jwt>", "my-tool")?;
//! let client = mana_sync_ureq::client_with(config, options)?;
//! # let _ = client;
//! # Ok::<(), mana_sync_ureq::Error>(())
//! ```
//!
//! ## Logging
//!
//! The mana-sync crates log nothing. ureq logs through the `log` crate, with
//! headers and paths redacted at `DEBUG`; but at `TRACE` its protocol crate
//! (target `ureq_proto`) dumps every byte on the wire in hex, the
//! `Authorization: Bearer` token and the vault's master key included. An
//! application that installs a logger must keep `ureq_proto` below `TRACE`
//! (e.g. `RUST_LOG=trace,ureq_proto=off` with `env_logger`).

mod transport;

pub use mana_sync_core as core;
pub use mana_sync_core::{
    ops, wire, BlockingClient, Change, Config, Conflict, Cursor, Error, FieldChange, Health, Op,
    Origin, Stamp, SyncResponse, TimeoutKind, Timestamp, Token, TransportError, TransportOptions,
};
pub use transport::{UreqBody, UreqTransport};

/// A blocking client over ureq.
pub type Client = BlockingClient<UreqTransport>;

/// A blocking client with the default [`TransportOptions`] (connect 10 s,
/// total 60 s, responses up to 64 MiB).
pub fn client(config: Config) -> Result<Client, Error> {
    client_with(config, TransportOptions::default())
}

/// A blocking client with the given options. It cannot fail today; the
/// `Result` matches `mana_sync_hyper::client_with`.
pub fn client_with(config: Config, options: TransportOptions) -> Result<Client, Error> {
    Ok(BlockingClient::new(config, UreqTransport::new(options)))
}

//! # mana-sync-ureq
//!
//! The blocking transport of the mana-sync client: [ureq] 3 with rustls
//! (webpki roots). It sends what the core builds and returns every response,
//! whatever its status, with its whole body up to a cap; timeouts and the cap
//! come from [`TransportOptions`]. It has no protocol logic.
//!
//! ```no_run
//! use mana_sync_ureq::{Config, Cursor};
//!
//! let client = mana_sync_ureq::client(Config::new("https://sync.example.com", "<jwt>", "my-tool")?)?;
//! let all = client.pull_all("todo", "tasks", &Cursor::EPOCH)?;
//! println!("{} changes, resume from {}", all.changes.len(), all.cursor);
//! # Ok::<(), mana_sync_ureq::Error>(())
//! ```

mod transport;

pub use mana_sync_core as core;
pub use mana_sync_core::{
    ops, wire, BlockingClient, Change, Config, Cursor, Error, FieldChange, Op, Origin, Stamp,
    SyncResponse, Timestamp, Token, TransportError, TransportOptions,
};
pub use transport::UreqTransport;

/// A blocking client over ureq.
pub type Client = BlockingClient<UreqTransport>;

/// A blocking client with the default [`TransportOptions`] (connect 10 s,
/// total 60 s, responses up to 64 MiB).
pub fn client(config: Config) -> Result<Client, Error> {
    client_with(config, TransportOptions::default())
}

/// A blocking client with the given options.
pub fn client_with(config: Config, options: TransportOptions) -> Result<Client, Error> {
    Ok(BlockingClient::new(config, UreqTransport::new(options)))
}

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
//! crate re-exports everything an application touches (the core's types,
//! the crypto functions, [`Replica`], [`Map`]/[`Value`], ...), flat and in
//! a [`prelude`], so it is the only dependency an application needs.
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
//! One import for an application: the [`prelude`] (or any item by name
//! from this crate, flat). A glob import of the whole crate leaves Rust's
//! own `core` alone:
//!
//! ```
//! use mana_sync_ureq::prelude::*;
//!
//! let tasks: TableSpec<Value> = TableSpec::new("todo", "tasks").encrypted(&["title"]);
//! let key = MasterKey::from_bytes(&[7; 32])?;
//! let mut record: Map<String, Value> = Map::new();
//! record.insert("title".into(), json!("Buy milk"));
//! encrypt_fields(&key, &mut record, &["title"], &mut OsRng)?;
//! let mut replica = Replica::new();
//! replica.apply_all(&[Change::insert("tasks", "t-1", record)]);
//! assert_eq!(replica.records("tasks").count(), 1);
//! # let _ = (tasks, RetryPolicy::none());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ```
//! use mana_sync_ureq::*;
//! assert_eq!(core::mem::size_of::<u32>(), 4); // still Rust's `core`
//! let _ = mana_sync_core::limits::MAX_CHANGES_PER_PUSH; // the whole core, by its name
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

// One import surface: everything an application touches, flat, so that
// `use mana_sync_ureq::prelude::*;` (or naming items from this crate) is all it
// needs. The core stays reachable whole as `mana_sync_core` (never as
// `core`, which would shadow Rust's own under a glob import).
pub use mana_sync_core;
pub use mana_sync_core::surface::*;
pub use mana_sync_core::BlockingTransport;

/// What an application uses, for a glob import:
/// `use mana_sync_ureq::prelude::*;`. Names nothing that shadows the standard
/// library or Rust's prelude.
pub mod prelude {
    pub use crate::{
        client, decrypt_fields, encrypt_fields, json, Batch, Change, Client, Config, Cursor, Error,
        Listing, Map, MasterKey, OsRng, Patch, Record, Replica, RetryPolicy, StreamEvent,
        TableSpec, Timestamp, Value,
    };
    // App code generic over the transport (`fn sync<T: BlockingTransport>(client: &BlockingClient<T>)`)
    // runs against the real transport and, in its tests, the testkit's
    // `InProcess`.
    pub use crate::{BlockingClient, BlockingTransport};
}

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

// The README's examples run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeExamples;

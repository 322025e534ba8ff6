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
//! reading). This crate re-exports everything an application touches (the core's
//! types, the crypto functions, [`Replica`], [`Map`]/[`Value`], ...), flat
//! and in a [`prelude`], so it is the only dependency an application needs.
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
//!
//! One import for an application: the [`prelude`] (or any item by name
//! from this crate, flat). A glob import of the whole crate leaves Rust's
//! own `core` alone:
//!
//! ```
//! use mana_sync_hyper::prelude::*;
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
//! use mana_sync_hyper::*;
//! assert_eq!(core::mem::size_of::<u32>(), 4); // still Rust's `core`
//! let _ = mana_sync_core::limits::MAX_CHANGES_PER_PUSH; // the whole core, by its name
//! ```

mod transport;

// One import surface: everything an application touches, flat, so that
// `use mana_sync_hyper::prelude::*;` (or naming items from this crate) is all it
// needs. The core stays reachable whole as `mana_sync_core` (never as
// `core`, which would shadow Rust's own under a glob import).
pub use mana_sync_core;
pub use mana_sync_core::surface::*;
pub use mana_sync_core::AsyncTransport;

/// `.next().await` on the client's streams (from `futures-util`).
pub use futures_util::StreamExt;

/// What an application uses, for a glob import:
/// `use mana_sync_hyper::prelude::*;`. Names nothing that shadows the standard
/// library or Rust's prelude.
pub mod prelude {
    pub use crate::{
        client, decrypt_fields, encrypt_fields, json, Batch, Change, Client, Config, Cursor, Error,
        Listing, Map, MasterKey, OsRng, Patch, Record, Replica, RetryPolicy, StreamEvent,
        TableSpec, Timestamp, Value,
    };
    // App code generic over the transport (`fn sync<T: AsyncTransport>(client: &AsyncClient<T>)`)
    // runs against the real transport and, in its tests, the testkit's
    // `InProcess`.
    pub use crate::{AsyncClient, AsyncTransport};
    pub use futures_util::StreamExt;
}

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
        let table: TableSpec<Value> = TableSpec::new("todo", "tasks");
        let batch = client.batch("todo");
        assert_send(&client.push_batch(&batch));
        assert_send(&client.list(&table, None));
        assert_send(&client.update(&table, "t-1", table.patch(), None));
        let request = http::Request::new(Vec::new());
        assert_send(&mana_sync_core::AsyncTransport::send(
            client.transport(),
            request,
        ));
    }
}

// The README's examples run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeExamples;

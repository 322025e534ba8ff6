//! # mana-sync-core
//!
//! The sans-IO core of the Rust client for the mana-sync protocol (the push/pull
//! sync protocol of the Mana local-first apps).
//!
//! Everything the protocol knows lives here, as plain values and state machines:
//!
//! * [`wire`]: the JSON the server speaks ([`Change`], [`SyncResponse`], ...);
//! * [`Timestamp`], [`Cursor`] and [`Stamp`]: the three kinds of time on the wire;
//! * [`crypto`]: the browser's `enc:1:` field encryption and [`crypto::MasterKey`];
//!   [`KeyCache`] keeps master keys per user for a few minutes;
//! * [`fold`]: changes folded into records, field-level last-write-wins, as the
//!   browser does it ([`fold::Replica`]);
//! * [`TableSpec`]: a typed table (your record type, its encrypted fields),
//!   written with [`Patch`]es checked against the type and [`Batch`]es
//!   pushed as one operation, read as a [`Listing`] that reports the
//!   records that do not decode;
//! * [`ops`]: operations ([`ops::Push`], [`ops::Pull`], [`ops::PullAll`],
//!   [`ops::Health`], [`ops::VaultKey`]) that build [`http::Request`] values and read
//!   [`http::Response`] values, with no sockets, no clock and no randomness:
//!   the current time is an argument to [`Operation::step`];
//! * [`BlockingClient`] and [`AsyncClient`]: thin facades that drive operations
//!   over any [`BlockingTransport`] / [`AsyncTransport`]. The crates
//!   `mana-sync-ureq` (blocking) and `mana-sync-hyper` (async) provide the
//!   network transports; `mana-sync-testkit` provides an in-process one.
//!
//! ## Driving an operation by hand
//!
//! ```
//! # use mana_sync_core::surface as mana_sync_ureq;
//! use mana_sync_ureq::{Config, Cursor, Operation, Step, Timestamp};
//! use mana_sync_ureq::ops::Pull;
//!
//! let config = Config::new("https://sync.example.com/api/", "token", "my-agent")?;
//! let now = Timestamp::parse("2026-04-23T11:18:35.000Z")?;
//! let mut pull = Pull::new(&config, "todo", "tasks", &Cursor::EPOCH)?;
//! let Step::Send(request) = pull.step(now) else { unreachable!() };
//! assert_eq!(
//!     request.uri(),
//!     "https://sync.example.com/api/sync/todo/pull?collection=tasks&since=1970-01-01T00%3A00%3A00.000Z"
//! );
//!
//! let body = r#"{"serverChanges":[],"conflicts":[],"syncedUntil":"2026-04-23T11:18:36.123456789Z"}"#;
//! let response = http::Response::builder().status(200).body(body.as_bytes().to_vec())?;
//! pull.on_response(now, Ok(response));
//! let Step::Done(Ok(page)) = pull.step(now) else { unreachable!() };
//! assert_eq!(page.synced_until.as_str(), "2026-04-23T11:18:36.123456789Z");
//! assert!(!page.has_more);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod batch;
pub mod client;
mod clock;
mod config;
pub mod crypto;
mod depth;
mod endpoint;
pub mod engine;
mod error;
pub mod fold;
pub mod guard;
mod key_cache;
mod operation;
pub mod ops;
mod patch;
mod response;
pub mod retry;
mod rfc3339;
mod scrub;
pub mod sse;
mod stamp;
pub mod surface;
mod table;
mod timestamp;
mod token;
mod transport;
pub mod wire;

/// The date and time crate behind [`Timestamp`] (`From` both ways).
pub use jiff;

pub use batch::Batch;
pub use client::{AsyncClient, BlockingClient, SharedKeyCache};
pub use clock::{Clock, SystemClock};
pub use config::{BaseUrl, Config};
pub use error::{Error, TimeoutKind, TransportError};
pub use key_cache::KeyCache;
pub use operation::{Operation, Step};
pub use patch::Patch;
pub use retry::{RetryPolicy, TokenSource};
pub use stamp::Stamp;
pub use table::{BadRecord, Listing, TableSpec};
pub use timestamp::{Cursor, Timestamp, TimestampError};
pub use token::Token;
pub use transport::{AsyncBody, AsyncTransport, BlockingBody, BlockingTransport, TransportOptions};
pub use wire::{
    Change, ChangeRef, Changes, Conflict, FieldChange, Health, Op, Origin, SkippedChange,
    StreamBatch, StreamMessage, SyncResponse,
};

/// The server's limits, as docs/PROTOCOL.md states them.
pub mod limits {
    /// Most changes the browser client sends in one push request.
    pub const MAX_CHANGES_PER_PUSH: usize = 200;
    /// The server refuses request bodies larger than this (10 MiB).
    pub const MAX_REQUEST_BODY_BYTES: usize = 10 * 1024 * 1024;
    /// A push response holding exactly this many changes may be truncated.
    pub const PUSH_RESPONSE_CAP: usize = 5000;
    /// Most changes in one pull page.
    pub const PULL_PAGE_SIZE: usize = 1000;
    /// The longest client id a [`crate::Config`] accepts, in bytes (it goes
    /// in the `X-Client-Id` header and in every push body).
    pub const MAX_CLIENT_ID_BYTES: usize = 1024;
    /// Error bodies are trimmed to this many characters in errors.
    pub const ERROR_BODY_CHARS: usize = 500;
    /// The most nested containers (arrays and objects) this client reads or
    /// walks in one JSON value, the value itself counted: a change (its own
    /// object level 1), a field value given to [`crate::Patch::set`], a
    /// value pushed or encrypted. Exactly 127 levels are accepted: what
    /// serde_json reads by default, so that whatever this client keeps or
    /// writes, `serde_json::from_str` reads back. A change nested deeper is
    /// skipped ("nested deeper than 127 levels"),
    /// a caller's value nested deeper is refused with
    /// [`crate::Error::InvalidRequest`]. Every recursive walk over caller or
    /// server data keeps to it, so none can exhaust the stack.
    pub const MAX_DEPTH: usize = 127;
}

// The README's examples run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeExamples;

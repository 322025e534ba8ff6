//! # mana-sync-testkit
//!
//! Everything needed to test code that talks mana-sync, without a network or
//! a real server:
//!
//! * [`MemoryServer`]: the server in memory, faithful to the protocol
//!   (`docs/PROTOCOL.md` of the repository), as a
//!   function from `http::Request` to `http::Response`;
//! * [`InProcess`]: a transport (blocking and async) that hands requests
//!   straight to a [`MemoryServer`], with a [`ManualClock`], so an app's own
//!   unit tests drive the real clients deterministically;
//! * [`LoopbackServer`]: the same server over real HTTP on 127.0.0.1, for
//!   transport tests and demos (the feature `loopback`, on by default: with
//!   `default-features = false` the testkit has no hyper, tokio or h2);
//! * [`EndlessServer`]: a server whose response body never ends, for
//!   size-cap tests;
//! * [`FaultPlan`]: seeded faults (closed connections, pushes stored and
//!   unanswered or failed part-way, cut bodies, stalls, 429, a proxy's
//!   HTML 502), acted out in process and on the loopback server
//!   ([`MemoryServer::set_fault_plan`]);
//! * [`Races`]: the real server's races (rows with equal times, late
//!   commits), switched on with [`MemoryServer::set_races`];
//! * [`MemoryServer::with_data_file`]: the change log kept in an
//!   append-only file, and [`Cors`]: CORS for browsers, for a local
//!   development server;
//! * [`token_for`] and [`token_with_claims`]: JWTs for a user id (the
//!   server decodes them and checks `exp`/`nbf`; it does not verify
//!   signatures).

mod clock;
mod cors;
mod endless;
mod endpoint;
mod faults;
mod go_json;
mod go_time;
mod in_process;
mod jwt;
mod log;
#[cfg(feature = "loopback")]
mod loopback;
mod persist;
mod push_body;
mod races;
mod routing;
mod server;
mod stream;

pub use clock::ManualClock;
pub use cors::{Cors, CORS_HEADERS, CORS_METHODS};
pub use endless::{EndlessServer, ENDLESS_LIMIT};
pub use endpoint::Endpoint;
pub use faults::{Fault, FaultPlan};
pub use in_process::InProcess;
pub use jwt::{token_for, token_with_claims};
#[cfg(feature = "loopback")]
pub use loopback::LoopbackServer;
pub use persist::DataFileReport;
pub use races::Races;
pub use server::{
    KeyMinter, MemoryServer, Received, Vault, DEFAULT_KEPT_REQUESTS, MAX_BODY_BYTES, PULL_PAGE,
    PUSH_RESPONSE_CAP,
};
pub use stream::StreamSession;

use mana_sync_core::Timestamp;

/// The instant a [`ManualClock::default`] and [`MemoryServer::new`] start at:
/// 2026-01-01T00:00:00Z.
pub fn start_time() -> Timestamp {
    Timestamp::from_unix_millis(1_767_225_600_000).unwrap_or(Timestamp::UNIX_EPOCH)
}

// The workspace README's examples run as doc tests (from the repository:
// the file is outside this package), and so do this crate's README's.
#[cfg(all(doctest, feature = "loopback"))]
#[doc = include_str!("../../README.md")]
pub struct ReadmeExamples;

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct CrateReadmeExamples;

//! # mana-sync-apps
//!
//! The Mana apps out of the box, on top of `mana-sync-core`:
//!
//! * [`Registry`]: which fields the browser encrypts, per app and wire
//!   collection: a byte-for-byte copy of the shared `mana-apps.json`
//!   (`../shared/registry/`), embedded and parsed once, with the browser's
//!   table names, plaintext tables and disabled entries, and a
//!   [`TableSpec`](mana_sync_core::TableSpec) for any registered
//!   collection;
//! * the plaintext guard: [`guarded`] gives a config whose every push is
//!   refused, before anything is sent, if it would send a registry-encrypted
//!   field in plaintext ([`mana_sync_core::guard`]).
//!
//! ```
//! use mana_sync_apps::{guarded, Registry};
//! use mana_sync_core::{Config, Error};
//! use mana_sync_testkit::{token_for, InProcess};
//!
//! let registry = Registry::get();
//! assert_eq!(registry.encrypted("todo", "tasks")?, ["title", "description", "subtasks", "metadata"]);
//!
//! let net = InProcess::default();
//! let client = net.blocking_client(guarded(Config::new("http://mana.test", token_for("u-1"), "my-tool")?));
//! let task = serde_json::json!({"title": "Buy milk"}).as_object().cloned().unwrap_or_default();
//! let err = client.push_insert("todo", "tasks", "t-1", task).unwrap_err();
//! assert!(matches!(err, Error::PlaintextField { .. }));
//! assert_eq!(net.server().request_count(), 0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod client_id;
pub mod records;
mod registry;
pub mod tools;

pub use client_id::installation_client_id;
pub use registry::{guarded, App, Collection, Registry, UnknownCollection, MANA_APPS_JSON};

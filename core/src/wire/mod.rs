//! The JSON the mana-sync server speaks, as Rust types.
//!
//! Every type here ignores members it does not know (so that a newer server
//! does not break an older client), omits absent optional members when
//! written, and keeps `actor` as opaque JSON.

mod change;
mod changeset;
mod conflict;
mod envelope;
mod field;
mod health;
mod names;
mod stream;

pub use change::Change;
pub use changeset::Changeset;
pub use conflict::Conflict;
pub use envelope::SyncResponse;
pub use field::FieldChange;
pub use health::Health;
pub use names::{Op, Origin};
pub use stream::{StreamBatch, StreamMessage};

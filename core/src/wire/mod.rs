//! The JSON the mana-sync server speaks, as Rust types.
//!
//! Every type here ignores members it does not know (so that a newer server
//! does not break an older client), omits absent optional members when
//! written, keeps `actor` as opaque JSON, and is read from a JSON object
//! only (never from serde's array form of a struct).

mod change;
mod change_pages;
mod changes;
mod changeset;
mod conflict;
#[cfg(test)]
mod differential;
mod envelope;
mod field;
mod health;
pub(crate) mod lenient;
mod names;
mod object_form;
mod scan;
pub(crate) use object_form::{map_only, object_form};
mod skipped;
mod stream;
mod written;
pub(crate) use written::{
    Data as WrittenData, DataMembers, FieldMembers, Fields as WrittenFields, Written,
};

pub use change::Change;
pub use change_pages::{ChangePages, PagesIter};
pub use changes::{ChangeRef, Changes, IntoIter, Iter};
pub use changeset::Changeset;
pub use conflict::Conflict;
pub use envelope::SyncResponse;
pub use field::FieldChange;
pub use health::Health;
pub use names::{Op, Origin};
pub use skipped::SkippedChange;
pub use stream::{StreamBatch, StreamMessage};

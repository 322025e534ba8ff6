//! The protocol's operations, each an [`crate::Operation`].

mod dedup;
mod exchange;
mod health;
mod pull;
mod pull_all;
mod pull_into;
mod push;
mod stream;
mod vault_key;

pub use health::Health;
pub use pull::Pull;
pub use pull_all::{PullAll, PullAllOutcome, DEFAULT_MAX_PAGES};
pub use pull_into::PullInto;
pub use push::{Push, PushOutcome};
pub use stream::{
    ChangeBatch, Stream, StreamEvent, StreamStep, DEFAULT_MAX_STALLED, DEFAULT_RECHECK_EVERY,
    DEFAULT_STALL_AFTER,
};
pub use vault_key::VaultKey;

//! The offline-first engine: a durable local replica and outbox that sync in
//! the background, as a sans-IO state machine ([`Engine`]) over a
//! [`Store`].
//!
//! The app writes locally and at once ([`Engine::write`] and the typed
//! [`Engine::create`] / [`Engine::update`] / [`Engine::delete`]): the
//! record, its stamps and the outbox entry are one store commit. It reads
//! locally ([`Engine::record`], [`Engine::list`]). A driver carries out the
//! engine's [`Instruction`]s (send this request, ask for a token, wait
//! until) and feeds back the answers; time is an argument of every call and
//! the jitter's generator a setting, so a test drives it deterministically.
//!
//! What it guarantees, and its limits:
//!
//! * a write whose call returned is in the store and stays in the outbox
//!   until the server acknowledged it; a crash at any point loses none and
//!   pushes nothing twice that would change the folded result (a push cut
//!   before its answer is sent again: the server may store it twice, which
//!   the fold absorbs);
//! * the outbox never stalls: failures are retried with capped backoff
//!   (30 s) for ever; a change the server refuses (400) is isolated and
//!   dead-lettered, the rest goes on;
//! * the local view folds server changes by the same last-write-wins rules
//!   as [`crate::fold`], so a pending local field (written later) is never
//!   shown overwritten by an older server value;
//! * a change the server refused stays folded in the local view (it is in
//!   [`Engine::dead_letters`] for the app to fix or drop).

mod change_set;
mod feed;
mod handle;
mod machine;
mod memory;
mod outbox;
mod settings;
mod status;
mod store;

pub use change_set::{ChangeSet, RecordChange, Source};
pub use handle::{
    EngineHandle, StatusStream, StatusWatch, Subscription, SubscriptionStream, Update,
};
pub use machine::{Engine, EngineError, Instruction, Purpose};
pub use memory::MemoryStore;
pub use settings::EngineSettings;
pub use status::Status;
pub use store::{
    CollectionState, Commit, ConflictEntry, DeadLetter, OutboxEntry, Store, StoreError,
    SCHEMA_VERSION,
};

//! Folding changes into records, field by field, last write wins
//! (docs/PROTOCOL.md, "Folding changes into records"), in a form that is
//! idempotent and order-independent: the records depend only on the set of
//! changes applied, so re-applying any of them (a retried push, an overlap
//! re-read, a stream resume) or receiving them out of order (the server's
//! late commits) gives the same records as a fresh fold of the whole log.
//!
//! * insert: each field of `data` is merged with the record's `updatedAt`,
//!   else `createdAt`, else the empty stamp; an unknown record is created;
//! * update: each field is merged with its own `at`; an update of an unknown
//!   record creates it;
//! * delete with `deletedAt` (any change carrying a top-level `deletedAt`,
//!   whatever its op): a soft delete, merged like a field named `deletedAt`;
//!   for a record not known yet it is kept and merged when the record
//!   arrives;
//! * delete without `deletedAt` (a hard delete): the record is removed and
//!   stays removed: every later change of it is absorbed;
//! * merging: the write with the later stamp wins (stamps compare by
//!   instant, an empty stamp is older than every real one); on equal
//!   stamps, the greater value in a fixed order of JSON values wins;
//! * malformed changes (no table or id, an unknown op, an unreadable stamp,
//!   an insert without `data`, an update without `fields`) are dropped and
//!   counted.
//!
//! Where this departs from the browser, whose fold depends on the order
//! changes arrive in (so two of its clients can disagree):
//!
//! * equal stamps: the browser lets the change applied last win; here the
//!   greater value wins, whatever the order;
//! * a delete of a record not known yet: the browser ignores it (so
//!   `delete r @T` then `update r @T` leaves r live, and the same two again
//!   leave it deleted); here it is kept and applies when the record arrives;
//! * a hard delete carries no time, so nothing can order it against other
//!   changes: the browser lets a later update or insert bring the record
//!   back, here a hard-deleted record stays deleted;
//! * an insert without `updatedAt`/`createdAt`: the browser stamps its fields
//!   with the time of folding (so it wins over every earlier write, and
//!   folding it again later changes its stamp); here they get the empty
//!   stamp, older than every stamped write.

mod delivered;
#[cfg(test)]
pub(crate) mod differential;
mod field;
mod order;
mod record;
mod replica;
mod saved;
mod seen;
mod slot;
mod table;

pub use field::FieldState;
pub use record::Record;
pub use replica::{Applied, FoldConflict, FoldReport, Replica, DEFAULT_OVERLAP};
pub use seen::{Seen, SeenKey};
pub use slot::Slot;

//! Folding changes into records, field by field, last write wins: exactly
//! the browser's rules (PROTOCOL.md, "Folding changes into records").
//!
//! * insert: an unknown record becomes `data`, every field stamped with the
//!   record's `updatedAt`, else `createdAt`, else `now`; into a known record
//!   each field is merged with that stamp;
//! * update: each field is merged with its own `at`; an update of an unknown
//!   record creates it;
//! * delete with `deletedAt` (any change carrying a top-level `deletedAt`,
//!   whatever its op): a soft delete, merged like a field named `deletedAt`;
//!   without it: the record is removed. A delete of an unknown record is
//!   ignored;
//! * merging: the incoming value replaces the local one when its stamp is
//!   later than or equal to the local stamp (ties go to the incoming change);
//!   stamps compare by instant, an empty stamp is older than every real one;
//! * malformed changes (no table or id, an unknown op, an unreadable stamp,
//!   an insert without `data`, an update without `fields`) are dropped and
//!   counted.

mod record;
mod replica;

pub use record::{FieldState, Record};
pub use replica::{Applied, FoldConflict, FoldReport, Replica};

//! [`SkippedChange`]: a change of a response that was dropped as malformed.

use std::fmt;

/// A change of a push or pull response (or a stream batch) that was dropped,
/// not applied, because it is malformed: one the browser's guard
/// (`isValidSyncChange`) would drop, or one this client cannot represent (a
/// number beyond `f64`, nesting deeper than 127 levels ([`crate::limits::MAX_DEPTH`]), a `schemaVersion`
/// beyond `u32`). The rest of the page is read and the cursor moves on:
/// one bad row never blocks a collection (docs/PROTOCOL.md, "Folding").
///
/// Every text is cut (at most 500 characters for `reason`, 200 for the
/// others).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedChange {
    /// The change's position in its list (`serverChanges` of one response or
    /// page, or the `changes` of one stream batch), from 0.
    pub index: usize,
    /// Its `eventId`, if it had a readable one.
    pub event_id: Option<String>,
    /// Its `table`, if it had a readable one.
    pub table: Option<String>,
    /// Its `id`, if it had a readable one.
    pub id: Option<String>,
    /// Why it was dropped, e.g. ``member `op` is not "insert", "update" or "delete"``.
    pub reason: String,
}

impl fmt::Display for SkippedChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "change {}", self.index)?;
        if let (Some(table), Some(id)) = (&self.table, &self.id) {
            write!(f, " ({table}/{id})")?;
        }
        write!(f, " skipped: {}", self.reason)
    }
}

//! [`Stamp`]: the time written next to a field value or a delete.

use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Timestamp;

/// The `at` of a field or the `deletedAt` of a delete, as the server stores it.
///
/// The server keeps whatever string a client sent, so a stamp read back may be
/// empty (a legacy `{value, updatedAt}` push is stored with `"at": ""`) or, from
/// a misbehaving writer, not a timestamp at all. Reading never fails on it;
/// the fold decides what to do (an empty stamp is older than every real one; an
/// unreadable one makes the change malformed).
///
/// Order: [`Stamp::Empty`] < every [`Stamp::At`] (by instant); an
/// [`Stamp::Unreadable`] stamp is not ordered against the others.
///
/// ```
/// # use mana_sync_core::surface as mana_sync_ureq;
/// use mana_sync_ureq::{Stamp, Timestamp};
///
/// let at = Stamp::At(Timestamp::parse("2026-04-23T11:19:00Z")?);
/// assert!(Stamp::Empty < at);
/// assert_eq!(serde_json::to_string(&at)?, "\"2026-04-23T11:19:00.000Z\"");
/// assert_eq!(serde_json::from_str::<Stamp>("\"\"")?, Stamp::Empty);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum Stamp {
    /// `""`: older than every real stamp.
    Empty,
    /// A real instant, written in the 24-character form.
    At(Timestamp),
    /// Text that does not parse as a timestamp, kept as it came.
    Unreadable(String),
}

impl Stamp {
    /// The instant, if this stamp has one.
    pub fn timestamp(&self) -> Option<Timestamp> {
        match self {
            Stamp::At(t) => Some(*t),
            _ => None,
        }
    }

    /// Reads a stamp from its wire text: `""` is [`Stamp::Empty`].
    pub fn from_wire(text: &str) -> Stamp {
        if text.is_empty() {
            return Stamp::Empty;
        }
        match Timestamp::parse(text) {
            Ok(t) => Stamp::At(t),
            Err(_) => Stamp::Unreadable(text.to_owned()),
        }
    }
}

impl From<Timestamp> for Stamp {
    fn from(t: Timestamp) -> Stamp {
        Stamp::At(t)
    }
}

impl PartialOrd for Stamp {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        match (self, other) {
            (Stamp::Empty, Stamp::Empty) => Some(Ordering::Equal),
            (Stamp::Empty, Stamp::At(_)) => Some(Ordering::Less),
            (Stamp::At(_), Stamp::Empty) => Some(Ordering::Greater),
            (Stamp::At(a), Stamp::At(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }
}

impl fmt::Display for Stamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stamp::Empty => Ok(()),
            Stamp::At(t) => t.fmt(f),
            Stamp::Unreadable(s) => f.write_str(s),
        }
    }
}

impl fmt::Debug for Stamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stamp::Empty => f.write_str("Stamp::Empty"),
            Stamp::At(t) => write!(f, "Stamp::At({})", t.to_rfc3339_precise()),
            Stamp::Unreadable(s) => write!(f, "Stamp::Unreadable({s:?})"),
        }
    }
}

impl Serialize for Stamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Stamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Ok(Stamp::from_wire(&s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_orders() {
        let a = Stamp::from_wire("2026-04-23T11:19:00.000Z");
        let b = Stamp::from_wire("2026-04-23T13:19:00.001+02:00");
        assert!(a < b);
        assert!(Stamp::Empty < a);
        assert_eq!(Stamp::from_wire(""), Stamp::Empty);
        let bad = Stamp::from_wire("soon");
        assert_eq!(bad, Stamp::Unreadable("soon".into()));
        assert_eq!(bad.partial_cmp(&a), None);
        assert_eq!(serde_json::to_string(&bad).unwrap(), "\"soon\"");
        assert_eq!(serde_json::to_string(&Stamp::Empty).unwrap(), "\"\"");
    }
}

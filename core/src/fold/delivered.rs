//! [`Keys`]: the keys of delivered changes with their bounds, as a
//! [`super::Seen`] holds them: compact, since a catch-up of a collection
//! written in the last seconds remembers every change it read.
//!
//! An `eventId` is the row's UUID and a content key is a 128-bit digest in
//! hex: both are held in 16 bytes instead of a string (any other text is
//! kept as it is). A bound is held in microseconds, rounded up: a bound
//! only decides when a key may be forgotten, and a later one keeps it a
//! little longer, never shorter.

use std::collections::BTreeMap;
use std::fmt;
use std::hash::{Hash, Hasher};

use hashbrown::{Equivalent, HashMap};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{Cursor, Timestamp};

/// 128 bits as two words (aligned as a word: a `u128` would make every
/// entry 16 bytes larger).
type Wide = [u64; 2];

fn wide(n: u128) -> Wide {
    let word = |w: u128| u64::try_from(w & u128::from(u64::MAX)).unwrap_or(0);
    [word(n >> 64), word(n)]
}

fn narrow([high, low]: Wide) -> u128 {
    (u128::from(high) << 64) | u128::from(low)
}

/// A key as held: 24 bytes.
#[derive(Clone, PartialEq, Eq)]
enum Key {
    /// A UUID in its canonical lower-case text (8-4-4-4-12 hex digits).
    Uuid(Wide),
    /// 32 lower-case hex digits.
    Hex(Wide),
    /// Anything else.
    Text(Box<str>),
}

/// A key to look up, read from a text without copying it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum KeyRef<'a> {
    Uuid(Wide),
    Hex(Wide),
    Text(&'a str),
}

/// The value of lower-case hex digits (at most 32), if that is what they are.
fn hex(digits: &[u8]) -> Option<u128> {
    digits.iter().try_fold(0u128, |n, d| {
        let v = match d {
            b'0'..=b'9' => d - b'0',
            b'a'..=b'f' => d - b'a' + 10,
            _ => return None,
        };
        Some((n << 4) | u128::from(v))
    })
}

impl<'a> KeyRef<'a> {
    fn of(text: &'a str) -> KeyRef<'a> {
        let b = text.as_bytes();
        match b.len() {
            32 => hex(b).map_or(KeyRef::Text(text), |n| KeyRef::Hex(wide(n))),
            36 if [8, 13, 18, 23].iter().all(|&i| b.get(i) == Some(&b'-')) => {
                let groups = [(0, 8), (9, 13), (14, 18), (19, 23), (24, 36)];
                groups
                    .iter()
                    .try_fold(0u128, |n, &(s, e)| {
                        let part = hex(b.get(s..e)?)?;
                        Some((n << ((e - s) * 4)) | part)
                    })
                    .map_or(KeyRef::Text(text), |n| KeyRef::Uuid(wide(n)))
            }
            _ => KeyRef::Text(text),
        }
    }

    fn to_key(self) -> Key {
        match self {
            KeyRef::Uuid(n) => Key::Uuid(n),
            KeyRef::Hex(n) => Key::Hex(n),
            KeyRef::Text(s) => Key::Text(s.into()),
        }
    }
}

impl Key {
    fn as_ref(&self) -> KeyRef<'_> {
        match self {
            Key::Uuid(n) => KeyRef::Uuid(*n),
            Key::Hex(n) => KeyRef::Hex(*n),
            Key::Text(s) => KeyRef::Text(s),
        }
    }
}

impl Hash for KeyRef<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self {
            KeyRef::Uuid(n) => (0u8, n).hash(state),
            KeyRef::Hex(n) => (1u8, n).hash(state),
            KeyRef::Text(s) => (2u8, s).hash(state),
        }
    }
}

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_ref().hash(state);
    }
}

impl Equivalent<Key> for KeyRef<'_> {
    fn equivalent(&self, key: &Key) -> bool {
        *self == key.as_ref()
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Key::Uuid(n) => {
                let hex = format!("{:032x}", narrow(*n));
                let part = |s: usize, e: usize| hex.get(s..e).unwrap_or_default();
                write!(
                    f,
                    "{}-{}-{}-{}-{}",
                    part(0, 8),
                    part(8, 12),
                    part(12, 16),
                    part(16, 20),
                    part(20, 32)
                )
            }
            Key::Hex(n) => write!(f, "{:032x}", narrow(*n)),
            Key::Text(s) => f.write_str(s),
        }
    }
}

/// A bound in microseconds since the epoch, rounded up.
fn micros(t: Timestamp) -> i64 {
    let nanos = t.unix_nanos();
    let up = nanos.saturating_add(999).div_euclid(1000);
    i64::try_from(up).unwrap_or(i64::MAX)
}

/// The timestamp of a bound held in microseconds.
fn timestamp(micros: i64) -> Timestamp {
    Timestamp::from_unix_nanos(i128::from(micros).saturating_mul(1000))
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

/// Keys with their bounds.
#[derive(Clone, Default, PartialEq)]
pub(crate) struct Keys(HashMap<Key, i64>);

impl Keys {
    /// Whether `text` is held.
    pub(crate) fn contains(&self, text: &str) -> bool {
        // A first read asks of every change: nothing to parse or hash.
        !self.0.is_empty() && self.0.contains_key(&KeyRef::of(text))
    }

    /// Holds `text` with `bound`, or moves its bound later.
    pub(crate) fn insert(&mut self, text: &str, bound: Timestamp) {
        let bound = micros(bound);
        let key = KeyRef::of(text);
        match self.0.get_mut(&key) {
            Some(held) => *held = (*held).max(bound),
            None => {
                self.0.insert(key.to_key(), bound);
            }
        }
    }

    /// Forgets the keys whose bound is before `t`.
    pub(crate) fn forget_before(&mut self, t: Timestamp) {
        self.0.retain(|_, b| timestamp(*b) >= t);
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Every key as its text, with its bound (in no order).
    pub(crate) fn iter(&self) -> impl Iterator<Item = (String, Timestamp)> + '_ {
        self.0.iter().map(|(k, b)| (k.to_string(), timestamp(*b)))
    }

    /// The latest bound, if any.
    pub(crate) fn latest(&self) -> Option<Timestamp> {
        self.0.values().max().map(|b| timestamp(*b))
    }

    /// Adds everything `other` holds.
    pub(crate) fn merge(&mut self, other: Keys) {
        if self.0.is_empty() {
            *self = other;
            return;
        }
        self.0.reserve(other.0.len());
        for (k, b) in other.0 {
            let held = self.0.entry(k).or_insert(b);
            *held = (*held).max(b);
        }
    }

    /// As saved: each key's text to its bound, sorted.
    fn saved(&self) -> BTreeMap<String, Cursor> {
        self.iter().map(|(k, b)| (k, Cursor::from(b))).collect()
    }
}

impl fmt::Debug for Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.saved()).finish()
    }
}

impl Serialize for Keys {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.saved().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Keys {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let saved = BTreeMap::<String, Cursor>::deserialize(d)?;
        let mut keys = Keys(HashMap::with_capacity(saved.len()));
        for (k, b) in saved {
            keys.insert(&k, b.timestamp());
        }
        Ok(keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_and_digests_are_held_compact_and_written_back_as_they_came() {
        for (text, compact) in [
            ("00000000-0000-4000-8000-00000000002a", true),
            ("6c62272e07bb014262b821756295c58d", true),
            ("e-1", false),
            ("0000000-00000-4000-8000-00000000002a", false),
            ("00000000-0000-4000-8000-00000000002A", false),
            ("6C62272E07BB014262B821756295C58D", false),
            ("", false),
            ("ünïcode", false),
        ] {
            let key = KeyRef::of(text).to_key();
            assert_eq!(key.to_string(), text);
            assert_eq!(
                matches!(key, Key::Uuid(_) | Key::Hex(_)),
                compact,
                "{text:?}"
            );
            let mut keys = Keys::default();
            keys.insert(text, Timestamp::UNIX_EPOCH);
            assert!(keys.contains(text), "{text:?}");
            assert!(!keys.contains("00000000-0000-4000-8000-00000000002b"));
        }
    }

    #[test]
    fn an_entry_takes_32_bytes() {
        assert_eq!(std::mem::size_of::<(Key, i64)>(), 32);
    }

    #[test]
    fn a_bound_is_kept_to_the_microsecond_rounded_up() {
        let t = |s| Timestamp::parse(s).unwrap_or(Timestamp::UNIX_EPOCH);
        let mut keys = Keys::default();
        keys.insert("a", t("2026-01-01T00:00:01.000000001Z"));
        keys.insert("a", t("2026-01-01T00:00:00Z"));
        keys.forget_before(t("2026-01-01T00:00:01.000000001Z"));
        assert!(keys.contains("a"), "never forgotten early");
        assert_eq!(keys.latest(), Some(t("2026-01-01T00:00:01.000001Z")));
        keys.forget_before(t("2026-01-01T00:00:01.000002Z"));
        assert!(keys.is_empty());
        assert_eq!(micros(t("1969-12-31T23:59:59.9999995Z")), 0);
    }
}

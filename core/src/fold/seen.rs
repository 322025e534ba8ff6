//! [`Seen`]: which changes were already delivered, so that a re-read one
//! (an overlap, a page re-asked inside a tie, a stream resume) is
//! recognised and not delivered again.

use super::delivered::Keys;
use crate::wire::object_form;
use crate::wire::ChangeRef;
use crate::{Change, Timestamp};

/// What identifies a delivered change: its `eventId` (unique per log row),
/// or, for a change that carries none (the stream's), a digest of its
/// content, since a re-sent change is byte-identical to its first delivery.
///
/// Two distinct rows with identical content and no `eventId` have the same
/// key; dropping the second is harmless, since the fold gives the same
/// records with one or both.
///
/// ```
/// # use mana_sync_core::surface as mana_sync_ureq;
/// use mana_sync_ureq::fold::SeenKey;
/// use mana_sync_ureq::Change;
///
/// let mut c = Change::hard_delete("tasks", "t-1");
/// let by_content = SeenKey::of(&c);
/// assert!(matches!(by_content, SeenKey::Content(_)));
/// c.event_id = Some("e-1".into());
/// assert_eq!(SeenKey::of(&c), SeenKey::Event("e-1".into()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SeenKey {
    /// The change's `eventId`.
    Event(String),
    /// A 128-bit digest (FNV-1a, hex) of the change's JSON.
    Content(String),
}

impl SeenKey {
    /// The key of `change`: its `eventId`, else a digest of its JSON.
    pub fn of(change: &Change) -> SeenKey {
        match &change.event_id {
            Some(id) => SeenKey::Event(id.clone()),
            None => SeenKey::content_of(change),
        }
    }

    /// The key of `change` by its content alone, whether or not it carries
    /// an `eventId`: what the stream (whose changes carry none) and a pull
    /// (whose changes do) have in common. `eventId`, `schemaVersion` and
    /// `spaceId` are left out, since a pull carries them and the stream
    /// omits them.
    ///
    /// ```
    /// # use mana_sync_core::surface as mana_sync_ureq;
    /// use mana_sync_ureq::fold::SeenKey;
    /// use mana_sync_ureq::Change;
    ///
    /// let streamed = Change::hard_delete("tasks", "t-1");
    /// let mut pulled = streamed.clone();
    /// pulled.event_id = Some("e-1".into());
    /// pulled.space_id = Some("s-1".into());
    /// assert_eq!(SeenKey::content_of(&pulled), SeenKey::of(&streamed));
    /// ```
    pub fn content_of(change: &Change) -> SeenKey {
        SeenKey::Content(format!("{:032x}", SeenKey::content_digest(change)))
    }

    /// The digest behind [`SeenKey::content_of`]: FNV-1a over the change's
    /// JSON without `eventId`, `schemaVersion` and `spaceId`, 128 bits.
    /// Stable across runs and builds (a saved [`Seen`] keeps working after
    /// an upgrade).
    pub(crate) fn content_digest(change: &Change) -> u128 {
        if change.event_id.is_none() && change.schema_version.is_none() && change.space_id.is_none()
        {
            return fnv1a(change);
        }
        let mut bare = change.clone();
        bare.event_id = None;
        bare.schema_version = None;
        bare.space_id = None;
        fnv1a(&bare)
    }
}

/// FNV-1a over the change's JSON, 128 bits, hashed as it is written (no
/// copy of the text). A change nested beyond the limit (a caller's; the
/// fold drops it) is hashed up to where the writing stops, so that no
/// value of any depth exhausts the stack here.
fn fnv1a(change: &Change) -> u128 {
    struct Fnv(u128);
    impl std::io::Write for Fnv {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 = fnv_over(self.0, bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut hash = Fnv(FNV_OFFSET);
    // Only a change too deep to write fails, part-way; what was written
    // is its digest.
    let _ = crate::depth::write_within(&mut hash, change);
    hash.0
}

/// FNV-1a's 128-bit offset basis.
const FNV_OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;

/// FNV-1a's step: `hash` carried over `bytes`.
fn fnv_over(hash: u128, bytes: &[u8]) -> u128 {
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;
    bytes
        .iter()
        .fold(hash, |h, b| (h ^ u128::from(*b)).wrapping_mul(PRIME))
}

/// The digest as it was first defined, over the change's whole JSON text:
/// the hashing as it is written must give the same (a saved memory stays
/// valid across builds).
#[cfg(test)]
fn content_digest(change: &Change) -> String {
    let bytes = serde_json::to_vec(change).unwrap_or_default();
    format!("{:032x}", fnv_over(FNV_OFFSET, &bytes))
}

object_form! {
    expecting "a saved delivered-change memory";
    /// The changes already delivered from one collection, each with an upper
    /// bound of its position in the log (the `syncedUntil` of the page that
    /// brought it: no row of a page lies after it). A read starting at `since`
    /// can only bring back changes whose bound is after `since`, so the rest can
    /// be forgotten ([`Seen::forget_before`]): the memory holds only the ids of
    /// an overlap window.
    ///
    /// ```
    /// # use mana_sync_core::surface as mana_sync_ureq;
    /// use mana_sync_ureq::fold::Seen;
    /// use mana_sync_ureq::{Change, Timestamp};
    ///
    /// let t = |s| Timestamp::parse(s).unwrap();
    /// let mut seen = Seen::new();
    /// let mut c = Change::hard_delete("tasks", "t-1");
    /// c.event_id = Some("e-1".into());
    /// assert!(seen.first_time(&c, t("2026-01-01T00:00:01Z")));
    /// assert!(!seen.first_time(&c, t("2026-01-01T00:00:02Z")), "re-read");
    /// seen.forget_before(t("2026-01-01T00:00:03Z"));
    /// assert!(seen.is_empty());
    /// ```
    #[derive(Debug, Clone, Default, PartialEq)]
    pub struct Seen {
        /// By `eventId`.
        #[serde(default, skip_serializing_if = "Keys::is_empty")]
        events: Keys,
        /// By content digest.
        #[serde(default, skip_serializing_if = "Keys::is_empty")]
        contents: Keys,
    }
}

impl Seen {
    /// An empty memory.
    pub fn new() -> Seen {
        Seen::default()
    }

    fn keys<'a>(&'a self, key: &'a SeenKey) -> (&'a Keys, &'a str) {
        match key {
            SeenKey::Event(id) => (&self.events, id),
            SeenKey::Content(d) => (&self.contents, d),
        }
    }

    /// Whether a change with this key was delivered.
    pub fn contains(&self, key: &SeenKey) -> bool {
        let (keys, k) = self.keys(key);
        keys.contains(k)
    }

    /// Whether a change with this `eventId` was delivered (no copy of it
    /// is made to ask).
    pub fn contains_event(&self, event_id: &str) -> bool {
        self.events.contains(event_id)
    }

    /// Remembers `key`, delivered from a page whose changes all lie at or
    /// before `bound` (the later bound wins if it was seen before).
    pub fn insert(&mut self, key: SeenKey, bound: Timestamp) {
        match key {
            SeenKey::Event(id) => self.events.insert(&id, bound),
            SeenKey::Content(d) => self.contents.insert(&d, bound),
        }
    }

    /// [`Seen::insert`] of a change read from a page: by its `eventId`
    /// (not copied unless it must be held as text), else by its content.
    pub(crate) fn insert_change(&mut self, change: ChangeRef<'_>, bound: Timestamp) {
        match change.event_id() {
            Some(id) => self.events.insert(&id, bound),
            None => self.insert(SeenKey::of(&change.to_change()), bound),
        }
    }

    /// `true` when `change` is new (it is then remembered with `bound`),
    /// `false` when it was delivered before.
    pub fn first_time(&mut self, change: &Change, bound: Timestamp) -> bool {
        let key = SeenKey::of(change);
        let new = !self.contains(&key);
        self.insert(key, bound);
        new
    }

    /// Forgets the changes whose bound is before `t`: a read from `t` on
    /// cannot bring them back.
    pub fn forget_before(&mut self, t: Timestamp) {
        self.events.forget_before(t);
        self.contents.forget_before(t);
    }

    /// How many changes are remembered.
    pub fn len(&self) -> usize {
        self.events.len().saturating_add(self.contents.len())
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty() && self.contents.is_empty()
    }

    /// Every key remembered, with its bound (kept to the microsecond,
    /// rounded up), in no particular order.
    pub fn entries(&self) -> impl Iterator<Item = (SeenKey, Timestamp)> + '_ {
        let events = self.events.iter().map(|(k, b)| (SeenKey::Event(k), b));
        let contents = self.contents.iter().map(|(k, b)| (SeenKey::Content(k), b));
        events.chain(contents)
    }

    /// The latest bound of a change remembered by content, if any: a read
    /// that starts after it cannot bring back one of those.
    pub(crate) fn contents_until(&self) -> Option<Timestamp> {
        self.contents.latest()
    }

    /// Adds everything `other` remembers.
    pub fn merge(&mut self, other: Seen) {
        self.events.merge(other.events);
        self.contents.merge(other.contents);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_keys_are_stable_and_distinguish_changes() {
        let a = SeenKey::of(&Change::hard_delete("t", "1"));
        let b = SeenKey::of(&Change::hard_delete("t", "2"));
        assert_ne!(a, b);
        assert_eq!(a, SeenKey::of(&Change::hard_delete("t", "1")));
        // Pinned: a saved memory must stay valid across builds.
        assert_eq!(
            a,
            SeenKey::Content(content_digest(&Change::hard_delete("t", "1")))
        );
        let update = Change::update("tasks", "t-1").with_field(
            "title",
            serde_json::json!({"a": [1, "x", null]}),
            Timestamp::UNIX_EPOCH,
        );
        assert_eq!(
            SeenKey::content_of(&update),
            SeenKey::Content(content_digest(&update))
        );
        let SeenKey::Content(d) = a else { panic!() };
        assert_eq!(d.len(), 32);
    }

    #[test]
    fn bounds_keep_the_latest_and_prune() {
        let t = |s| Timestamp::parse(s).unwrap_or(Timestamp::UNIX_EPOCH);
        let mut seen = Seen::new();
        seen.insert(SeenKey::Event("a".into()), t("2026-01-01T00:00:05Z"));
        seen.insert(SeenKey::Event("a".into()), t("2026-01-01T00:00:01Z"));
        seen.insert(SeenKey::Content("c".into()), t("2026-01-01T00:00:02Z"));
        seen.forget_before(t("2026-01-01T00:00:03Z"));
        assert!(seen.contains(&SeenKey::Event("a".into())));
        assert!(!seen.contains(&SeenKey::Content("c".into())));
        assert_eq!(seen.len(), 1);
        let json = serde_json::to_string(&seen).unwrap_or_default();
        let back: Seen = serde_json::from_str(&json).unwrap_or_default();
        assert_eq!(back, seen);
    }
}

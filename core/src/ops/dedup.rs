//! [`Delivered`]: the memory a stream keeps of what it handed out, to
//! recognise what a resume, a re-read or the completion of a batch brings
//! again.
//!
//! Every change is known by its content (the stream's changes carry no
//! `eventId`), and a pulled change by its `eventId` too. Each key is held
//! with a bound (no change under that key lies later in the log), so that
//! what can no longer come back is forgotten in bound order: a lookup is
//! O(1), remembering a key O(log n), and forgetting costs only what it
//! forgets (amortised), however much is held.

use std::collections::{BTreeMap, HashMap};

use crate::fold::{Seen, SeenKey};
use crate::{Change, Timestamp};

/// Most keys kept per collection; past this the ones with the oldest bounds
/// are forgotten (a re-read may then deliver one of them again, which a fold
/// absorbs). About 100 bytes each.
pub(crate) const MAX_REMEMBERED: usize = 200_000;

/// What a change is known by.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    /// The change's `eventId` (pulls carry it; the stream does not).
    Event(Box<str>),
    /// [`SeenKey::content_digest`] of its content.
    Content(u128),
}

impl Key {
    fn to_seen(&self) -> SeenKey {
        match self {
            Key::Event(id) => SeenKey::Event(id.to_string()),
            Key::Content(d) => SeenKey::Content(format!("{d:032x}")),
        }
    }

    fn from_seen(key: &SeenKey) -> Option<Key> {
        match key {
            SeenKey::Event(id) => Some(Key::Event(id.as_str().into())),
            SeenKey::Content(hex) => u128::from_str_radix(hex, 16).ok().map(Key::Content),
        }
    }
}

/// One collection's keys with their bounds, and the same keys by bound.
#[derive(Default)]
struct Window {
    bound_of: HashMap<Key, Timestamp>,
    /// Each key is listed under every bound it was given; only the entry
    /// that matches `bound_of` counts (the others are skipped when their
    /// bound is forgotten).
    by_bound: BTreeMap<Timestamp, Vec<Key>>,
    /// Entries in `by_bound`, stale ones included.
    listed: usize,
}

impl Window {
    fn contains(&self, key: &Key) -> bool {
        self.bound_of.contains_key(key)
    }

    fn insert(&mut self, key: Key, bound: Timestamp) {
        match self.bound_of.get_mut(&key) {
            Some(old) if *old >= bound => return,
            Some(old) => *old = bound,
            None => {
                self.bound_of.insert(key.clone(), bound);
            }
        }
        self.by_bound.entry(bound).or_default().push(key);
        self.listed = self.listed.saturating_add(1);
        if self.bound_of.len() > MAX_REMEMBERED || self.listed > MAX_REMEMBERED.saturating_mul(2) {
            self.forget_oldest();
        }
    }

    /// Forgets the keys of the oldest bound (and stale entries before it).
    fn forget_oldest(&mut self) {
        while let Some((bound, keys)) = self.by_bound.pop_first() {
            let forgot = self.release(bound, keys);
            if forgot > 0 && self.bound_of.len() <= MAX_REMEMBERED {
                break;
            }
        }
    }

    /// Drops the keys listed under `bound` that still have that bound;
    /// returns how many.
    fn release(&mut self, bound: Timestamp, keys: Vec<Key>) -> usize {
        self.listed = self.listed.saturating_sub(keys.len());
        let mut forgot = 0;
        for key in keys {
            if self.bound_of.get(&key) == Some(&bound) {
                self.bound_of.remove(&key);
                forgot += 1;
            }
        }
        forgot
    }

    fn forget_before(&mut self, floor: Timestamp) {
        while let Some(entry) = self.by_bound.first_entry() {
            if *entry.key() >= floor {
                break;
            }
            let (bound, keys) = entry.remove_entry();
            self.release(bound, keys);
        }
    }
}

/// The changes a stream delivered, per collection, each with the bound of
/// the read that brought it, so that a change that comes again (a resume
/// re-sends what lies after its `since`, byte for byte; a re-read brings it
/// with its `eventId`) is recognised and not delivered twice.
#[derive(Default)]
pub(crate) struct Delivered {
    windows: BTreeMap<String, Window>,
}

/// What [`Delivered::admit`] made of a batch.
pub(crate) struct Admitted {
    /// The changes not delivered before, in order.
    pub fresh: Vec<Change>,
    /// The keys of the fresh changes, for a replica's memory.
    pub keys: Vec<(SeenKey, Timestamp)>,
}

impl Delivered {
    /// Starts from what a replica remembers of `collection`.
    pub(crate) fn remember(&mut self, collection: &str, seen: &Seen) {
        let window = self.windows.entry(collection.to_owned()).or_default();
        for (key, bound) in seen.entries() {
            if let Some(key) = Key::from_seen(&key) {
                window.insert(key, bound);
            }
        }
    }

    /// The changes of `collection` not delivered before, remembering each
    /// (by `eventId` and by content) with `bound`.
    pub(crate) fn admit(
        &mut self,
        collection: &str,
        changes: Vec<Change>,
        bound: Timestamp,
    ) -> Admitted {
        let window = self.windows.entry(collection.to_owned()).or_default();
        let mut fresh = Vec::with_capacity(changes.len());
        let mut keys = Vec::with_capacity(changes.len());
        for change in changes {
            let event = change.event_id.as_deref().map(|id| Key::Event(id.into()));
            let content = Key::Content(SeenKey::content_digest(&change));
            let known =
                event.as_ref().is_some_and(|k| window.contains(k)) || window.contains(&content);
            if let Some(event) = event {
                window.insert(event, bound);
            }
            if known {
                window.insert(content, bound);
                continue;
            }
            keys.push((
                match &change.event_id {
                    Some(id) => SeenKey::Event(id.clone()),
                    None => content.to_seen(),
                },
                bound,
            ));
            window.insert(content, bound);
            fresh.push(change);
        }
        Admitted { fresh, keys }
    }

    /// Forgets the keys of `collection` whose bound is before `floor`: no
    /// read the stream makes can bring them back.
    pub(crate) fn forget_before(&mut self, collection: &str, floor: Timestamp) {
        if let Some(window) = self.windows.get_mut(collection) {
            window.forget_before(floor);
        }
    }

    /// How many keys are held, over all collections.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.windows.values().map(|w| w.bound_of.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn change(id: &str) -> Change {
        Change::insert(
            "tasks",
            id,
            json!({"n": id}).as_object().cloned().unwrap_or_default(),
        )
    }

    fn ts(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap_or(Timestamp::UNIX_EPOCH)
    }

    #[test]
    fn re_sent_changes_are_recognised_by_content_and_event_id() {
        let mut d = Delivered::default();
        let t1 = ts("2026-01-01T00:00:01Z");
        let first = d.admit("tasks", vec![change("a"), change("b")], t1);
        assert_eq!(first.fresh.len(), 2);
        // A pull brings b again with an eventId (and the members the
        // stream leaves out), then c twice.
        let mut again = change("b");
        again.event_id = Some("e-9".into());
        again.space_id = Some("s".into());
        again.schema_version = Some(1);
        let mut c = change("c");
        c.event_id = Some("e-10".into());
        let next = d.admit(
            "tasks",
            vec![again, c.clone(), c.clone()],
            ts("2026-01-01T00:00:02Z"),
        );
        assert_eq!(next.fresh, vec![c.clone()]);
        assert_eq!(
            next.keys,
            vec![(SeenKey::Event("e-10".into()), ts("2026-01-01T00:00:02Z"))]
        );
        // The stream re-sends c without its eventId: known by content.
        let mut bare = c;
        bare.event_id = None;
        assert!(d.admit("tasks", vec![bare], t1).fresh.is_empty());
        // Another collection has its own memory.
        assert_eq!(d.admit("notes", vec![change("a")], t1).fresh.len(), 1);
    }

    #[test]
    fn forgetting_drops_only_keys_bound_before_the_floor() {
        let mut d = Delivered::default();
        d.admit("tasks", vec![change("a")], ts("2026-01-01T00:00:01Z"));
        d.admit("tasks", vec![change("b")], ts("2026-01-01T00:00:03Z"));
        d.admit("tasks", vec![change("c")], ts("2026-01-01T00:00:02Z"));
        // a is seen again later: its later bound keeps it.
        d.admit("tasks", vec![change("a")], ts("2026-01-01T00:00:04Z"));
        d.forget_before("tasks", ts("2026-01-01T00:00:03Z"));
        assert_eq!(d.len(), 2);
        let back = d.admit(
            "tasks",
            vec![change("a"), change("b"), change("c")],
            ts("2026-01-01T00:00:05Z"),
        );
        assert_eq!(back.fresh, vec![change("c")]);
    }

    #[test]
    fn a_replicas_memory_is_recognised() {
        let mut c = change("a");
        c.event_id = Some("e-1".into());
        let mut seen = Seen::new();
        seen.insert(SeenKey::of(&c), ts("2026-01-01T00:00:01Z"));
        seen.insert(SeenKey::of(&change("b")), ts("2026-01-01T00:00:01Z"));
        let mut d = Delivered::default();
        d.remember("tasks", &seen);
        let got = d.admit(
            "tasks",
            vec![c, change("b"), change("z")],
            ts("2026-01-01T00:00:02Z"),
        );
        assert_eq!(got.fresh, vec![change("z")]);
    }

    /// Issue 20, cause 1: a batch is admitted in time linear in its size
    /// (each lookup O(1)); a linear search of the batch's own keys made
    /// this quadratic and a large batch hung the stream.
    #[test]
    fn a_large_batch_is_admitted_in_linear_time() {
        let mut d = Delivered::default();
        let changes: Vec<Change> = (0..100_000).map(|i| change(&i.to_string())).collect();
        let got = d.admit("tasks", changes, ts("2026-01-01T00:00:01Z"));
        assert_eq!(got.fresh.len(), 100_000);
        assert_eq!(d.len(), 100_000);
    }

    /// Issue 20, cause 2: forgetting costs what it forgets, not what is
    /// held: a floor below everything touches nothing (walking every
    /// remembered batch at each delivery made 100,000 deliveries quadratic).
    #[test]
    fn forgetting_costs_only_what_it_forgets() {
        let mut w = Window::default();
        let t0 = ts("2026-01-01T00:00:01Z");
        for i in 0..100_000u32 {
            let bound = t0
                .checked_add(std::time::Duration::from_micros(u64::from(i)))
                .unwrap_or(t0);
            w.insert(Key::Content(u128::from(i)), bound);
            w.forget_before(t0);
        }
        assert_eq!(w.bound_of.len(), 100_000);
        let half = t0
            .checked_add(std::time::Duration::from_micros(50_000))
            .unwrap_or(t0);
        w.forget_before(half);
        assert_eq!(w.bound_of.len(), 50_000);
        assert_eq!(w.by_bound.len(), 50_000);
    }

    #[test]
    fn memory_is_capped() {
        let mut w = Window::default();
        let t = ts("2026-01-01T00:00:01Z");
        for i in 0..(MAX_REMEMBERED as u128 + 10) {
            w.insert(Key::Content(i), t);
        }
        assert!(w.bound_of.len() <= MAX_REMEMBERED);
    }
}

//! [`Delivered`]: the memory a stream keeps of what it handed out, to
//! recognise what a resume re-sends.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::hash::{DefaultHasher, Hash, Hasher};

use crate::{Change, Timestamp};

/// Most fingerprints kept per collection; past this the oldest are
/// forgotten (a resume may then deliver one of them again, which a fold
/// absorbs).
pub(crate) const MAX_REMEMBERED: usize = 200_000;

/// What one collection remembers: each delivered batch's fingerprints with
/// the batch's `syncedUntil` (no change of the batch is later than that),
/// and how often each fingerprint is held.
#[derive(Default)]
struct Memory {
    batches: VecDeque<(Timestamp, Vec<u128>)>,
    held: HashMap<u128, u32>,
    len: usize,
}

impl Memory {
    fn release(&mut self, prints: &[u128]) {
        self.len = self.len.saturating_sub(prints.len());
        for print in prints {
            if let Some(n) = self.held.get_mut(print) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    self.held.remove(print);
                }
            }
        }
    }
}

/// Fingerprints of the changes a stream delivered, per collection, so that
/// a change the server sends again (byte-identical, PROTOCOL.md) is
/// recognised. Stream changes carry no `eventId`, so a change is known by
/// its content: everything but `eventId`, `schemaVersion` and `spaceId`
/// (which a pull carries and the stream omits).
#[derive(Default)]
pub(crate) struct Delivered {
    memory: BTreeMap<String, Memory>,
}

impl Delivered {
    /// The changes of `collection` not delivered before, remembering them as
    /// a batch that reaches up to `until`.
    pub(crate) fn admit(
        &mut self,
        collection: &str,
        changes: Vec<Change>,
        until: Timestamp,
    ) -> Vec<Change> {
        let memory = self.memory.entry(collection.to_owned()).or_default();
        let mut prints = Vec::with_capacity(changes.len());
        let mut fresh = Vec::with_capacity(changes.len());
        for change in changes {
            let print = fingerprint(&change);
            if memory.held.contains_key(&print) || prints.contains(&print) {
                continue;
            }
            prints.push(print);
            fresh.push(change);
        }
        for print in &prints {
            *memory.held.entry(*print).or_default() += 1;
        }
        memory.len = memory.len.saturating_add(prints.len());
        memory.batches.push_back((until, prints));
        while memory.len > MAX_REMEMBERED && memory.batches.len() > 1 {
            if let Some((_, oldest)) = memory.batches.pop_front() {
                memory.release(&oldest);
            }
        }
        fresh
    }

    /// Forgets the batches of `collection` that reach no later than
    /// `floor`: the server re-sends only what is later than that.
    pub(crate) fn forget_up_to(&mut self, collection: &str, floor: Timestamp) {
        let Some(memory) = self.memory.get_mut(collection) else {
            return;
        };
        for (until, prints) in std::mem::take(&mut memory.batches) {
            if until <= floor {
                memory.release(&prints);
            } else {
                memory.batches.push_back((until, prints));
            }
        }
    }

    /// How many fingerprints are held, over all collections.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.memory.values().map(|m| m.len).sum()
    }
}

/// A 128-bit fingerprint of a change's content.
fn fingerprint(change: &Change) -> u128 {
    let mut bare = change.clone();
    bare.event_id = None;
    bare.schema_version = None;
    bare.space_id = None;
    // Writing a Change as JSON cannot fail (string keys, finite numbers).
    let bytes = serde_json::to_vec(&bare).unwrap_or_default();
    let half = |salt: u8| {
        let mut h = DefaultHasher::new();
        salt.hash(&mut h);
        bytes.hash(&mut h);
        h.finish()
    };
    (u128::from(half(1)) << 64) | u128::from(half(2))
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
    fn re_sent_changes_are_recognised_by_content() {
        let mut d = Delivered::default();
        let t1 = ts("2026-01-01T00:00:01Z");
        assert_eq!(
            d.admit("tasks", vec![change("a"), change("b")], t1).len(),
            2
        );
        let mut again = change("b");
        again.event_id = Some("e-9".into());
        again.space_id = Some("s".into());
        let fresh = d.admit(
            "tasks",
            vec![again, change("c")],
            ts("2026-01-01T00:00:02Z"),
        );
        assert_eq!(fresh, vec![change("c")]);
        // Another collection has its own memory.
        assert_eq!(d.admit("notes", vec![change("a")], t1).len(), 1);
    }

    #[test]
    fn forgetting_drops_only_batches_at_or_before_the_floor() {
        let mut d = Delivered::default();
        d.admit("tasks", vec![change("a")], ts("2026-01-01T00:00:01Z"));
        d.admit("tasks", vec![change("b")], ts("2026-01-01T00:00:03Z"));
        d.admit("tasks", vec![change("c")], ts("2026-01-01T00:00:02Z"));
        d.forget_up_to("tasks", ts("2026-01-01T00:00:02Z"));
        assert_eq!(d.len(), 1);
        assert_eq!(
            d.admit(
                "tasks",
                vec![change("a"), change("b")],
                ts("2026-01-01T00:00:04Z")
            ),
            vec![change("a")]
        );
    }
}

//! The fold's rules, one test each (the browser's, and where they depart
//! from it to be order-independent), and the properties the fold keeps:
//! idempotent and order-independent for every sequence of changes.

#![allow(clippy::unwrap_used)]

use mana_sync_core::fold::{Applied, Record, Replica};
use mana_sync_core::{Change, Origin, Stamp, Timestamp};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

fn t(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

fn now() -> Timestamp {
    t("2026-05-01T00:00:00Z")
}

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap()
}

fn title(r: &Replica) -> Option<Value> {
    r.record("tasks", "t-1")
        .and_then(|rec| rec.get("title").map(std::borrow::Cow::into_owned))
}

#[test]
fn insert_stamps_fields_with_updated_at_then_created_at_then_the_empty_stamp() {
    let mut r = Replica::new();
    r.apply(&Change::insert("tasks", "a", obj(json!({"x": 1, "updatedAt": "2026-01-02T00:00:00Z", "createdAt": "2026-01-01T00:00:00Z"}))), now());
    r.apply(
        &Change::insert(
            "tasks",
            "b",
            obj(json!({"x": 1, "createdAt": "2026-01-01T00:00:00Z"})),
        ),
        now(),
    );
    r.apply(&Change::insert("tasks", "c", obj(json!({"x": 1}))), now());
    let at = |r: &Replica, id| r.record("tasks", id).unwrap().field("x").unwrap().at();
    assert_eq!(at(&r, "a"), Stamp::At(t("2026-01-02T00:00:00Z")));
    assert_eq!(at(&r, "b"), Stamp::At(t("2026-01-01T00:00:00Z")));
    // Not the time of folding: folding again later must not change it.
    assert_eq!(at(&r, "c"), Stamp::Empty);
    let later = t("2030-01-01T00:00:00Z");
    r.apply(&Change::insert("tasks", "c", obj(json!({"x": 2}))), later);
    assert_eq!(at(&r, "c"), Stamp::Empty);
    assert_eq!(
        r.record("tasks", "c").unwrap().get("x").as_deref(),
        Some(&json!(2))
    );
    r.apply(
        &Change::update("tasks", "c").with_field("x", 3, t("2000-01-01T00:00:00Z")),
        later,
    );
    assert_eq!(
        r.record("tasks", "c").unwrap().get("x").as_deref(),
        Some(&json!(3)),
        "any stamped write wins over an unstamped insert"
    );
}

#[test]
fn insert_into_a_known_record_merges_by_stamp() {
    let mut r = Replica::new();
    r.apply(
        &Change::update("tasks", "t-1")
            .with_field("title", "new", t("2026-01-05T00:00:00Z"))
            .with_field("done", true, t("2026-01-01T00:00:00Z")),
        now(),
    );
    r.apply(
        &Change::insert(
            "tasks",
            "t-1",
            obj(json!({"title": "old", "done": false, "updatedAt": "2026-01-03T00:00:00Z"})),
        ),
        now(),
    );
    let rec = r.record("tasks", "t-1").unwrap();
    assert_eq!(
        rec.get("title").as_deref(),
        Some(&json!("new")),
        "the later update stays"
    );
    assert_eq!(
        rec.get("done").as_deref(),
        Some(&json!(false)),
        "the insert is later than the update's done"
    );
}

#[test]
fn update_replaces_only_when_later_or_equal() {
    let mut r = Replica::new();
    r.apply(
        &Change::update("tasks", "t-1").with_field("title", "b", t("2026-01-02T00:00:00Z")),
        now(),
    );
    r.apply(
        &Change::update("tasks", "t-1").with_field("title", "a", t("2026-01-01T00:00:00Z")),
        now(),
    );
    assert_eq!(title(&r), Some(json!("b")), "an older write loses");
    r.apply(
        &Change::update("tasks", "t-1").with_field("title", "c", t("2026-01-03T00:00:00Z")),
        now(),
    );
    assert_eq!(title(&r), Some(json!("c")), "a newer write wins");
}

#[test]
fn a_tie_goes_to_the_greater_value_whatever_the_order() {
    let at = t("2026-01-02T00:00:00Z");
    let first = Change::update("tasks", "t-1").with_field("title", "first", at);
    let second = Change::update("tasks", "t-1").with_field("title", "second", at);
    // Equal instants written differently are a tie too.
    let third: Change =
        serde_json::from_value(json!({"table": "tasks", "id": "t-1", "op": "update",
        "fields": {"title": {"value": "third", "at": "2026-01-02T01:00:00+01:00"}}}))
        .unwrap();
    for order in [
        [&first, &second, &third],
        [&third, &second, &first],
        [&second, &third, &first],
    ] {
        let mut r = Replica::new();
        for c in order {
            r.apply(c, now());
        }
        // "third" > "second" > "first": the browser would keep the last.
        assert_eq!(title(&r), Some(json!("third")));
    }
}

#[test]
fn update_of_an_unknown_record_reconstructs_it() {
    let mut r = Replica::new();
    let applied = r.apply(
        &Change::update("tasks", "t-9").with_field("title", "x", t("2026-01-01T00:00:00Z")),
        now(),
    );
    assert_eq!(applied, Applied::Applied(vec![]));
    assert_eq!(
        r.record("tasks", "t-9").unwrap().get("title").as_deref(),
        Some(&json!("x"))
    );
}

#[test]
fn an_empty_stamp_is_older_than_any_real_one() {
    let mut r = Replica::new();
    r.apply(
        &Change::update("tasks", "t-1").with_field("title", "real", t("1970-01-01T00:00:00Z")),
        now(),
    );
    let legacy: Change = serde_json::from_value(json!({"table": "tasks", "id": "t-1", "op": "update", "fields": {"title": {"value": "legacy", "at": ""}}})).unwrap();
    r.apply(&legacy, now());
    assert_eq!(title(&r), Some(json!("real")));
}

#[test]
fn soft_delete_is_a_stamped_field_and_hides_the_record() {
    let mut r = Replica::new();
    r.apply(
        &Change::insert("tasks", "t-1", obj(json!({"title": "x"}))),
        now(),
    );
    r.apply(
        &Change::delete("tasks", "t-1", t("2026-01-02T00:00:00Z")),
        now(),
    );
    assert!(r.record("tasks", "t-1").unwrap().is_deleted());
    assert_eq!(r.records("tasks").count(), 0);
    assert_eq!(r.all_records("tasks").count(), 1);
    // An older delete does not move the stamp back.
    r.apply(
        &Change::delete("tasks", "t-1", t("2026-01-01T00:00:00Z")),
        now(),
    );
    assert_eq!(
        r.record("tasks", "t-1")
            .unwrap()
            .get("deletedAt")
            .as_deref(),
        Some(&json!("2026-01-02T00:00:00.000Z"))
    );
}

#[test]
fn a_top_level_deleted_at_makes_any_change_a_delete() {
    let mut r = Replica::new();
    r.apply(
        &Change::insert("tasks", "t-1", obj(json!({"title": "x"}))),
        now(),
    );
    let mut c = Change::update("tasks", "t-1").with_field("title", "y", t("2026-01-05T00:00:00Z"));
    c.deleted_at = Some(Stamp::At(t("2026-01-03T00:00:00Z")));
    r.apply(&c, now());
    let rec = r.record("tasks", "t-1").unwrap();
    assert!(rec.is_deleted());
    assert_eq!(
        rec.get("title").as_deref(),
        Some(&json!("x")),
        "its fields are not applied"
    );
}

#[test]
fn a_hard_delete_is_final_and_a_soft_delete_waits_for_its_record() {
    let mut r = Replica::new();
    assert_eq!(
        r.apply(
            &Change::delete("tasks", "t-1", t("2026-01-03T00:00:00Z")),
            now()
        ),
        Applied::Ignored
    );
    assert!(
        r.record("tasks", "t-1").is_none(),
        "no record from a delete alone"
    );
    // The record arrives after its delete (a late commit): it is deleted.
    r.apply(
        &Change::update("tasks", "t-1").with_field("title", "x", t("2026-01-01T00:00:00Z")),
        now(),
    );
    assert!(r.record("tasks", "t-1").unwrap().is_deleted());
    // A later write of deletedAt brings it back, as in the browser.
    r.apply(
        &Change::update("tasks", "t-1").with_field(
            "deletedAt",
            Value::Null,
            t("2026-01-04T00:00:00Z"),
        ),
        now(),
    );
    assert!(!r.record("tasks", "t-1").unwrap().is_deleted());

    assert_eq!(
        r.apply(&Change::hard_delete("tasks", "t-2"), now()),
        Applied::Ignored
    );
    r.apply(
        &Change::insert("tasks", "t-1", obj(json!({"title": "x"}))),
        now(),
    );
    assert!(matches!(
        r.apply(&Change::hard_delete("tasks", "t-1"), now()),
        Applied::Applied(_)
    ));
    assert!(r.record("tasks", "t-1").is_none());
    // A hard delete carries no time, so nothing can be ordered after it: a
    // later insert or update of the record is absorbed (the browser would
    // bring the record back, and so disagree with a fold in another order).
    for c in [
        Change::insert("tasks", "t-1", obj(json!({"title": "x"}))),
        Change::update("tasks", "t-1").with_field("b", 1, t("2030-01-01T00:00:00Z")),
        Change::insert("tasks", "t-2", obj(json!({"title": "y"}))),
    ] {
        assert_eq!(r.apply(&c, now()), Applied::Ignored);
    }
    assert_eq!(r.len("tasks"), 0);
}

/// The issue's example: insert x; hard delete x; later soft delete x and
/// update x.b. Re-reading any suffix (an overlap) must change nothing.
#[test]
fn race_overlap_reread_after_a_hard_delete_changes_nothing() {
    let log = vec![
        Change::insert(
            "tasks",
            "x",
            obj(json!({"a": 1, "updatedAt": "2026-01-01T00:00:00Z"})),
        ),
        Change::hard_delete("tasks", "x"),
        Change::delete("tasks", "x", t("2026-01-01T00:00:02Z")),
        Change::update("tasks", "x").with_field("b", 2, t("2026-01-01T00:00:03Z")),
    ];
    let mut fresh = Replica::new();
    fresh.apply_all(&log);
    for from in 0..log.len() {
        let mut reread = fresh.clone();
        reread.apply_all(&log[from..]);
        assert_eq!(
            state(&reread),
            state(&fresh),
            "re-reading from change {from}"
        );
        // And every order of the log.
        let mut reversed = Replica::new();
        reversed.apply_all(log.iter().rev());
        assert_eq!(state(&reversed), state(&fresh));
    }
    // Incremental: two reads, the second re-reading a window.
    let mut incremental = Replica::new();
    incremental.apply_all(&log[..2]);
    incremental.apply_all(&log[1..]);
    assert_eq!(state(&incremental), state(&fresh));
}

#[test]
fn snapshots_from_before_the_overlap_memory_still_load() {
    let old = r#"{"tables":{"tasks":{"t-1":{"id":"t-1","fields":{"title":{"value":"x","at":"2026-01-01T00:00:00.000Z"}}}}},
                 "cursors":{"tasks":"2026-11-24T22:21:44.564112Z"},"dropped":0}"#;
    let r: Replica = serde_json::from_str(old).unwrap();
    assert_eq!(r.len("tasks"), 1);
    assert_eq!(r.overlap(), mana_sync_core::fold::DEFAULT_OVERLAP);
    assert_eq!(r.read_from("tasks").as_str(), "2026-11-24T22:21:39.564112Z");
    assert!(r.seen("tasks").is_none());
    let off = r.clone().with_overlap(std::time::Duration::ZERO);
    assert_eq!(
        off.read_from("tasks").as_str(),
        "2026-11-24T22:21:44.564112Z"
    );
    let back: Replica = serde_json::from_str(&serde_json::to_string(&off).unwrap()).unwrap();
    assert_eq!(back, off, "the overlap is saved");
}

#[test]
fn malformed_changes_are_dropped_and_counted() {
    let mut r = Replica::new();
    let bad: Vec<Change> = [
        json!({"table": "", "id": "1", "op": "insert", "data": {}}),
        json!({"table": "t", "id": "", "op": "insert", "data": {}}),
        json!({"table": "t", "id": "1", "op": "upsert", "data": {}}),
        json!({"table": "t", "id": "1", "op": "insert"}),
        json!({"table": "t", "id": "1", "op": "update"}),
        json!({"table": "t", "id": "1", "op": "update", "fields": {"x": {"value": 1, "at": "soon"}}}),
    ]
    .into_iter()
    .map(|v| serde_json::from_value(v).unwrap())
    .collect();
    let report = r.apply_all(&bad);
    assert_eq!(report.dropped.len(), 6);
    assert_eq!(report.applied, 0);
    assert_eq!(r.dropped(), 6);
    assert_eq!(r.len("t"), 0);
}

#[test]
fn conflicts_are_reported_when_a_users_write_loses() {
    let mut r = Replica::new();
    let user = Change::update("tasks", "t-1")
        .with_field("title", "mine", t("2026-01-01T00:00:00Z"))
        .with_origin(Origin::User);
    r.apply(&user, now());
    let agent = Change::update("tasks", "t-1")
        .with_field("title", "theirs", t("2026-01-02T00:00:00Z"))
        .with_origin(Origin::Agent);
    let Applied::Applied(conflicts) = r.apply(&agent, now()) else {
        panic!()
    };
    assert_eq!(conflicts.len(), 1);
    assert_eq!(
        (
            conflicts[0].local_value.clone(),
            conflicts[0].incoming_value.clone()
        ),
        (json!("mine"), json!("theirs"))
    );
    // No conflict: same value, or a tie, or the local write was not the user's.
    let mut r2 = Replica::new();
    r2.apply(&user, now());
    let same =
        Change::update("tasks", "t-1").with_field("title", "mine", t("2026-01-02T00:00:00Z"));
    assert_eq!(r2.apply(&same, now()), Applied::Applied(vec![]));
    let tie = Change::update("tasks", "t-1").with_field("title", "x", t("2026-01-02T00:00:00Z"));
    assert_eq!(r2.apply(&tie, now()), Applied::Applied(vec![]));
}

#[test]
fn snapshot_round_trips() {
    let mut r = Replica::new();
    r.apply(
        &Change::insert("tasks", "t-1", obj(json!({"title": "x", "n": 1.5})))
            .with_origin(Origin::User),
        now(),
    );
    r.apply(&Change::delete("tasks", "t-1", now()), now());
    r.apply(&Change::hard_delete("tasks", "t-2"), now());
    r.apply(&Change::delete("tasks", "t-3", now()), now());
    r.set_cursor(
        "tasks",
        mana_sync_core::Cursor::parse("2026-11-24T22:21:44.564112Z").unwrap(),
    );
    let text = serde_json::to_string(&r).unwrap();
    let back: Replica = serde_json::from_str(&text).unwrap();
    assert_eq!(back, r);
    assert_eq!(
        back.cursor("tasks").unwrap().as_str(),
        "2026-11-24T22:21:44.564112Z"
    );
}

// --- properties -------------------------------------------------------------

/// Changes over a few records and fields: inserts (stamped or not), updates,
/// soft and hard deletes, with stamps from a small range so that equal
/// stamps (with different values) are common.
fn changes() -> impl Strategy<Value = Vec<Change>> {
    let one = (0..7usize, 0..4usize, 0..3usize, 0..4u8, 0..6i64);
    prop::collection::vec(one, 1..40).prop_map(|specs| {
        specs
            .into_iter()
            .map(|(kind, rec, field, v, ms)| {
                let at = Timestamp::from_unix_millis(1_767_225_600_000 + ms).unwrap();
                let id = format!("r{rec}");
                let name = format!("f{field}");
                match kind {
                    0 => {
                        let mut data = Map::new();
                        data.insert(name, json!(v));
                        data.insert("updatedAt".into(), json!(at.to_string()));
                        Change::insert("t", id, data)
                    }
                    1 => {
                        let mut data = Map::new();
                        data.insert(name, json!(v));
                        Change::insert("t", id, data)
                    }
                    2 => Change::delete("t", id, at),
                    3 if rec == 3 => Change::hard_delete("t", id),
                    _ => Change::update("t", id).with_field(name, v, at),
                }
                .with_origin(if v % 2 == 0 {
                    Origin::User
                } else {
                    Origin::Agent
                })
            })
            .collect()
    })
}

/// The records, stamps and origins included.
fn state(r: &Replica) -> Vec<Record> {
    r.all_records("t")
        .chain(r.all_records("tasks"))
        .cloned()
        .collect()
}

fn shuffle<T>(items: &mut [T], seed: u64) {
    let mut s = seed | 1;
    for i in (1..items.len()).rev() {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        items.swap(i, (s % (i as u64 + 1)) as usize);
    }
}

fn fold(changes: &[Change]) -> Replica {
    let mut r = Replica::new();
    r.apply_all(changes);
    r
}

proptest! {
    #[test]
    fn any_order_converges(changes in changes(), seed in any::<u64>()) {
        let mut shuffled = changes.clone();
        shuffle(&mut shuffled, seed);
        prop_assert_eq!(state(&fold(&changes)), state(&fold(&shuffled)));
    }

    #[test]
    fn re_applying_a_random_suffix_changes_nothing(changes in changes(), cut in any::<prop::sample::Index>()) {
        let reference = fold(&changes);
        let mut again = reference.clone();
        again.apply_all(&changes[cut.index(changes.len())..]);
        prop_assert_eq!(state(&again), state(&reference));
        // Each change applied twice in a row.
        let mut each_twice = Replica::new();
        for c in &changes {
            each_twice.apply(c, now());
            each_twice.apply(c, now());
        }
        prop_assert_eq!(state(&each_twice), state(&reference));
    }

    /// Incremental reads with overlaps: the log is read in windows that
    /// start anywhere before the previous one ended (re-reading part of it),
    /// some windows delivered out of order (late commits).
    #[test]
    fn random_overlaps_and_late_deliveries_give_the_full_fold(
        changes in changes(),
        steps in prop::collection::vec((1usize..8, 0usize..6, any::<bool>()), 1..20),
    ) {
        let reference = fold(&changes);
        let mut incremental = Replica::new();
        let mut end = 0usize;
        for (advance, back, reverse) in steps {
            let start = end.saturating_sub(back);
            end = (end + advance).min(changes.len());
            let mut window: Vec<Change> = changes[start..end].to_vec();
            if reverse {
                window.reverse();
            }
            incremental.apply_all(&window);
        }
        let start = end.saturating_sub(3);
        incremental.apply_all(&changes[start..]);
        prop_assert_eq!(state(&incremental), state(&reference));
        // Saved and loaded in the middle changes nothing either.
        let loaded: Replica = serde_json::from_str(&serde_json::to_string(&incremental).unwrap()).unwrap();
        prop_assert_eq!(state(&loaded), state(&reference));
    }

    #[test]
    fn page_splits_do_not_matter(changes in changes(), split in 1usize..10) {
        let whole = fold(&changes);
        let mut paged = Replica::new();
        for page in changes.chunks(split) {
            paged.apply_all(page);
        }
        prop_assert_eq!(whole, paged);
    }
}

#[test]
fn a_snapshot_loads_and_saves_back_unchanged_whatever_its_fields_hold() {
    // Every kind of value, an unreadable stamp, an origin of another name,
    // a pending soft delete and a hard delete: saved back as it was read.
    let text = r#"{"tables":{"tasks":{"a":{"id":"a","fields":{"n":{"value":1.5,"at":"2026-01-01T00:00:00.000Z","origin":"bot"},"o":{"value":{"k":[1,null]},"at":""},"s":{"value":"x","at":"soon","origin":"user"}}},"b":{"id":"b","fields":{"deletedAt":{"value":"2026-01-02T00:00:00.000Z","at":"2026-01-02T00:00:00.000Z"}}}}},"cursors":{},"dropped":2,"tombstones":{"tasks":{"c":{"hard":true},"d":{"fields":{"deletedAt":{"value":"2026-01-03T00:00:00.000Z","at":"2026-01-03T00:00:00.000Z","origin":"agent"}}}}},"overlap_ms":5000}"#;
    let r: Replica = serde_json::from_str(text).unwrap();
    assert_eq!(serde_json::to_string(&r).unwrap(), text);
    let a = r.record("tasks", "a").unwrap();
    assert_eq!(a.field("s").unwrap().at(), Stamp::Unreadable("soon".into()));
    assert_eq!(
        a.field("n").unwrap().origin(),
        Some(Origin::Other("bot".into()))
    );
    assert_eq!(a.get("o").as_deref(), Some(&json!({"k": [1, null]})));
    assert!(r.record("tasks", "b").unwrap().is_deleted());
    // The pending soft delete applies when its record arrives; the hard
    // delete stays final.
    let mut r = r;
    r.apply(&Change::insert("tasks", "d", obj(json!({"x": 1}))), now());
    r.apply(&Change::insert("tasks", "c", obj(json!({"x": 1}))), now());
    assert!(r.record("tasks", "d").unwrap().is_deleted());
    assert!(r.record("tasks", "c").is_none());
}

#[test]
fn a_table_emptied_by_hard_deletes_equals_no_table() {
    let mut emptied = Replica::new();
    emptied.apply(&Change::insert("tasks", "a", obj(json!({"x": 1}))), now());
    emptied.apply(&Change::hard_delete("tasks", "a"), now());
    let mut never = Replica::new();
    never.apply(&Change::hard_delete("tasks", "a"), now());
    assert_eq!(emptied, never);
    assert_eq!(emptied.len("tasks"), 0);
    assert_eq!(
        serde_json::to_string(&emptied).unwrap(),
        serde_json::to_string(&never).unwrap()
    );
    assert_ne!(emptied, Replica::new(), "the tombstone differs");
}

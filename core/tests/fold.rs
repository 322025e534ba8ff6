//! The browser's fold rules, one test each, and the properties the fold
//! keeps.

#![allow(clippy::unwrap_used)]

use mana_sync_core::fold::{Applied, Replica};
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
        .and_then(|rec| rec.get("title").cloned())
}

#[test]
fn insert_of_an_unknown_record_stamps_fields_with_updated_at_then_created_at_then_now() {
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
    let at = |id| r.record("tasks", id).unwrap().fields["x"].at.clone();
    assert_eq!(at("a"), Stamp::At(t("2026-01-02T00:00:00Z")));
    assert_eq!(at("b"), Stamp::At(t("2026-01-01T00:00:00Z")));
    assert_eq!(at("c"), Stamp::At(now()));
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
        rec.get("title"),
        Some(&json!("new")),
        "the later update stays"
    );
    assert_eq!(
        rec.get("done"),
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
fn a_tie_goes_to_the_incoming_change() {
    let mut r = Replica::new();
    let at = t("2026-01-02T00:00:00Z");
    r.apply(
        &Change::update("tasks", "t-1").with_field("title", "first", at),
        now(),
    );
    r.apply(
        &Change::update("tasks", "t-1").with_field("title", "second", at),
        now(),
    );
    assert_eq!(title(&r), Some(json!("second")));
    // Equal instants written differently are a tie too.
    let mut c = Change::update("tasks", "t-1");
    c.fields = Some(
        [(
            "title".to_owned(),
            serde_json::from_value(json!({"value": "third", "at": "2026-01-02T01:00:00+01:00"}))
                .unwrap(),
        )]
        .into(),
    );
    r.apply(&c, now());
    assert_eq!(title(&r), Some(json!("third")));
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
        r.record("tasks", "t-9").unwrap().get("title"),
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
        r.record("tasks", "t-1").unwrap().get("deletedAt"),
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
        rec.get("title"),
        Some(&json!("x")),
        "its fields are not applied"
    );
}

#[test]
fn hard_delete_removes_and_delete_of_unknown_is_ignored() {
    let mut r = Replica::new();
    assert_eq!(
        r.apply(&Change::hard_delete("tasks", "t-1"), now()),
        Applied::Ignored
    );
    assert_eq!(
        r.apply(&Change::delete("tasks", "t-1", now()), now()),
        Applied::Ignored
    );
    r.apply(
        &Change::insert("tasks", "t-1", obj(json!({"title": "x"}))),
        now(),
    );
    r.apply(&Change::hard_delete("tasks", "t-1"), now());
    assert!(r.record("tasks", "t-1").is_none());
    // Order matters here, as in the browser: an insert after a hard delete
    // brings the record back.
    r.apply(
        &Change::insert("tasks", "t-1", obj(json!({"title": "x"}))),
        now(),
    );
    assert!(r.record("tasks", "t-1").is_some());
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
    let report = r.apply_all(&bad, now());
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

/// Changes over a few records and fields, with distinct stamps (the index
/// is the stamp's millisecond), and soft deletes only.
fn changes() -> impl Strategy<Value = Vec<Change>> {
    let one = (0..4usize, 0..3usize, 0..3usize, any::<u8>());
    prop::collection::vec(one, 1..40).prop_map(|specs| {
        specs
            .into_iter()
            .enumerate()
            .map(|(i, (kind, rec, field, v))| {
                let at = Timestamp::from_unix_millis(1_767_225_600_000 + i as i64).unwrap();
                let id = format!("r{rec}");
                let name = format!("f{field}");
                match kind {
                    0 => {
                        let mut data = Map::new();
                        data.insert(name, json!(v));
                        data.insert("updatedAt".into(), json!(at.to_string()));
                        Change::insert("t", id, data)
                    }
                    3 => Change::delete("t", id, at),
                    _ => Change::update("t", id).with_field(name, v, at),
                }
            })
            .collect()
    })
}

/// The records, without the `updatedAt` bookkeeping field.
fn state(r: &Replica) -> Vec<(String, Map<String, Value>)> {
    r.all_records("t")
        .map(|rec| {
            let mut m = rec.to_json();
            m.remove("updatedAt");
            (rec.id.clone(), m)
        })
        .collect()
}

/// Moves each delete after the first other change of its record: a delete
/// of a record not yet known is ignored (the browser's rule, pinned above).
fn deletes_after_creation(mut order: Vec<Change>) -> Vec<Change> {
    let mut out: Vec<Change> = Vec::new();
    let mut pending: Vec<Change> = Vec::new();
    for c in order.drain(..) {
        let known = out.iter().any(|o| o.id == c.id);
        if c.deleted_at.is_some() && !known {
            pending.push(c);
            continue;
        }
        let id = c.id.clone();
        out.push(c);
        let (ready, rest): (Vec<_>, Vec<_>) = pending.into_iter().partition(|p| p.id == id);
        out.extend(ready);
        pending = rest;
    }
    out
}

proptest! {
    #[test]
    fn any_order_converges(changes in changes(), seed in any::<u64>()) {
        let mut reference = Replica::new();
        reference.apply_all(&deletes_after_creation(changes.clone()), now());
        let mut shuffled = changes.clone();
        // A deterministic shuffle from the seed.
        let mut s = seed | 1;
        for i in (1..shuffled.len()).rev() {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            shuffled.swap(i, (s % (i as u64 + 1)) as usize);
        }
        let mut other = Replica::new();
        other.apply_all(&deletes_after_creation(shuffled), now());
        prop_assert_eq!(state(&reference), state(&other));
    }

    #[test]
    fn applying_twice_changes_nothing(changes in changes()) {
        // Each change applied twice in a row.
        let mut once = Replica::new();
        once.apply_all(&changes, now());
        let mut each_twice = Replica::new();
        for c in &changes {
            each_twice.apply(c, now());
            each_twice.apply(c, now());
        }
        prop_assert_eq!(state(&once), state(&each_twice));
        // A whole batch again (a retried pull), once every record exists.
        let ordered = deletes_after_creation(changes);
        let mut first = Replica::new();
        first.apply_all(&ordered, now());
        let mut again = first.clone();
        again.apply_all(&ordered, now());
        prop_assert_eq!(state(&first), state(&again));
    }

    #[test]
    fn page_splits_do_not_matter(changes in changes(), split in 1usize..10) {
        let mut whole = Replica::new();
        whole.apply_all(&changes, now());
        let mut paged = Replica::new();
        for page in changes.chunks(split) {
            paged.apply_all(page, now());
        }
        prop_assert_eq!(whole, paged);
    }
}

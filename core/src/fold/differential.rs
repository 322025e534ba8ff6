//! The fold straight from a page's text ([`Replica::apply_ref`]) against the
//! fold of each change copied out ([`Replica::apply`] of
//! [`crate::wire::ChangeRef::to_change`]): the same verdict for every
//! change and the same replica after every page, on generated pages whose
//! changes meet, tie, conflict and delete each other, written plainly or
//! with escapes, names out of order, repeated members and nulls, and on
//! the pages of the captures and of the reading's own differential tests.

#![allow(clippy::unwrap_used)]

use proptest::prelude::*;

use super::Replica;
use crate::SyncResponse;

/// Folds `body`'s changes both ways, `rounds` times over (so that later
/// rounds merge into records the earlier ones made), and checks that both
/// agree change by change. Returns how many changes the page held.
pub(crate) fn folds_alike(body: &[u8], rounds: usize) -> usize {
    let Ok(page) = serde_json::from_slice::<SyncResponse>(body) else {
        return 0;
    };
    let shown = String::from_utf8_lossy(body);
    let (mut by_ref, mut by_copy) = (Replica::new(), Replica::new());
    for round in 0..rounds {
        let changes: Vec<_> = if round % 2 == 0 {
            page.server_changes.iter().collect()
        } else {
            page.server_changes.iter().rev().collect()
        };
        for change in changes {
            let copy = change.to_change();
            let want = by_copy.apply(&copy, crate::Timestamp::UNIX_EPOCH);
            let got = by_ref.apply_ref(change);
            assert_eq!(got, want, "{copy:?} in {shown}");
        }
        assert_eq!(by_ref, by_copy, "round {round} of {shown}");
        assert_eq!(by_ref.dropped(), by_copy.dropped(), "{shown}");
    }
    page.server_changes.len()
}

/// One of `texts`, each as likely.
fn one_of(texts: &[&'static str]) -> impl Strategy<Value = String> {
    prop::sample::select(texts.to_vec()).prop_map(str::to_owned)
}

fn stamp() -> impl Strategy<Value = String> {
    one_of(&[
        r#""2026-01-01T00:00:01.000Z""#,
        r#""2026-01-01T00:00:02Z""#,
        r#""2026-01-01T01:00:02+01:00""#,
        r#""""#,
        r#""yesterday""#,
        "null",
        r#""2026-01-01T00:00:0\u0031Z""#,
    ])
}

fn value() -> impl Strategy<Value = String> {
    one_of(&[
        "null",
        "true",
        "false",
        "1",
        "1.0",
        "-0",
        "1e3",
        r#""x""#,
        r#""y""#,
        r#""a\"b\n""#,
        r#""\u00e9""#,
        r#"[1,"x",null]"#,
        r#"{"b":1,"a":[{}]}"#,
        r#""2026-01-01T00:00:02Z""#,
        "18446744073709551615",
        "18446744073709551616",
        "-5",
        "0.1",
        "1234567890123456789",
    ])
}

fn name() -> impl Strategy<Value = String> {
    one_of(&[
        "a",
        "b",
        "title",
        "deletedAt",
        "updatedAt",
        "createdAt",
        r"t\u0069tle",
        r"a\nb",
    ])
}

/// An object of `members`, sorted by name first when `sorted` (as the real
/// server writes its maps), else in the order drawn (repeats kept).
fn object(mut members: Vec<(String, String)>, sorted: bool) -> String {
    if sorted {
        members.sort();
        members.dedup_by(|a, b| a.0 == b.0);
    }
    let members: Vec<String> = members
        .iter()
        .map(|(k, v)| format!("\"{k}\":{v}"))
        .collect();
    format!("{{{}}}", members.join(","))
}

fn change() -> impl Strategy<Value = String> {
    let id = prop_oneof![Just("r-1"), Just("r-2"), Just(r"r-\u0031")];
    let op = prop_oneof![
        3 => Just("insert"),
        3 => Just("update"),
        1 => Just("delete"),
        1 => Just("upsert"),
    ];
    let origin = prop_oneof![
        Just(String::new()),
        Just(r#","origin":"user""#.to_owned()),
        Just(r#","origin":"agent""#.to_owned()),
        Just(r#","origin":"robot""#.to_owned()),
        Just(r#","origin":null"#.to_owned()),
    ];
    let deleted = prop_oneof![
        6 => Just(String::new()),
        1 => stamp().prop_map(|s| format!(r#","deletedAt":{s}"#)),
    ];
    let data = prop::collection::vec((name(), value()), 0..4);
    let plain_field = (value(), stamp(), any::<bool>()).prop_map(|(v, at, legacy)| {
        let key = if legacy { "updatedAt" } else { "at" };
        format!(r#"{{"value":{v},"{key}":{at}}}"#)
    });
    // Members in any order, repeated or missing, unknown ones among them.
    let member = prop_oneof![
        value().prop_map(|v| format!(r#""value":{v}"#)),
        stamp().prop_map(|s| format!(r#""at":{s}"#)),
        stamp().prop_map(|s| format!(r#""updatedAt":{s}"#)),
        value().prop_map(|v| format!(r#""x":{v}"#)),
        Just(r#""at":5"#.to_owned()),
    ];
    let odd_field =
        prop::collection::vec(member, 0..5).prop_map(|m| format!("{{{}}}", m.join(",")));
    let field = prop_oneof![3 => plain_field, 1 => odd_field];
    let fields = prop::collection::vec((name(), field), 0..4);
    let extra = prop_oneof![
        4 => Just(String::new()),
        1 => Just(r#","actor":{"kind":"ai","deep":[[1]]},"spaceId":"s","schemaVersion":1"#.to_owned()),
        1 => Just(r#","data":null,"fields":null"#.to_owned()),
        1 => Just(r#","other":{"x":[1e400]}"#.to_owned()),
    ];
    (id, op, origin, deleted, data, fields, any::<bool>(), any::<u8>(), extra).prop_map(
        |(id, op, origin, deleted, data, fields, sorted, which, extra)| {
            let body = match (op, which % 4) {
                ("insert", 0) => String::new(),
                ("insert", _) => format!(r#","data":{}"#, object(data, sorted)),
                ("update", 0) => String::new(),
                ("update", _) => format!(r#","fields":{}"#, object(fields, sorted)),
                (_, 0) => format!(r#","data":{}"#, object(data, sorted)),
                _ => String::new(),
            };
            format!(
                r#"{{"eventId":"00000000-0000-4000-8000-00000000000{}","table":"t","id":"{id}","op":"{op}"{body}{origin}{deleted}{extra}}}"#,
                which % 10
            )
        },
    )
}

fn page(changes: &[String]) -> String {
    format!(
        r#"{{"serverChanges":[{}],"syncedUntil":"2026-11-24T22:21:44.5Z"}}"#,
        changes.join(",")
    )
}

/// The generator makes every kind of change the fold tells apart.
#[test]
fn the_generated_pages_reach_every_path() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = prop::collection::vec(change(), 1..12);
    let (mut changes, mut fast, mut conflicts, mut dropped) = (0, 0, 0, 0);
    for _ in 0..300 {
        let drawn = strategy.new_tree(&mut runner).unwrap().current();
        let body = page(&drawn);
        changes += folds_alike(body.as_bytes(), 2);
        let page: SyncResponse = serde_json::from_slice(body.as_bytes()).unwrap();
        let mut replica = Replica::new();
        for change in &page.server_changes {
            fast += usize::from(change.written().is_some());
            match replica.apply_ref(change) {
                super::Applied::Applied(c) => conflicts += c.len(),
                super::Applied::Dropped(_) => dropped += 1,
                super::Applied::Ignored => {}
            }
        }
    }
    assert!(changes > 1000, "{changes} changes");
    assert!(fast > changes / 4, "{fast} of {changes} read from the text");
    assert!(fast < changes, "some are copied out");
    assert!(
        conflicts > 0 && dropped > 0,
        "{conflicts} conflicts, {dropped} dropped"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn generated_pages_fold_alike(changes in prop::collection::vec(change(), 0..12)) {
        folds_alike(page(&changes).as_bytes(), 3);
    }
}

//! `PullAll` by hand with canned pages: ties at page boundaries, changes
//! re-read and recognised, the resume point of a slow pull, and what a
//! replica keeps between reads.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use mana_sync_core::fold::{FoldReport, Replica, Seen, SeenKey};
use mana_sync_core::ops::{PullAll, PullAllOutcome, PullInto};
use mana_sync_core::{Config, Cursor, Error, Operation, Step, Timestamp, TransportError};
use serde_json::{json, Value};

fn t(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

fn config() -> Config {
    Config::new("http://sync.test", "token", "agent-1").unwrap()
}

fn change(event: &str, id: &str) -> Value {
    json!({"eventId": event, "table": "tasks", "id": id, "op": "update",
           "fields": {"v": {"value": id, "at": "2026-01-01T00:00:00.000Z"}}})
}

fn page(
    changes: &[Value],
    until: &str,
    more: bool,
) -> Result<http::Response<Vec<u8>>, TransportError> {
    let mut body = json!({"serverChanges": changes, "conflicts": [], "syncedUntil": until});
    if more {
        body["hasMore"] = json!(true);
    }
    Ok(http::Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&body).unwrap())
        .unwrap())
}

/// Drives `op` through `pages`, the clock reading `times[i]` when page `i`
/// is asked for and answered; returns the `since` of every request.
fn drive(
    mut op: PullAll,
    pages: Vec<Result<http::Response<Vec<u8>>, TransportError>>,
    times: &[Timestamp],
) -> (Vec<String>, Result<PullAllOutcome, Error>) {
    let mut sinces = Vec::new();
    for (i, response) in pages.into_iter().enumerate() {
        match op.step(times[i]) {
            Step::Send(r) => {
                let q = r.uri().query().unwrap().to_owned();
                sinces.push(q.split("since=").nth(1).unwrap().replace("%3A", ":"));
            }
            other => panic!("{other:?}"),
        }
        op.on_response(times[i], response);
    }
    match op.step(times[times.len() - 1]) {
        Step::Done(r) => (sinces, r),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_rest_of_a_tie_is_read_and_the_repeats_dropped() {
    let now = t("2026-01-01T00:00:10Z");
    let op = PullAll::new(&config(), "todo", "tasks", &Cursor::EPOCH).unwrap();
    let (sinces, out) = drive(
        op,
        vec![
            page(
                &[change("e1", "a"), change("e2", "b")],
                "2026-01-01T00:00:01.000005Z",
                true,
            ),
            // Asked from 1 µs before: e2 again (dropped), then the rest of
            // its tie (e3) and later rows.
            page(
                &[change("e2", "b"), change("e3", "c"), change("e4", "d")],
                "2026-01-01T00:00:02Z",
                true,
            ),
            page(
                &[change("e4", "d"), change("e5", "e")],
                "2026-01-01T00:00:03.123456789Z",
                false,
            ),
        ],
        &[now, now, now],
    );
    assert_eq!(
        sinces,
        [
            "1970-01-01T00:00:00.000Z",
            "2026-01-01T00:00:01.000004Z",
            "2026-01-01T00:00:01.999999Z"
        ]
    );
    let out = out.unwrap();
    let ids: Vec<String> = out.changes.iter().map(|c| c.id().into_owned()).collect();
    assert_eq!(ids, ["a", "b", "c", "d", "e"]);
    assert_eq!(out.repeated, 2);
    assert_eq!(out.cursor.as_str(), "2026-01-01T00:00:03.123456789Z");
    assert_eq!(
        out.resume, out.cursor,
        "no time passed: nothing to hold back"
    );
    assert_eq!(out.seen().len(), 5);
}

#[test]
fn a_page_that_does_not_leave_its_tie_is_an_error() {
    let now = t("2026-01-01T00:00:10Z");
    let op = PullAll::new(&config(), "todo", "tasks", &Cursor::EPOCH).unwrap();
    let (sinces, out) = drive(
        op,
        vec![
            page(&[change("e1", "a")], "2026-01-01T00:00:01Z", true),
            page(&[change("e2", "b")], "2026-01-01T00:00:01Z", true),
        ],
        &[now, now],
    );
    assert_eq!(sinces.len(), 2);
    match out {
        Err(Error::Protocol { reason }) => {
            assert!(reason.contains("shares the instant"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_slow_pull_resumes_from_before_its_first_page() {
    // Three pages over 4 seconds of the caller's clock: a change that
    // committed late behind page 1's boundary lies after cursor - 4 s.
    let times = [
        t("2026-01-01T00:00:10Z"),
        t("2026-01-01T00:00:12Z"),
        t("2026-01-01T00:00:14Z"),
    ];
    let op = PullAll::new(&config(), "todo", "tasks", &Cursor::EPOCH).unwrap();
    let (_, out) = drive(
        op,
        vec![
            page(&[change("e1", "a")], "2026-01-01T00:00:09Z", true),
            page(&[change("e2", "b")], "2026-01-01T00:00:11Z", true),
            page(&[change("e3", "c")], "2026-01-01T00:00:14.5Z", false),
        ],
        &times,
    );
    let out = out.unwrap();
    assert_eq!(out.cursor.as_str(), "2026-01-01T00:00:14.5Z");
    assert_eq!(out.resume.timestamp(), t("2026-01-01T00:00:10.5Z"));
}

#[test]
fn a_replica_reads_with_its_overlap_and_keeps_only_the_window() {
    let mut replica = Replica::new(); // 5 s overlap
    let first = PullAll::for_replica(&config(), "todo", "tasks", &replica).unwrap();
    assert_eq!(first.since(), &Cursor::EPOCH);
    let now = t("2026-01-01T00:01:00Z");
    let (_, out) = drive(
        first,
        vec![page(
            &[change("e1", "a"), change("e2", "b")],
            "2026-01-01T00:00:10Z",
            false,
        )],
        &[now],
    );
    let report = out.unwrap().apply_to(&mut replica, "tasks", now);
    assert_eq!(report.applied, 2);
    assert_eq!(replica.seen("tasks").unwrap().len(), 2);

    // Saved and loaded: the next read starts 5 s back and skips a and b.
    let mut replica: Replica =
        serde_json::from_str(&serde_json::to_string(&replica).unwrap()).unwrap();
    let second = PullAll::for_replica(&config(), "todo", "tasks", &replica).unwrap();
    assert_eq!(second.since().as_str(), "2026-01-01T00:00:05.000Z");
    let (_, out) = drive(
        second,
        vec![page(
            &[change("e2", "b"), change("e3", "c")],
            "2026-01-01T00:00:30Z",
            false,
        )],
        &[now],
    );
    let report = out.unwrap().apply_to(&mut replica, "tasks", now);
    assert_eq!((report.applied, report.repeated), (1, 1));
    // Bounded: what lies before cursor - 2 overlaps (00:00:20) is
    // forgotten: a (page bound 00:00:10); b was read again by the page
    // bounded by 00:00:30, so it stays with c.
    let seen = replica.seen("tasks").unwrap();
    assert_eq!(seen.len(), 2);
    assert!(!seen.contains(&SeenKey::Event("e1".into())));
    assert!(seen.contains(&SeenKey::Event("e2".into())));
}

#[test]
fn skipping_an_earlier_read_counts_repeats() {
    let mut seen = Seen::new();
    let earlier: mana_sync_core::Change = serde_json::from_value(change("e1", "a")).unwrap();
    seen.first_time(&earlier, t("2026-01-01T00:00:01Z"));
    let op = PullAll::new(&config(), "todo", "tasks", &Cursor::EPOCH)
        .unwrap()
        .overlap(Duration::from_secs(5))
        .skipping(seen);
    let now = t("2026-01-01T00:00:10Z");
    let (_, out) = drive(
        op,
        vec![page(
            &[change("e1", "a"), change("e2", "b")],
            "2026-01-01T00:00:02Z",
            false,
        )],
        &[now],
    );
    let out = out.unwrap();
    assert_eq!(out.changes.len(), 1);
    assert_eq!(out.repeated, 1);
}

/// Three pages, each re-reading the last change of the one before (e2, e3);
/// the last one ends with e4 and then `more`.
fn three_pages(more: &[Value]) -> Vec<Result<http::Response<Vec<u8>>, TransportError>> {
    let mut last = vec![change("e3", "c"), change("e4", "d")];
    last.extend_from_slice(more);
    vec![
        page(
            &[change("e1", "a"), change("e2", "b")],
            "2026-01-01T00:00:01.000005Z",
            true,
        ),
        page(
            &[change("e2", "b"), change("e3", "c")],
            "2026-01-01T00:00:05Z",
            true,
        ),
        page(&last, "2026-01-01T00:00:09Z", false),
    ]
}

#[test]
fn apply_to_keeps_the_same_memory_as_the_whole_seen_would() {
    // apply_to builds only the part of the memory that Replica::set_read
    // keeps; the replica must end the same as with the whole of seen().
    let pages = || three_pages(&[]);
    let now = t("2026-01-01T00:00:10Z");
    for overlap in [0, 2, 3, 6, 60] {
        let fresh = || Replica::new().with_overlap(Duration::from_secs(overlap));
        let earlier = {
            let mut seen = Seen::new();
            seen.insert(SeenKey::Event("e0".into()), t("2026-01-01T00:00:00.5Z"));
            seen.insert(SeenKey::Event("e4".into()), t("2026-01-01T00:00:08Z"));
            seen
        };
        let op = || {
            PullAll::new(&config(), "todo", "tasks", &Cursor::EPOCH)
                .unwrap()
                .skipping(earlier.clone())
        };
        let (_, out) = drive(op(), pages(), &[now, now, now]);
        let out = out.unwrap();
        assert_eq!(out.repeated, 3, "e2 and e3 re-read, e4 known before");
        let ids: Vec<String> = out.changes.iter().map(|c| c.id().into_owned()).collect();
        assert_eq!(ids, ["a", "b", "c"]);
        let mut whole = fresh();
        let report = whole.apply_all(&out.changes.to_vec());
        whole.set_read("tasks", out.resume.clone(), out.seen());
        let mut pruned = fresh();
        let got = out.clone().apply_to(&mut pruned, "tasks", now);
        assert_eq!(got.applied, report.applied, "overlap {overlap}");
        assert_eq!(got.repeated, 3);
        assert_eq!(
            pruned.seen("tasks"),
            whole.seen("tasks"),
            "overlap {overlap}"
        );
        assert_eq!(pruned.read_from("tasks"), whole.read_from("tasks"));
        let all = out.seen();
        for id in ["e0", "e1", "e2", "e3", "e4"] {
            assert!(all.contains_event(id), "{id}");
        }
        // Each with the latest bound that delivered or re-read it.
        let bounds = serde_json::to_value(&all).unwrap();
        assert_eq!(
            bounds["events"],
            json!({"e0": "2026-01-01T00:00:00.500Z", "e1": "2026-01-01T00:00:01.000005Z",
                   "e2": "2026-01-01T00:00:05.000Z", "e3": "2026-01-01T00:00:09.000Z",
                   "e4": "2026-01-01T00:00:09.000Z"})
        );
    }
}

/// Drives a [`PullInto`] through `pages` at `now`; returns its result.
fn drive_into(
    mut op: PullInto<'_>,
    pages: Vec<Result<http::Response<Vec<u8>>, TransportError>>,
    now: Timestamp,
) -> Result<FoldReport, Error> {
    for response in pages {
        match op.step(now) {
            Step::Send(_) => {}
            Step::Done(result) => return result,
            other => panic!("{other:?}"),
        }
        op.on_response(now, response);
    }
    match op.step(now) {
        Step::Done(result) => result,
        other => panic!("{other:?}"),
    }
}

#[test]
fn pull_into_folds_page_by_page_to_what_apply_to_gives() {
    let pages = || three_pages(&[change("e5", "a")]);
    let now = t("2026-01-01T00:00:10Z");
    for overlap in [0, 2, 6, 60] {
        let earlier = || {
            let mut replica = Replica::new().with_overlap(Duration::from_secs(overlap));
            let mut seen = Seen::new();
            seen.insert(SeenKey::Event("e4".into()), t("2026-01-01T00:00:00.9Z"));
            replica.set_read(
                "tasks",
                Cursor::parse("2026-01-01T00:00:01Z").unwrap(),
                seen,
            );
            replica
        };
        let mut collected = earlier();
        let op = PullAll::for_replica(&config(), "todo", "tasks", &collected).unwrap();
        let (_, out) = drive(op, pages(), &[now, now, now]);
        let want = out.unwrap().apply_to(&mut collected, "tasks", now);

        let mut folded = earlier();
        let op = PullInto::new(&config(), "todo", "tasks", &mut folded).unwrap();
        let got = drive_into(op, pages(), now).unwrap();
        assert_eq!(
            (got.applied, got.ignored, got.repeated, &got.dropped),
            (want.applied, want.ignored, want.repeated, &want.dropped),
            "overlap {overlap}"
        );
        assert_eq!(folded, collected, "overlap {overlap}");
        assert_eq!(folded.seen("tasks"), collected.seen("tasks"));
        assert_eq!(folded.read_from("tasks"), collected.read_from("tasks"));
        // d was known before unless the overlap was too short to keep it.
        let want_len = if overlap >= 2 { 3 } else { 4 };
        assert_eq!(folded.len("tasks"), want_len, "overlap {overlap}");
    }
}

#[test]
fn pull_into_has_folded_each_page_before_the_next_arrives() {
    // The second page fails for good: the first is already in the replica,
    // and the cursor has not moved, so the next read starts over and the
    // fold absorbs what it applies again.
    let mut replica = Replica::new();
    let before = replica.read_from("tasks");
    let op = PullInto::new(&config(), "todo", "tasks", &mut replica).unwrap();
    let refused = Ok(http::Response::builder()
        .status(400)
        .body(b"bad since".to_vec())
        .unwrap());
    let pages = vec![
        page(
            &[change("e1", "a"), change("e2", "b")],
            "2026-01-01T00:00:01Z",
            true,
        ),
        refused,
    ];
    let err = drive_into(op, pages, t("2026-01-01T00:00:10Z")).unwrap_err();
    assert!(matches!(err, Error::BadRequest { .. }), "{err:?}");
    assert_eq!(replica.len("tasks"), 2, "the first page was folded in");
    assert_eq!(
        replica.read_from("tasks"),
        before,
        "the cursor did not move"
    );
    assert!(replica.seen("tasks").is_none());

    let op = PullInto::new(&config(), "todo", "tasks", &mut replica).unwrap();
    let again = vec![page(
        &[change("e1", "a"), change("e2", "b"), change("e3", "c")],
        "2026-01-01T00:00:02Z",
        false,
    )];
    let report = drive_into(op, again, t("2026-01-01T00:00:10Z")).unwrap();
    assert_eq!(report.applied + report.ignored, 3);
    assert_eq!(replica.len("tasks"), 3);
    assert_eq!(
        replica.cursor("tasks").unwrap().as_str(),
        "2026-01-01T00:00:02Z"
    );
}

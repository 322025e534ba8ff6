//! Every operation against the protocol-faithful server, each scenario run
//! four ways: in process (blocking and async: no sockets, fixed clock) and
//! over loopback HTTP (ureq and hyper). Assertions are exact: the clock is
//! fixed, so every stamp and cursor is known.

#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

use common::{seed_insert, start, Setup, Via, PREFIX};
use mana_sync_core::{Change, Cursor, Error, Op, Timestamp};
use serde_json::json;

const USER: &str = "user-1";

fn ts(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

/// A writes, B reads: the exact changes, own changes left out, cursor exact.
fn push_then_pull(setup: &Setup) {
    let a = setup.client(USER, "client-a");
    let b = setup.client(USER, "client-b");
    let at = ts("2026-01-01T00:00:01Z");
    let changes = [
        Change::insert(
            "tasks",
            "t-1",
            json!({"title": "Buy milk", "isCompleted": false})
                .as_object()
                .cloned()
                .unwrap(),
        )
        .with_space("s-1")
        .with_actor(json!({"kind": "ai", "missionId": "m-1"})),
        Change::update("tasks", "t-1").with_field("isCompleted", true, at),
        Change::delete("tasks", "t-1", at),
    ];
    let pushed = a.push("todo", &changes, &Cursor::EPOCH).unwrap();
    assert_eq!(pushed.requests, 1);
    assert!(
        pushed.server_changes.is_empty(),
        "own changes are not returned"
    );
    assert_eq!(pushed.synced_until.as_str(), "2026-01-01T00:00:00.000002Z");

    let all = b.pull_all("todo", "tasks", &Cursor::EPOCH).unwrap();
    assert_eq!(all.pages, 1);
    let changes = all.changes.to_vec();
    // The borrowed views read what the copies hold.
    for (view, change) in all.changes.iter().zip(&changes) {
        assert_eq!(view.op(), change.op);
        assert_eq!(view.event_id().as_deref(), change.event_id.as_deref());
        assert_eq!(view.space_id().as_deref(), change.space_id.as_deref());
        assert_eq!(view.deleted_at(), change.deleted_at);
        let data = view.data().map(|d| serde_json::from_str(d.get()).unwrap());
        assert_eq!(data, change.data);
    }
    let ops: Vec<&Op> = changes.iter().map(|c| &c.op).collect();
    assert_eq!(ops, [&Op::Insert, &Op::Update, &Op::Delete]);
    let insert = &changes[0];
    assert_eq!(insert.data.as_ref().unwrap()["title"], "Buy milk");
    assert_eq!(insert.space_id.as_deref(), Some("s-1"));
    assert_eq!(
        insert.actor,
        Some(json!({"kind": "ai", "missionId": "m-1"}))
    );
    assert_eq!(
        insert.event_id.as_deref(),
        Some("00000000-0000-4000-8000-000000000001")
    );
    let field = &changes[1].fields.as_ref().unwrap()["isCompleted"];
    assert_eq!(
        (field.value.clone(), field.at.timestamp()),
        (json!(true), Some(at))
    );
    assert_eq!(
        changes[2].deleted_at.as_ref().and_then(|d| d.timestamp()),
        Some(at)
    );
    assert_eq!(all.cursor.as_str(), "2026-01-01T00:00:00.000002Z");

    // A's own pull sees nothing; B's push gets A's three changes back.
    assert!(a
        .pull_all("todo", "tasks", &Cursor::EPOCH)
        .unwrap()
        .changes
        .is_empty());
    assert_eq!(
        b.push("todo", &[], &Cursor::EPOCH)
            .unwrap()
            .server_changes
            .len(),
        3
    );
}

/// 2,500 stored changes come back in order, in 3 requests, and the final
/// cursor is the last page's `syncedUntil`.
fn pull_all_2500(setup: &Setup) {
    let seeded: Vec<_> = (0..2500).map(|i| seed_insert("tasks_bulk", i)).collect();
    setup.server.seed(USER, "todo", "seeder", &seeded);
    let before = setup.server.received().len();
    let client = setup.client(USER, "reader");
    let all = client
        .pull_all("todo", "tasks_bulk", &Cursor::EPOCH)
        .unwrap();
    assert_eq!(all.changes.len(), 2500);
    assert!(all
        .changes
        .iter()
        .enumerate()
        .all(|(i, c)| c.id() == format!("r-{i:04}")));
    assert_eq!(all.pages, 3);
    let requests: Vec<String> = setup.server.received()[before..]
        .iter()
        .map(|r| r.uri.clone())
        .collect();
    let base = format!("{PREFIX}/sync/todo/pull?collection=tasks_bulk&since=");
    assert_eq!(
        requests,
        [
            format!("{base}1970-01-01T00%3A00%3A00.000Z"),
            // One microsecond before each page's last row, so that the rest
            // of a tie of equal times is not skipped: each page re-reads the
            // previous page's last row (dropped by eventId), so page 2 ends
            // at 1998 µs.
            format!("{base}2026-01-01T00%3A00%3A00.000998Z"),
            format!("{base}2026-01-01T00%3A00%3A00.001997Z"),
        ]
    );
    // The last page's syncedUntil: the server's clock, never behind its rows.
    assert_eq!(all.cursor.as_str(), "2026-01-01T00:00:00.002499Z");
    let again = client.pull("todo", "tasks_bulk", &all.cursor).unwrap();
    assert!(again.server_changes.is_empty() && !again.has_more);
    // (Whether hyper's pool reused a connection is not asserted: no test
    // depends on pool behaviour or scheduling.)
}

/// ~25 MiB of changes go out as at least 3 requests, none over 10 MiB, and
/// all are stored.
fn push_25_mib(setup: &Setup) {
    let blob = "x".repeat(25 * 1024 + 600);
    let changes: Vec<Change> = (0..1000)
        .map(|i| {
            Change::insert(
                "notes",
                format!("n-{i}"),
                json!({"body": blob}).as_object().cloned().unwrap(),
            )
        })
        .collect();
    let total: usize = changes
        .iter()
        .map(|c| serde_json::to_vec(c).unwrap().len())
        .sum();
    assert!(total > 25 * 1024 * 1024, "{total}");
    let client = setup.client(USER, "writer");
    let out = client.push("notes", &changes, &Cursor::EPOCH).unwrap();
    let pushes: Vec<usize> = setup
        .server
        .received()
        .iter()
        .filter(|r| r.method == "POST")
        .map(|r| r.body_len)
        .collect();
    assert!(pushes.len() >= 3, "{pushes:?}");
    assert_eq!(out.requests, pushes.len());
    assert!(pushes.iter().all(|&n| n < 10 * 1024 * 1024), "{pushes:?}");
    assert_eq!(setup.server.stored_count(USER), 1000);
    let stored: Vec<String> = setup
        .server
        .changes(USER, "notes")
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        stored,
        (0..1000).map(|i| format!("n-{i}")).collect::<Vec<_>>()
    );
}

/// An app id that tries to change the target is one encoded path segment.
fn hostile_app_id(setup: &Setup) {
    let client = setup.client(USER, "writer");
    client
        .push_insert(
            "../admin?x=#y",
            "tasks",
            "t-1",
            json!({"a": 1}).as_object().cloned().unwrap(),
        )
        .unwrap();
    let last = setup.server.received().pop().unwrap();
    assert_eq!(last.uri, format!("{PREFIX}/sync/..%2Fadmin%3Fx%3D%23y"));
    assert_eq!(setup.server.changes(USER, "../admin?x=#y").len(), 1);
}

/// The server's refusals come back as typed errors; a push that fails
/// part-way says how much was stored.
fn errors(setup: &Setup) {
    let bad = setup.client_with_token("not-a-jwt", "c");
    match bad.pull("todo", "tasks", &Cursor::EPOCH) {
        Err(Error::Unauthorized { status: 401, body }) => {
            assert!(body.starts_with("unauthorized: parse token"), "{body}")
        }
        other => panic!("{other:?}"),
    }
    setup.server.set_sync_active("broke", false);
    match setup.client("broke", "c").push("todo", &[], &Cursor::EPOCH) {
        Err(Error::PaymentRequired { error, message, .. }) => {
            assert_eq!(error, "sync_inactive");
            assert!(message.starts_with("Cloud Sync ist nicht aktiv"));
        }
        other => panic!("{other:?}"),
    }
    setup.server.fail_next_push_after(250);
    let changes: Vec<Change> = (0..300)
        .map(|i| Change::hard_delete("tasks", format!("d-{i}")))
        .collect();
    // The second request fails after storing 50 of its 100 changes (500,
    // transient): the client sends that request again, whole, and the push
    // succeeds. Push is at-least-once: those 50 are stored twice, which a
    // fold absorbs. (With retries off, the same failure is an honest
    // PartialPush of 200..=299 of 300: see core/tests/ops.rs.)
    let outcome = setup
        .client(USER, "c")
        .push("todo", &changes, &Cursor::EPOCH)
        .unwrap();
    assert_eq!(outcome.requests, 2);
    assert_eq!(setup.server.stored_count(USER), 350);
}

/// Health needs no token; the sentinel token shows nowhere.
fn health_and_redaction(setup: &Setup) {
    let sentinel = mana_sync_testkit::token_for("SENTINEL-USER");
    let client = setup.client_with_token(&sentinel, "c");
    let health = client.health().unwrap();
    assert!(health.is_ok());
    assert_eq!(health.service, "mana-sync");
    assert!(
        !client.describe().contains(&sentinel),
        "{}",
        client.describe()
    );
    assert!(setup
        .server
        .received()
        .last()
        .unwrap()
        .uri
        .ends_with("/health"));
    let _ = start();
}

four_ways!(
    push_then_pull,
    pull_all_2500,
    push_25_mib,
    hostile_app_id,
    errors,
    health_and_redaction
);

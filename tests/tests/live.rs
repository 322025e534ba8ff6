//! Live sync: retries (exact waits with a seeded RNG, `Retry-After`,
//! permanent errors, fresh tokens) and the change stream (live pushes,
//! cuts, `hasMore`, silence, drop), in process and over loopback with both
//! transports.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::time::Duration;

use futures_util::StreamExt;
use mana_sync_core::fold::Replica;
use mana_sync_core::ops::StreamEvent;
use mana_sync_core::retry::JitterRng;
use mana_sync_core::{
    Change, Config, Cursor, Error, RetryPolicy, Timestamp, Token, TransportOptions,
};
use mana_sync_testkit::{token_for, Fault, InProcess, LoopbackServer, ManualClock, MemoryServer};
use serde_json::{json, Map, Value};

const URL: &str = "http://mana.test";

fn config(client: &str) -> Config {
    Config::new(URL, token_for("u-1"), client).unwrap()
}

fn task(i: usize) -> Map<String, Value> {
    json!({"title": format!("task {i}"), "order": i})
        .as_object()
        .cloned()
        .unwrap()
}

fn inserts(range: std::ops::Range<usize>) -> Vec<Change> {
    range
        .map(|i| Change::insert("tasks", format!("t-{i}"), task(i)))
        .collect()
}

/// The waits a client seeded with `seed` draws for its first operation's
/// retries 0.. (the client draws one seed per operation from its RNG).
fn expected_waits(seed: u64, n: u32) -> Vec<Duration> {
    use mana_sync_core::retry::JitterRng as R;
    let mut client_rng = R::seeded(seed);
    let op_seed = aes_gcm_rng_next(&mut client_rng);
    let mut rng = R::seeded(op_seed);
    (0..n)
        .map(|i| RetryPolicy::browser().backoff(i, &mut rng))
        .collect()
}

fn aes_gcm_rng_next(rng: &mut JitterRng) -> u64 {
    use mana_sync_core::retry::RngCore;
    rng.next_u64()
}

// ---------------------------------------------------------------- retries

#[test]
fn retries_wait_the_pinned_schedule_then_succeed_blocking() {
    let net = InProcess::default();
    let client = net
        .blocking_client(config("a"))
        .with_retry(RetryPolicy::browser())
        .with_jitter(JitterRng::seeded(42));
    net.server().fail_next_requests(2, Fault::Unavailable);
    let before = net.clock().now();
    let page = client.pull("todo", "tasks", &Cursor::EPOCH).unwrap();
    assert!(page.server_changes.is_empty());
    let waited = net.clock().now().saturating_duration_since(before);
    let expected = expected_waits(42, 2);
    // Pinned: the schedule of seed 42 never changes.
    assert_eq!(
        expected,
        vec![
            Duration::from_nanos(PINNED_0),
            Duration::from_nanos(PINNED_1)
        ]
    );
    assert_eq!(waited, expected[0] + expected[1]);
    assert_eq!(net.server().request_count(), 3);
}

/// The first two waits of seed 42 (0.5 s and 1 s ceilings).
const PINNED_0: u64 = 360_829_235;
const PINNED_1: u64 = 607_632_079;

#[tokio::test]
async fn retries_wait_the_same_schedule_async() {
    let net = InProcess::default();
    let client = net
        .async_client(config("a"))
        .with_retry(RetryPolicy::browser())
        .with_jitter(JitterRng::seeded(42));
    net.server().fail_next_requests(2, Fault::BadGatewayHtml);
    let before = net.clock().now();
    client.pull("todo", "tasks", &Cursor::EPOCH).await.unwrap();
    let waited = net.clock().now().saturating_duration_since(before);
    let expected = expected_waits(42, 2);
    assert_eq!(waited, expected[0] + expected[1]);
    assert_eq!(net.server().request_count(), 3);
}

#[test]
fn the_default_policy_retries_for_thirty_seconds() {
    let net = InProcess::default();
    let client = net.blocking_client(config("a"));
    net.server().fail_next_requests(1000, Fault::Unavailable);
    let before = net.clock().now();
    let e = client.pull("todo", "tasks", &Cursor::EPOCH).unwrap_err();
    assert!(matches!(e, Error::Server { status: 503, .. }), "{e}");
    // The last attempt is made when the budget ends, not before.
    let waited = net.clock().now().saturating_duration_since(before);
    assert_eq!(waited, Duration::from_secs(30));
    let attempts = net.server().request_count();
    assert!((5..=121).contains(&attempts), "{attempts}");
    // An outage shorter than the budget is ridden out.
    let net = InProcess::default();
    let client = net.blocking_client(config("a"));
    net.server().fail_next_requests(6, Fault::Unavailable);
    assert!(client.pull("todo", "tasks", &Cursor::EPOCH).is_ok());
}

#[test]
fn retries_give_up_after_three_attempts() {
    let net = InProcess::default();
    let client = net
        .blocking_client(config("a"))
        .with_retry(RetryPolicy::browser());
    net.server().fail_next_requests(3, Fault::Unavailable);
    let e = client.pull("todo", "tasks", &Cursor::EPOCH).unwrap_err();
    assert!(matches!(e, Error::Server { status: 503, .. }), "{e}");
    assert_eq!(net.server().request_count(), 3);
    // No retries at all when asked.
    let net = InProcess::default();
    let client = net
        .blocking_client(config("a"))
        .with_retry(RetryPolicy::none());
    net.server().fail_next_requests(1, Fault::Unavailable);
    assert!(client.pull("todo", "tasks", &Cursor::EPOCH).is_err());
    assert_eq!(net.server().request_count(), 1);
}

#[test]
fn retry_after_is_honoured_in_seconds_and_as_a_date_and_capped() {
    let net = InProcess::default();
    let client = net.blocking_client(config("a"));
    net.server().fail_next_requests(
        1,
        Fault::TooManyRequests {
            retry_after: "7".into(),
        },
    );
    let before = net.clock().now();
    client.pull("todo", "tasks", &Cursor::EPOCH).unwrap();
    assert_eq!(
        net.clock().now().saturating_duration_since(before),
        Duration::from_secs(7)
    );

    // An HTTP date 20 s ahead of the clock.
    let at = net
        .clock()
        .now()
        .checked_add(Duration::from_secs(20))
        .unwrap();
    let date = httpdate_of(at);
    net.server()
        .fail_next_requests(1, Fault::TooManyRequests { retry_after: date });
    let before = net.clock().now();
    client.pull("todo", "tasks", &Cursor::EPOCH).unwrap();
    assert_eq!(
        net.clock().now().saturating_duration_since(before),
        Duration::from_secs(20)
    );

    // Capped by the policy's maximum.
    let client = client.with_retry(RetryPolicy::default().max_retry_after(Duration::from_secs(5)));
    net.server().fail_next_requests(
        1,
        Fault::TooManyRequests {
            retry_after: "3600".into(),
        },
    );
    let before = net.clock().now();
    client.pull("todo", "tasks", &Cursor::EPOCH).unwrap();
    assert_eq!(
        net.clock().now().saturating_duration_since(before),
        Duration::from_secs(5)
    );
}

fn httpdate_of(at: Timestamp) -> String {
    let secs = u64::try_from(at.unix_millis() / 1000).unwrap();
    let system = std::time::UNIX_EPOCH + Duration::from_secs(secs);
    // Format as IMF-fixdate by hand through the core's own parser's inverse.
    let days = secs / 86_400;
    let (h, m, s) = ((secs / 3600) % 24, (secs / 60) % 60, secs % 60);
    let _ = system;
    let (y, mo, d) = civil(days as i64);
    let wd = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][(days % 7) as usize];
    let mon = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ][(mo - 1) as usize];
    format!("{wd}, {d:02} {mon} {y} {h:02}:{m:02}:{s:02} GMT")
}

/// Days since 1970-01-01 to (year, month, day) (Howard Hinnant's algorithm).
fn civil(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[test]
fn permanent_errors_are_never_retried() {
    let net = InProcess::default();
    let client = net.blocking_client(config("a"));
    // 400: a bad op is refused by the server... but the client checks it
    // first, so ask for something the server refuses: a missing since.
    let e = client.pull("todo", "", &Cursor::EPOCH).unwrap_err();
    assert!(matches!(e, Error::InvalidRequest { .. }));
    net.server().set_sync_active("u-1", false);
    let e = client.pull("todo", "tasks", &Cursor::EPOCH).unwrap_err();
    assert!(matches!(e, Error::PaymentRequired { .. }), "{e}");
    assert_eq!(net.server().request_count(), 1);
    let bad = net.blocking_client(Config::new(URL, "not-a-jwt", "a").unwrap());
    net.server().clear_requests();
    assert!(matches!(
        bad.pull("todo", "tasks", &Cursor::EPOCH),
        Err(Error::Unauthorized { status: 401, .. })
    ));
    assert_eq!(net.server().request_count(), 1);
}

#[test]
fn a_401_asks_the_token_source_once_and_keeps_the_fresh_token() {
    let net = InProcess::default();
    let asked = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = asked.clone();
    let client = net
        .blocking_client(Config::new(URL, "expired-token", "a").unwrap())
        .with_token_source(move |_: &Token| {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Token::new(token_for("u-1")).ok()
        });
    client.pull("todo", "tasks", &Cursor::EPOCH).unwrap();
    client.pull("todo", "tasks", &Cursor::EPOCH).unwrap();
    assert_eq!(asked.load(std::sync::atomic::Ordering::SeqCst), 1);
    // 401, then the retry with the fresh token, then the second pull.
    assert_eq!(net.server().request_count(), 3);

    // A source with nothing fresh: the 401 stands, asked once.
    let client = net
        .blocking_client(Config::new(URL, "expired-token", "a").unwrap())
        .with_token_source(|_: &Token| None);
    assert!(matches!(
        client.pull("todo", "tasks", &Cursor::EPOCH),
        Err(Error::Unauthorized { .. })
    ));
}

#[test]
fn a_retried_push_resumes_at_the_request_that_failed() {
    let net = InProcess::default();
    let client = net.blocking_client(config("a"));
    // 450 changes: 3 requests; the second fails once, transiently.
    let changes = inserts(0..450);
    net.server().fail_next_push_after(250);
    let outcome = client.push("todo", &changes, &Cursor::EPOCH);
    // The server stored a prefix of the second request, then failed with a
    // 500 (transient): the whole request is sent again.
    let outcome = outcome.unwrap();
    assert_eq!(outcome.requests, 3);
    let stored = net.server().stored_count("u-1");
    assert!(stored >= 450, "{stored}");
    let reader = net.blocking_client(config("b"));
    let mut replica = Replica::new();
    reader.pull_into("todo", "tasks", &mut replica).unwrap();
    assert_eq!(replica.records("tasks").count(), 450);
}

// ---------------------------------------------------------------- stream

/// Collects change batches from a stream until `want` changes arrived,
/// counting everything else; stops at an error.
fn take_changes(
    events: impl Iterator<Item = Result<StreamEvent, Error>>,
    want: usize,
) -> (Vec<Change>, usize) {
    let mut changes = Vec::new();
    let mut reconnects = 0;
    for event in events {
        match event.unwrap() {
            // A batch of another requested collection may only say that its
            // cursor moved.
            StreamEvent::Changes(batch) if batch.changes.is_empty() => {}
            StreamEvent::Changes(batch) => {
                assert_eq!(batch.collection, "tasks");
                changes.extend(batch.changes);
            }
            StreamEvent::Reconnecting { .. } => reconnects += 1,
            _ => {}
        }
        if changes.len() >= want {
            break;
        }
    }
    (changes, reconnects)
}

fn ids(changes: &[Change]) -> Vec<String> {
    changes.iter().map(|c| c.id.clone()).collect()
}

#[test]
fn stream_in_process_delivers_pending_then_live_changes() {
    let net = InProcess::default();
    let writer = net.blocking_client(config("writer"));
    let reader = net.blocking_client(config("reader"));
    writer.push("todo", &inserts(0..3), &Cursor::EPOCH).unwrap();
    let mut events = reader
        .stream("todo", &["tasks", "notes"], &Cursor::EPOCH)
        .unwrap();
    let (first, _) = take_changes(events.by_ref(), 3);
    assert_eq!(ids(&first), ["t-0", "t-1", "t-2"]);
    // A table that was not asked for is not surfaced.
    writer
        .push(
            "todo",
            &[Change::insert("other", "o-1", task(0))],
            &Cursor::EPOCH,
        )
        .unwrap();
    writer.push("todo", &inserts(3..5), &Cursor::EPOCH).unwrap();
    let (live, _) = take_changes(events.by_ref(), 2);
    assert_eq!(ids(&live), ["t-3", "t-4"]);
    // Own changes are left out: the reader's push never comes back.
    reader.push("todo", &inserts(5..6), &Cursor::EPOCH).unwrap();
    writer.push("todo", &inserts(6..7), &Cursor::EPOCH).unwrap();
    let (next, _) = take_changes(events.by_ref(), 1);
    assert_eq!(ids(&next), ["t-6"]);
    drop(events);
    assert_eq!(net.server().open_streams(), 0);
}

#[test]
fn stream_resumes_after_cuts_with_nothing_lost_or_repeated() {
    let net = InProcess::default();
    let writer = net.blocking_client(config("writer"));
    let reader = net.blocking_client(config("reader"));
    let other = ["tasks", "notes"];
    writer
        .push("todo", &inserts(0..10), &Cursor::EPOCH)
        .unwrap();
    // Every connection is cut after 2 events.
    net.server().cut_streams_after(Some(2));
    let mut replica = Replica::new();
    let mut seen = Vec::new();
    let mut reconnects = 0;
    {
        let mut events = reader.watch_into("todo", &other, &mut replica).unwrap();
        let mut pushed = 10;
        for _ in 0..10_000 {
            match events.next().unwrap().unwrap() {
                StreamEvent::Changes(batch) => seen.extend(batch.changes),
                StreamEvent::Reconnecting { .. } => {
                    reconnects += 1;
                    // Others write while the reader is away.
                    if pushed < 40 {
                        let mut batch = inserts(pushed..pushed + 5);
                        batch.push(Change::insert("notes", format!("n-{pushed}"), task(pushed)));
                        writer.push("todo", &batch, &Cursor::EPOCH).unwrap();
                        pushed += 5;
                    }
                }
                StreamEvent::Heartbeat => {}
                _ => {}
            }
            let tasks_seen = seen.iter().filter(|c| c.table == "tasks").count();
            if tasks_seen >= 40 && seen.len() >= 46 {
                break;
            }
        }
    }
    assert!(reconnects >= 3, "{reconnects}");
    let mut task_ids: Vec<String> = seen
        .iter()
        .filter(|c| c.table == "tasks")
        .map(|c| c.id.clone())
        .collect();
    let before = task_ids.len();
    task_ids.sort();
    task_ids.dedup();
    assert_eq!(before, task_ids.len(), "a change was delivered twice");
    assert_eq!(task_ids.len(), 40);
    // The folded replica equals a fresh full fold.
    let mut truth = Replica::new();
    writer.pull_into("todo", "tasks", &mut truth).unwrap();
    let folded = |r: &Replica| {
        r.records("tasks")
            .map(|rec| (rec.id.clone(), rec.len()))
            .collect::<BTreeMap<_, _>>()
    };
    assert_eq!(folded(&replica), folded(&truth));
}

#[test]
fn stream_completes_a_has_more_batch_by_pulling() {
    let net = InProcess::default();
    let writer = net.blocking_client(config("writer"));
    let reader = net.blocking_client(config("reader"));
    writer.push("todo", &inserts(0..1), &Cursor::EPOCH).unwrap();
    let mut events = reader.stream("todo", &["tasks"], &Cursor::EPOCH).unwrap();
    let (first, _) = take_changes(events.by_ref(), 1);
    assert_eq!(ids(&first), ["t-0"]);
    let pulls = |net: &InProcess| {
        net.server()
            .received()
            .iter()
            .filter(|r| r.uri.contains("/pull?"))
            .count()
    };
    let before = pulls(&net);
    // One live event of 1000 with hasMore, completed by a pull.
    writer
        .push("todo", &inserts(1..1500), &Cursor::EPOCH)
        .unwrap();
    let (changes, _) = take_changes(events.by_ref(), 1499);
    assert_eq!(changes.len(), 1499);
    let mut got = ids(&changes);
    got.sort();
    got.dedup();
    assert_eq!(got.len(), 1499);
    assert_eq!(pulls(&net), before + 1);
}

#[test]
fn stream_detects_a_silent_server_and_reconnects() {
    let net = InProcess::default();
    let writer = net.blocking_client(config("writer"));
    let reader = net.blocking_client(config("reader"));
    writer.push("todo", &inserts(0..2), &Cursor::EPOCH).unwrap();
    net.server().silence_next_streams(1);
    let mut events = reader.stream("todo", &["tasks"], &Cursor::EPOCH).unwrap();
    // Caught up by a pull, then the connection is silent and given up.
    let (changes, _) = take_changes(events.by_ref(), 2);
    assert_eq!(ids(&changes), ["t-0", "t-1"]);
    let reason = events
        .find_map(|e| match e.unwrap() {
            StreamEvent::Reconnecting { reason, .. } => Some(reason),
            _ => None,
        })
        .unwrap();
    assert!(reason.contains("no data"), "{reason}");
}

#[test]
fn stream_reconnects_through_faults_and_stops_on_permanent_errors() {
    let net = InProcess::default();
    let reader = net
        .blocking_client(config("reader"))
        .with_jitter(JitterRng::seeded(3));
    net.server().fail_next_requests(2, Fault::Unavailable);
    let writer = net.blocking_client(config("writer"));
    // The writer's push is retried through both faults.
    writer.push_insert("todo", "tasks", "t-1", task(1)).unwrap();
    assert_eq!(net.server().request_count(), 3);
    net.server().fail_next_requests(
        2,
        Fault::TooManyRequests {
            retry_after: "4".into(),
        },
    );
    let before = net.clock().now();
    let mut events = reader.stream("todo", &["tasks"], &Cursor::EPOCH).unwrap();
    // The catch-up pull waits as each 429 asks, then delivers.
    let (changes, _) = take_changes(events.by_ref(), 1);
    assert_eq!(ids(&changes), ["t-1"]);
    assert_eq!(
        net.clock().now().saturating_duration_since(before),
        Duration::from_secs(8)
    );
    drop(events);

    net.server().set_sync_active("u-1", false);
    let mut events = reader.stream("todo", &["tasks"], &Cursor::EPOCH).unwrap();
    assert!(matches!(
        events.next(),
        Some(Err(Error::PaymentRequired { .. }))
    ));
    assert!(events.next().is_none());
}

#[tokio::test]
async fn stream_async_in_process_matches_the_blocking_one() {
    let net = InProcess::default();
    let writer = net.async_client(config("writer"));
    let reader = net.async_client(config("reader"));
    writer
        .push("todo", &inserts(0..3), &Cursor::EPOCH)
        .await
        .unwrap();
    net.server().cut_streams_after(Some(1));
    let mut replica = Replica::new();
    {
        let mut events =
            std::pin::pin!(reader.watch_into("todo", &["tasks"], &mut replica).unwrap());
        let mut got = 0;
        let mut pushed = false;
        while got < 5 {
            match events.next().await.unwrap().unwrap() {
                StreamEvent::Changes(batch) => got += batch.changes.len(),
                StreamEvent::Reconnecting { .. } if !pushed => {
                    writer
                        .push("todo", &inserts(3..5), &Cursor::EPOCH)
                        .await
                        .unwrap();
                    pushed = true;
                }
                _ => {}
            }
        }
        assert_eq!(got, 5);
    }
    assert_eq!(replica.records("tasks").count(), 5);
    assert_eq!(net.server().open_streams(), 0);
}

// ------------------------------------------------------- over loopback

fn loopback(server: MemoryServer) -> LoopbackServer {
    LoopbackServer::start(server).unwrap()
}

fn net_config(base: &str, client: &str) -> Config {
    Config::new(base, token_for("u-1"), client).unwrap()
}

/// Short timeouts so that a silent server is found quickly; outcomes do
/// not depend on how quickly.
fn options() -> TransportOptions {
    TransportOptions::default()
        .idle_timeout(Duration::from_secs(1))
        .head_timeout(Duration::from_secs(10))
}

/// Waits until the server has no open stream (the client dropped it),
/// giving up after 10 s.
fn until_closed(server: &MemoryServer) -> usize {
    for _ in 0..1000 {
        if server.open_streams() == 0 {
            return 0;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    server.open_streams()
}

#[test]
fn stream_over_ureq_live_cut_silence_and_drop() {
    let server = loopback(
        MemoryServer::with_clock(ManualClock::default()).with_heartbeat(Duration::from_millis(50)),
    );
    let base = server.base_url();
    let transport = mana_sync_ureq::UreqTransport::new(options());
    let reader =
        mana_sync_core::BlockingClient::new(net_config(&base, "reader"), transport.clone())
            .with_retry(
                RetryPolicy::default()
                    .base(Duration::from_millis(10))
                    .cap(Duration::from_millis(50)),
            );
    let writer = mana_sync_core::BlockingClient::new(net_config(&base, "writer"), transport);
    writer.push("todo", &inserts(0..3), &Cursor::EPOCH).unwrap();
    server.server().silence_next_streams(1);
    let mut events = reader.stream("todo", &["tasks"], &Cursor::EPOCH).unwrap();
    // Caught up by a pull; then the first connection is silent.
    let (first, _) = take_changes(events.by_ref(), 3);
    assert_eq!(ids(&first), ["t-0", "t-1", "t-2"]);
    writer.push("todo", &inserts(3..4), &Cursor::EPOCH).unwrap();
    let (next, reconnects) = take_changes(events.by_ref(), 1);
    assert_eq!(ids(&next), ["t-3"]);
    assert_eq!(reconnects, 1, "the silent connection was given up");
    // A push by another client shows up live.
    writer.push("todo", &inserts(4..5), &Cursor::EPOCH).unwrap();
    let (live, _) = take_changes(events.by_ref(), 1);
    assert_eq!(ids(&live), ["t-4"]);
    // Cut after every event from now on: still nothing lost or repeated.
    server.server().cut_streams_after(Some(1));
    writer.push("todo", &inserts(5..9), &Cursor::EPOCH).unwrap();
    let (rest, _) = take_changes(events.by_ref(), 4);
    assert_eq!(ids(&rest), ["t-5", "t-6", "t-7", "t-8"]);
    drop(events);
    assert_eq!(until_closed(server.server()), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_over_hyper_live_cut_silence_and_drop() {
    let server = loopback(
        MemoryServer::with_clock(ManualClock::default()).with_heartbeat(Duration::from_millis(50)),
    );
    let base = server.base_url();
    let transport = mana_sync_hyper::HyperTransport::new(options()).unwrap();
    let reader = mana_sync_core::AsyncClient::new(net_config(&base, "reader"), transport.clone())
        .with_retry(
            RetryPolicy::default()
                .base(Duration::from_millis(10))
                .cap(Duration::from_millis(50)),
        );
    let writer = mana_sync_core::AsyncClient::new(net_config(&base, "writer"), transport);
    writer
        .push("todo", &inserts(0..3), &Cursor::EPOCH)
        .await
        .unwrap();
    server.server().silence_next_streams(1);
    let mut events = Box::pin(reader.stream("todo", &["tasks"], &Cursor::EPOCH).unwrap());
    let mut got = Vec::new();
    let mut reconnects = 0;
    while got.len() < 3 {
        if let StreamEvent::Changes(b) = events.next().await.unwrap().unwrap() {
            got.extend(b.changes);
        }
    }
    assert_eq!(ids(&got), ["t-0", "t-1", "t-2"]);
    // Caught up by a pull; then the first connection is silent.
    writer
        .push("todo", &inserts(7..8), &Cursor::EPOCH)
        .await
        .unwrap();
    while got.len() < 4 {
        match events.next().await.unwrap().unwrap() {
            StreamEvent::Changes(b) => got.extend(b.changes),
            StreamEvent::Reconnecting { .. } => reconnects += 1,
            _ => {}
        }
    }
    assert_eq!(ids(&got[3..]), ["t-7"]);
    assert_eq!(reconnects, 1, "the silent connection was given up");
    server.server().cut_streams_after(Some(1));
    writer
        .push("todo", &inserts(3..7), &Cursor::EPOCH)
        .await
        .unwrap();
    let mut rest = Vec::new();
    while rest.len() < 4 {
        if let StreamEvent::Changes(b) = events.next().await.unwrap().unwrap() {
            rest.extend(b.changes);
        }
    }
    assert_eq!(ids(&rest), ["t-3", "t-4", "t-5", "t-6"]);
    drop(events);
    let s = server.server().clone();
    let open = tokio::task::spawn_blocking(move || until_closed(&s))
        .await
        .unwrap();
    assert_eq!(open, 0);
}

/// The records of a replica's `tasks`, field by field, for comparison.
fn folded(replica: &Replica) -> BTreeMap<String, Value> {
    replica
        .records("tasks")
        .map(|r| (r.id.clone(), Value::Object(r.to_json())))
        .collect()
}

fn quick_retries() -> RetryPolicy {
    RetryPolicy::default()
        .base(Duration::from_millis(5))
        .cap(Duration::from_millis(20))
}

#[test]
fn watch_into_over_ureq_completes_has_more_and_survives_cuts() {
    let server = loopback(MemoryServer::with_clock(ManualClock::default()));
    let base = server.base_url();
    let transport = mana_sync_ureq::UreqTransport::new(options());
    let reader =
        mana_sync_core::BlockingClient::new(net_config(&base, "reader"), transport.clone())
            .with_retry(quick_retries());
    let writer = mana_sync_core::BlockingClient::new(net_config(&base, "writer"), transport);
    writer
        .push("todo", &inserts(0..1200), &Cursor::EPOCH)
        .unwrap();
    server.server().cut_streams_after(Some(2));
    let mut replica = Replica::new();
    let mut delivered = Vec::new();
    let mut pushed = 1200;
    let stamp = Timestamp::parse("2026-02-01T00:00:00Z").unwrap();
    {
        let mut events = reader.watch_into("todo", &["tasks"], &mut replica).unwrap();
        // 1,300 inserts and 5 updates of t-0.
        while delivered.len() < 1305 {
            match events.next().unwrap().unwrap() {
                StreamEvent::Changes(batch) => delivered.extend(ids(&batch.changes)),
                StreamEvent::Reconnecting { .. } if pushed < 1300 => {
                    let at = stamp
                        .checked_add(Duration::from_secs(pushed as u64))
                        .unwrap();
                    let mut batch = inserts(pushed..pushed + 20);
                    batch.push(Change::update("tasks", "t-0").with_field(
                        "title",
                        format!("v{pushed}"),
                        at,
                    ));
                    writer.push("todo", &batch, &Cursor::EPOCH).unwrap();
                    pushed += 20;
                }
                _ => {}
            }
        }
    }
    assert_eq!(delivered.len(), 1305);
    let inserts_seen: std::collections::BTreeSet<&String> =
        delivered.iter().filter(|id| *id != "t-0").collect();
    assert_eq!(inserts_seen.len(), 1299, "no change twice, none lost");
    let mut truth = Replica::new();
    writer.pull_into("todo", "tasks", &mut truth).unwrap();
    assert_eq!(folded(&replica), folded(&truth));
    // The first batch said hasMore: a pull completed it.
    assert!(server
        .server()
        .received()
        .iter()
        .any(|r| r.uri.contains("/pull?")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_into_over_hyper_completes_has_more_and_survives_cuts() {
    let server = loopback(MemoryServer::with_clock(ManualClock::default()));
    let base = server.base_url();
    let transport = mana_sync_hyper::HyperTransport::new(options()).unwrap();
    let reader = mana_sync_core::AsyncClient::new(net_config(&base, "reader"), transport.clone())
        .with_retry(quick_retries());
    let writer = mana_sync_core::AsyncClient::new(net_config(&base, "writer"), transport);
    writer
        .push("todo", &inserts(0..1200), &Cursor::EPOCH)
        .await
        .unwrap();
    server.server().cut_streams_after(Some(2));
    let mut replica = Replica::new();
    let mut delivered = Vec::new();
    let mut pushed = 1200;
    {
        let mut events = Box::pin(reader.watch_into("todo", &["tasks"], &mut replica).unwrap());
        while delivered.len() < 1300 {
            match events.next().await.unwrap().unwrap() {
                StreamEvent::Changes(batch) => delivered.extend(ids(&batch.changes)),
                StreamEvent::Reconnecting { .. } if pushed < 1300 => {
                    writer
                        .push("todo", &inserts(pushed..pushed + 20), &Cursor::EPOCH)
                        .await
                        .unwrap();
                    pushed += 20;
                }
                _ => {}
            }
        }
    }
    let distinct: std::collections::BTreeSet<&String> = delivered.iter().collect();
    assert_eq!(
        (delivered.len(), distinct.len()),
        (1300, 1300),
        "no change twice, none lost"
    );
    let mut truth = Replica::new();
    writer.pull_into("todo", "tasks", &mut truth).await.unwrap();
    assert_eq!(folded(&replica), folded(&truth));
    assert!(server
        .server()
        .received()
        .iter()
        .any(|r| r.uri.contains("/pull?")));
}

/// A push of 5,000 changes rides out a server that is down for 10 s in the
/// middle (stopped and started again on the same port), with the default
/// retry policy: each request is tried again for 30 s. The browser's policy
/// (3 attempts, about 1.5 s of waiting) did not ride out a 2 s restart.
#[test]
fn a_push_rides_out_a_server_down_for_ten_seconds() {
    let memory = std::sync::Arc::new(MemoryServer::with_clock(mana_sync_core::SystemClock));
    let first = LoopbackServer::start(memory.clone()).unwrap();
    let (addr, base) = (first.addr(), first.base_url());
    let client = mana_sync_core::BlockingClient::new(
        net_config(&base, "writer"),
        mana_sync_ureq::UreqTransport::new(TransportOptions::default()),
    );
    let changes = inserts(0..5000);
    let pushing = std::thread::spawn(move || client.push("todo", &changes, &Cursor::EPOCH));
    // Down once the first requests are stored.
    for _ in 0..3000 {
        if memory.stored_count("u-1") >= 400 {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    drop(first);
    std::thread::sleep(Duration::from_secs(10));
    let _again = LoopbackServer::start_on(memory.clone(), addr).unwrap();
    let pushed = pushing.join().unwrap().unwrap();
    assert!(pushed.requests >= 25, "{}", pushed.requests);
    // At least once: every change is stored.
    let mut replica = Replica::new();
    let reader = mana_sync_core::BlockingClient::new(
        net_config(&base, "reader"),
        mana_sync_ureq::UreqTransport::new(TransportOptions::default()),
    );
    reader.pull_into("todo", "tasks", &mut replica).unwrap();
    assert_eq!(replica.records("tasks").count(), 5000);
}

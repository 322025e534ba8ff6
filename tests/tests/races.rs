//! Lossless incremental sync against the real server's races (equal
//! `created_at` times across a page boundary, late commits), reproduced by
//! the in-memory server's switches. `cargo test race_` runs them.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use mana_sync_core::fold::{FoldReport, Replica, DEFAULT_OVERLAP};
use mana_sync_core::{Change, Clock, Config, Cursor, Error, Timestamp};
use mana_sync_testkit::{
    start_time, token_for, InProcess, LoopbackServer, ManualClock, MemoryServer, Races,
};
use serde_json::{json, Map, Value};

const USER: &str = "u-race";
const APP: &str = "race";
const TABLE: &str = "items";

fn config(base: &str, client_id: &str) -> Config {
    Config::new(base, token_for(USER), client_id).unwrap()
}

fn in_process(races: Races) -> (InProcess, ManualClock) {
    let clock = ManualClock::default();
    let server = MemoryServer::with_clock(clock.clone());
    server.set_races(races);
    (InProcess::new(server, clock.clone()), clock)
}

fn insert(i: usize) -> Value {
    json!({"table": TABLE, "id": format!("r-{i:04}"), "op": "insert", "data": {"n": i}})
}

fn ids(changes: &[Change]) -> Vec<String> {
    changes.iter().map(|c| c.id.clone()).collect()
}

/// What a browser-like reader gets: pages followed from each `syncedUntil`,
/// no overlap, nothing recognised.
fn naive_pull_all(
    client: &mana_sync_core::BlockingClient<InProcess>,
    since: &Cursor,
) -> (Vec<Change>, Cursor) {
    let mut since = since.clone();
    let mut all = Vec::new();
    loop {
        let page = client.pull(APP, TABLE, &since).unwrap();
        all.extend(page.server_changes);
        since = page.synced_until;
        if !page.has_more {
            return (all, since);
        }
    }
}

#[test]
fn race_a_page_boundary_inside_a_tie_of_3_loses_nothing() {
    // Rows 999, 1000 and 1001 share one microsecond; page 1 ends at row 999.
    let (net, _) = in_process(Races::none().equal_times(3));
    let seeded: Vec<Value> = (0..1005).map(insert).collect();
    net.server().seed(USER, APP, "seeder", &seeded);
    let client = net.blocking_client(config("http://mana.test", "reader"));

    let (naive, _) = naive_pull_all(&client, &Cursor::EPOCH);
    assert_eq!(
        naive.len(),
        1003,
        "the switch reproduces the loss: 2 rows of the tie"
    );
    assert!(!ids(&naive).contains(&"r-1000".to_owned()));

    let all = client.pull_all(APP, TABLE, &Cursor::EPOCH).unwrap();
    let want: Vec<String> = (0..1005).map(|i| format!("r-{i:04}")).collect();
    assert_eq!(ids(&all.changes.to_vec()), want, "every row once, in order");
    assert_eq!(all.repeated, 1, "row 999 came again and was dropped");
    assert_eq!(all.pages, 2);
    let records = client.records(APP, TABLE, false).unwrap();
    assert_eq!(records.len(), 1005);
}

#[test]
fn race_a_tie_of_1001_is_an_error_not_a_loop() {
    let (net, _) = in_process(Races::none().equal_times(1001));
    let seeded: Vec<Value> = (0..1001).chain(1001..1003).map(insert).collect();
    net.server().seed(USER, APP, "seeder", &seeded);
    let client = net.blocking_client(config("http://mana.test", "reader"));
    let before = net.server().request_count();
    match client.pull_all(APP, TABLE, &Cursor::EPOCH) {
        Err(Error::Protocol { reason }) => {
            assert!(reason.contains("shares the instant"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(net.server().request_count() - before, 2);
    // A tie of 999 across the boundary is read whole.
    let (net, _) = in_process(Races::none().equal_times(999));
    let seeded: Vec<Value> = (0..2500).map(insert).collect();
    net.server().seed(USER, APP, "seeder", &seeded);
    let client = net.blocking_client(config("http://mana.test", "reader"));
    let all = client.pull_all(APP, TABLE, &Cursor::EPOCH).unwrap();
    assert_eq!(all.changes.len(), 2500);
}

#[test]
fn race_every_tie_smaller_than_a_page_is_read_whole() {
    for run in [2, 3, 7, 100, 999] {
        let (net, _) = in_process(Races::none().equal_times(run));
        let seeded: Vec<Value> = (0..2500).map(insert).collect();
        net.server().seed(USER, APP, "seeder", &seeded);
        let client = net.blocking_client(config("http://mana.test", "reader"));
        let all = client.pull_all(APP, TABLE, &Cursor::EPOCH).unwrap();
        let want: Vec<String> = (0..2500).map(|i| format!("r-{i:04}")).collect();
        assert_eq!(ids(&all.changes.to_vec()), want, "ties of {run}");
    }
    // A tie of exactly one page cannot be told from a larger one.
    let (net, _) = in_process(Races::none().equal_times(1000));
    let seeded: Vec<Value> = (0..1005).map(insert).collect();
    net.server().seed(USER, APP, "seeder", &seeded);
    let client = net.blocking_client(config("http://mana.test", "reader"));
    assert!(matches!(
        client.pull_all(APP, TABLE, &Cursor::EPOCH),
        Err(Error::Protocol { .. })
    ));
}

#[test]
fn race_a_server_that_never_stops_is_bounded() {
    use mana_sync_core::ops::PullAll;
    use mana_sync_core::{Operation, Step};
    let config = config("http://mana.test", "reader");
    let mut op = PullAll::new(&config, APP, TABLE, &Cursor::EPOCH)
        .unwrap()
        .max_pages(50);
    let mut t = start_time();
    let mut requests = 0;
    let err = loop {
        match op.step(start_time()) {
            Step::Send(_) => {
                requests += 1;
                t = t.checked_add(Duration::from_nanos(1)).unwrap();
                let body = json!({"serverChanges": [{"eventId": format!("e-{requests}"), "table": TABLE,
                    "id": "x", "op": "update", "fields": {}}], "conflicts": [],
                    "syncedUntil": t.to_rfc3339_precise(), "hasMore": true});
                let response = http::Response::builder()
                    .status(200)
                    .header("content-type", "application/json")
                    .body(body.to_string().into_bytes())
                    .unwrap();
                op.on_response(start_time(), Ok(response));
            }
            Step::Wait(_) => unreachable!(),
            Step::Done(result) => break result.unwrap_err(),
        }
    };
    assert_eq!(requests, 50);
    assert!(err.to_string().contains("page limit"), "{err}");
}

#[test]
fn race_a_late_commit_is_read_by_the_overlap_and_not_twice() {
    // Every 2nd stored row commits 1 s after its created_at.
    let (net, clock) = in_process(Races::none().late_commits(2, Duration::from_secs(1)));
    let writer = net.blocking_client(config("http://mana.test", "writer"));
    let reader = net.blocking_client(config("http://mana.test", "reader"));
    let at = |s: u64| start_time().checked_add(Duration::from_secs(s)).unwrap();
    let push = |c: Change| writer.push(APP, &[c], &Cursor::EPOCH).unwrap();
    push(Change::update(TABLE, "a").with_field("v", 1, at(0)));
    push(Change::update(TABLE, "b").with_field("v", 2, at(0))); // late
    let mut with = Replica::new();
    let mut without = Replica::new().with_overlap(Duration::ZERO);
    let first = reader.pull_into(APP, TABLE, &mut with).unwrap();
    reader.pull_into(APP, TABLE, &mut without).unwrap();
    assert_eq!(first.applied, 1, "b is not committed yet");

    clock.advance(Duration::from_secs(2));
    push(Change::update(TABLE, "c").with_field("v", 3, at(2)));
    let saved: Replica = serde_json::from_str(&serde_json::to_string(&with).unwrap()).unwrap();
    let mut with = saved;
    let second = reader.pull_into(APP, TABLE, &mut with).unwrap();
    assert_eq!(second.applied, 2, "b (late) and c");
    assert_eq!(
        second.repeated, 1,
        "a, re-read by the overlap, is not applied again"
    );
    reader.pull_into(APP, TABLE, &mut without).unwrap();

    let full = reader.records(APP, TABLE, true).unwrap();
    assert_eq!(with.all_records(TABLE).cloned().collect::<Vec<_>>(), full);
    assert!(
        without.record(TABLE, "b").is_none(),
        "without the overlap b is lost"
    );
    assert_eq!(full.len(), 3);
}

#[test]
fn race_overlap_reread_of_insert_hard_delete_soft_delete_update() {
    // insert x; hard delete x; later soft delete x and update x.b. A replica
    // that read in between, then re-reads everything in its overlap, holds
    // the same records as a fresh fold.
    let (net, clock) = in_process(Races::none());
    let writer = net.blocking_client(config("http://mana.test", "writer"));
    let reader = net.blocking_client(config("http://mana.test", "reader"));
    let t0 = start_time();
    let at = |ms: u64| t0.checked_add(Duration::from_millis(ms)).unwrap();
    let data: Map<String, Value> = json!({"a": 1, "updatedAt": t0.to_string()})
        .as_object()
        .cloned()
        .unwrap();
    writer
        .push(APP, &[Change::insert(TABLE, "x", data)], &Cursor::EPOCH)
        .unwrap();
    writer
        .push(APP, &[Change::hard_delete(TABLE, "x")], &Cursor::EPOCH)
        .unwrap();
    let mut replica = Replica::new().with_overlap(Duration::from_secs(1));
    reader.pull_into(APP, TABLE, &mut replica).unwrap();
    clock.advance(Duration::from_millis(500));
    writer
        .push(
            APP,
            &[
                Change::delete(TABLE, "x", at(400)),
                Change::update(TABLE, "x").with_field("b", 2, at(450)),
            ],
            &Cursor::EPOCH,
        )
        .unwrap();
    let report = reader.pull_into(APP, TABLE, &mut replica).unwrap();
    assert_eq!(
        report.repeated, 2,
        "the insert and the hard delete, re-read"
    );
    let fresh = reader.records(APP, TABLE, true).unwrap();
    assert_eq!(
        replica.all_records(TABLE).cloned().collect::<Vec<_>>(),
        fresh
    );
    // A hard delete is final here (the browser would show x live with b,
    // and x deleted after a re-read): see `mana_sync_core::fold`.
    assert!(fresh.is_empty());
    // Re-applying the whole log again changes nothing either.
    let log: Vec<Change> = net
        .server()
        .changes(USER, APP)
        .into_iter()
        .map(|v| serde_json::from_value(v).unwrap())
        .collect();
    let mut again = replica.clone();
    again.apply_all(&log);
    assert_eq!(again.all_records(TABLE).cloned().collect::<Vec<_>>(), fresh);
}

#[test]
fn race_records_return_rows_pushed_without_a_client_id() {
    let (net, _) = in_process(Races::none());
    net.server().seed(USER, APP, "", &[insert(1)]);
    net.server().seed(USER, APP, "me", &[insert(2)]);
    let me = net.blocking_client(config("http://mana.test", "me"));
    let records = me.records(APP, TABLE, false).unwrap();
    assert_eq!(records.len(), 2, "the anonymous row and this client's own");
    assert_eq!(
        me.pull_all(APP, TABLE, &Cursor::EPOCH)
            .unwrap()
            .changes
            .len(),
        1
    );
    let reads = net.server().received();
    let last = reads.last().unwrap();
    assert_eq!(last.client_id.as_deref(), Some("me"));
    assert!(reads
        .iter()
        .any(|r| r.client_id.as_deref() == Some("me#reader")));
}

// --- three concurrent writers ------------------------------------------------

/// A clock shared by the server and every client that moves 10 ms each time
/// it is read, so that time passes with activity whatever the scheduling.
#[derive(Clone, Debug)]
struct SteppingClock(Arc<AtomicI64>);

const STEP_MICROS: i64 = 10_000;

impl SteppingClock {
    fn new() -> SteppingClock {
        SteppingClock(Arc::new(AtomicI64::new(start_time().unix_millis() * 1000)))
    }
    fn advance(&self, d: Duration) {
        self.0
            .fetch_add(i64::try_from(d.as_micros()).unwrap(), Ordering::SeqCst);
    }
}

impl Clock for SteppingClock {
    fn now(&self) -> Timestamp {
        let micros = self.0.fetch_add(STEP_MICROS, Ordering::SeqCst);
        Timestamp::from_unix_nanos(i128::from(micros) * 1000).unwrap()
    }
}

/// A small deterministic generator.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// One writer's operations: updates, inserts (stamped or not), soft deletes
/// and undeletes over 200 records, with stamps from a 2 s window so that
/// equal stamps with different values are common; a few hard deletes.
fn operations(seed: u64, n: usize) -> Vec<Change> {
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let base = start_time();
    (0..n)
        .map(|_| {
            let id = format!("r-{:03}", rng.below(200));
            let at = base
                .checked_add(Duration::from_millis(rng.below(2000)))
                .unwrap();
            let field = format!("f{}", rng.below(3));
            let value = rng.below(50);
            match rng.below(100) {
                0 if id.as_str() >= "r-190" => Change::hard_delete(TABLE, id),
                0..=19 => {
                    let mut data = Map::new();
                    data.insert(field, json!(value));
                    data.insert("updatedAt".into(), json!(at.to_string()));
                    Change::insert(TABLE, id, data)
                }
                20..=24 => {
                    let mut data = Map::new();
                    data.insert(field, json!(value));
                    Change::insert(TABLE, id, data)
                }
                25..=39 => Change::delete(TABLE, id, at),
                40..=49 => Change::update(TABLE, id).with_field("deletedAt", Value::Null, at),
                _ => Change::update(TABLE, id).with_field(field, value, at),
            }
        })
        .collect()
}

/// The truth, from what the writers meant to write: a record exists if an
/// insert or update wrote it and no hard delete removed it; each field is
/// the write with the greatest (stamp, value), the empty stamp lowest.
fn truth(all: &[Change]) -> BTreeMap<String, Map<String, Value>> {
    type Write = (Option<Timestamp>, Value);
    fn rank(v: &Value) -> (u8, i64, String) {
        match v {
            Value::Null => (0, 0, String::new()),
            Value::Number(n) => (2, n.as_i64().unwrap(), String::new()),
            Value::String(s) => (3, 0, s.clone()),
            other => panic!("unexpected {other}"),
        }
    }
    let mut exists: BTreeMap<String, bool> = BTreeMap::new();
    let mut hard: BTreeMap<String, bool> = BTreeMap::new();
    let mut fields: BTreeMap<String, BTreeMap<String, Write>> = BTreeMap::new();
    let mut write = |id: &str, name: &str, w: Write| {
        let slot = fields.entry(id.to_owned()).or_default();
        let better = match slot.get(name) {
            None => true,
            Some(old) => (w.0, rank(&w.1)) > (old.0, rank(&old.1)),
        };
        if better {
            slot.insert(name.to_owned(), w);
        }
    };
    for c in all {
        if let Some(at) = &c.deleted_at {
            write(&c.id, "deletedAt", (at.timestamp(), json!(at.to_string())));
            continue;
        }
        if let Some(data) = &c.data {
            exists.insert(c.id.clone(), true);
            let at = data
                .get("updatedAt")
                .and_then(Value::as_str)
                .map(|s| Timestamp::parse(s).unwrap());
            for (k, v) in data {
                write(&c.id, k, (at, v.clone()));
            }
        } else if let Some(fs) = &c.fields {
            exists.insert(c.id.clone(), true);
            for (k, f) in fs {
                write(&c.id, k, (f.at.timestamp(), f.value.clone()));
            }
        } else {
            hard.insert(c.id.clone(), true);
        }
    }
    exists
        .keys()
        .filter(|id| !hard.contains_key(*id))
        .map(|id| {
            let values = fields[id]
                .iter()
                .map(|(k, w)| (k.clone(), w.1.clone()))
                .collect();
            (id.clone(), values)
        })
        .collect()
}

fn values(replica: &Replica) -> BTreeMap<String, Map<String, Value>> {
    replica
        .all_records(TABLE)
        .map(|r| (r.id.clone(), r.to_json()))
        .collect()
}

/// The browser's incremental read, for evidence: pages followed from each
/// `syncedUntil`, from the replica's cursor with no overlap, nothing
/// recognised, read with the reader client id. Returns the changes
/// delivered.
fn naive_pull_into<T: mana_sync_core::BlockingTransport>(
    client: &mana_sync_core::BlockingClient<T>,
    replica: &mut Replica,
) -> usize {
    let mut since = replica.cursor(TABLE).cloned().unwrap_or(Cursor::EPOCH);
    let mut delivered = 0;
    loop {
        let page = client.pull(APP, TABLE, &since).unwrap();
        delivered += count(&replica.apply_all(&page.server_changes.to_vec()));
        since = page.synced_until;
        if !page.has_more {
            replica.set_cursor(TABLE, since);
            return delivered;
        }
    }
}

/// What one writer saw.
struct Seen {
    replica: Replica,
    /// Changes delivered to its replica, over all its pulls.
    delivered: usize,
}

fn count(report: &FoldReport) -> usize {
    report.applied + report.ignored + report.dropped.len()
}

/// One writer: pushes its operations in batches of 10, pulls into its
/// replica every `pull_every` operations, saves and reloads the replica
/// once. Client 1 is async (hyper), the others blocking (ureq).
fn writer(
    index: usize,
    base: String,
    clock: SteppingClock,
    ops: Vec<Change>,
    pull_every: usize,
    overlap: Option<Duration>,
) -> Seen {
    let Some(overlap) = overlap else {
        return naive_writer(index, base, clock, ops, pull_every);
    };
    let config = config(&base, &format!("writer-{index}"));
    let mut replica = Replica::new().with_overlap(overlap);
    let mut delivered = 0;
    let batches: Vec<&[Change]> = ops.chunks(10).collect();
    let per_pull = (pull_every / 10).max(1);
    let reload_at = batches.len() / 2;
    if index == 1 {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let client = {
            let _guard = rt.enter();
            mana_sync_hyper::client(config)
                .unwrap()
                .with_clock(clock.clone())
        };
        for (i, batch) in batches.iter().enumerate() {
            let since = Cursor::from(clock.now());
            rt.block_on(client.push(APP, batch, &since)).unwrap();
            if (i + 1) % per_pull == 0 {
                let report = rt
                    .block_on(client.pull_into(APP, TABLE, &mut replica))
                    .unwrap();
                delivered += count(&report);
            }
            if i == reload_at {
                replica = serde_json::from_str(&serde_json::to_string(&replica).unwrap()).unwrap();
            }
        }
    } else {
        let client = mana_sync_ureq::client(config)
            .unwrap()
            .with_clock(clock.clone());
        for (i, batch) in batches.iter().enumerate() {
            client.push(APP, batch, &Cursor::from(clock.now())).unwrap();
            if (i + 1) % per_pull == 0 {
                delivered += count(&client.pull_into(APP, TABLE, &mut replica).unwrap());
            }
            if i == reload_at {
                replica = serde_json::from_str(&serde_json::to_string(&replica).unwrap()).unwrap();
            }
        }
    }
    Seen { replica, delivered }
}

/// A writer that reads as the browser does (evidence of what the fix
/// fixes); blocking, over ureq.
fn naive_writer(
    index: usize,
    base: String,
    clock: SteppingClock,
    ops: Vec<Change>,
    pull_every: usize,
) -> Seen {
    // Reading with the writer's own id would leave its own changes out.
    let client = mana_sync_ureq::client(config(&base, &format!("writer-{index}")))
        .unwrap()
        .with_clock(clock.clone());
    let reader = mana_sync_ureq::client(config(&base, &format!("writer-{index}#reader")))
        .unwrap()
        .with_clock(clock.clone());
    let mut replica = Replica::new();
    let mut delivered = 0;
    for (i, batch) in ops.chunks(10).enumerate() {
        client.push(APP, batch, &Cursor::from(clock.now())).unwrap();
        if (i + 1) % (pull_every / 10).max(1) == 0 {
            delivered += naive_pull_into(&reader, &mut replica);
        }
    }
    Seen { replica, delivered }
}

/// What a run of three writers gives: per writer, the changes delivered to
/// its incremental replica and the records differing from a fresh full fold.
struct Run {
    stored: usize,
    delivered: Vec<usize>,
    differing: Vec<usize>,
    truth_matches_full: bool,
}

/// Three writers, concurrently over loopback; `overlap: None` reads as the
/// browser does.
fn three_writers(
    ops_total: usize,
    races: Races,
    overlap: Option<Duration>,
    pull_every: usize,
) -> Run {
    let clock = SteppingClock::new();
    let server = MemoryServer::with_clock(clock.clone());
    server.set_races(races);
    let loopback = LoopbackServer::start(server).unwrap();
    let per_writer = ops_total / 3;
    let all_ops: Vec<Vec<Change>> = (0..3)
        .map(|i| operations(i as u64 + 7, per_writer))
        .collect();
    let threads: Vec<_> = all_ops
        .iter()
        .cloned()
        .enumerate()
        .map(|(i, ops)| {
            let (base, clock) = (loopback.base_url(), clock.clone());
            std::thread::spawn(move || writer(i, base, clock, ops, pull_every, overlap))
        })
        .collect();
    let mut seen: Vec<Seen> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    // Let every late commit land, then one last incremental pull each.
    clock.advance(Duration::from_secs(60));
    for (i, s) in seen.iter_mut().enumerate() {
        let client = mana_sync_ureq::client(config(&loopback.base_url(), &format!("writer-{i}")))
            .unwrap()
            .with_clock(clock.clone());
        s.delivered += match overlap {
            Some(_) => count(&client.pull_into(APP, TABLE, &mut s.replica).unwrap()),
            None => {
                let reader = mana_sync_ureq::client(config(
                    &loopback.base_url(),
                    &format!("writer-{i}#reader"),
                ))
                .unwrap()
                .with_clock(clock.clone());
                naive_pull_into(&reader, &mut s.replica)
            }
        };
    }
    let fresh = mana_sync_ureq::client(config(&loopback.base_url(), "auditor"))
        .unwrap()
        .with_clock(clock.clone());
    let mut full = Replica::new();
    fresh.pull_into(APP, TABLE, &mut full).unwrap();
    let full_records: BTreeMap<String, _> = full
        .all_records(TABLE)
        .map(|r| (r.id.clone(), r.clone()))
        .collect();
    let differing = seen
        .iter()
        .map(|s| {
            let mine: BTreeMap<String, _> = s
                .replica
                .all_records(TABLE)
                .map(|r| (r.id.clone(), r.clone()))
                .collect();
            let ids: std::collections::BTreeSet<&String> =
                mine.keys().chain(full_records.keys()).collect();
            ids.into_iter()
                .filter(|id| mine.get(*id) != full_records.get(*id))
                .count()
        })
        .collect();
    let everything: Vec<Change> = all_ops.concat();
    Run {
        stored: loopback.server().stored_count(USER),
        delivered: seen.iter().map(|s| s.delivered).collect(),
        differing,
        truth_matches_full: values(&full) == truth(&everything),
    }
}

/// Both races on: rows stored three to a microsecond, every 5th row
/// visible only 200 ms (server time) after its created_at.
fn both_races() -> Races {
    Races::none()
        .equal_times(3)
        .late_commits(5, Duration::from_millis(200))
}

fn check(run: &Run, ops_total: usize) {
    assert_eq!(run.stored, ops_total);
    assert!(run.truth_matches_full, "a fresh full fold equals the truth");
    for (i, (delivered, differing)) in run.delivered.iter().zip(&run.differing).enumerate() {
        assert_eq!(
            *delivered, ops_total,
            "writer {i}: every change delivered exactly once"
        );
        assert_eq!(*differing, 0, "writer {i}: replica equals the full fold");
    }
}

/// The test: 3 concurrent writers (ureq, hyper, ureq), 6,000
/// operations, each writer's incremental replica pulled every 300
/// operations and saved and reloaded once, with both races on.
#[test]
fn race_three_writers_6000_operations_incremental_equals_full_fold() {
    let run = three_writers(6000, both_races(), Some(DEFAULT_OVERLAP), 300);
    check(&run, 6000);
}

/// Without the fix, the same run loses changes: the switches reproduce what
/// the real server did. (Whether a given run loses depends on the
/// interleaving, so this is evidence, not a check of the suite.)
#[test]
#[ignore = "evidence: prints what a browser-like reader loses"]
fn race_without_the_fix_changes_are_lost() {
    for round in 0..3 {
        let run = three_writers(6000, both_races(), None, 300);
        println!(
            "browser-like readers, round {round}: stored {}, delivered {:?}, records differing from the full fold {:?}",
            run.stored, run.delivered, run.differing
        );
        assert!(run.delivered.iter().any(|d| *d != 6000) || run.differing.iter().any(|d| *d > 0));
    }
}

/// Evidence, not a check: what is lost without the overlap, and how much
/// overlap closes a late-commit gap of a given length.
#[test]
#[ignore = "measurement: prints a table"]
fn race_measure_overlap_against_late_commit_lag() {
    for lag_ms in [50u64, 200, 1000] {
        for overlap_ms in [0u64, 25, 100, 500, 2000, 5000] {
            let races = Races::none()
                .equal_times(3)
                .late_commits(5, Duration::from_millis(lag_ms));
            let run = three_writers(6000, races, Some(Duration::from_millis(overlap_ms)), 300);
            println!(
                "lag {lag_ms:>5} ms, overlap {overlap_ms:>5} ms: stored {}, delivered {:?}, records differing {:?}",
                run.stored, run.delivered, run.differing
            );
        }
    }
}

//! The engine over SQLite, against bare SQLite and the in-memory replica:
//! a local write with fsync (criterion, then p50/p99 of 1,000 writes each),
//! listing 10k records with one encrypted field each (criterion), catching
//! up 100k changes from the loopback server into a fresh file against
//! `pull_into` a `Replica`, and the resident memory the engine adds while
//! it holds those 100k records. Prints one `RESULT {json}` line per
//! measurement.
//!
//! Run: `cargo bench -p mana-sync-sqlite --bench engine`

#![allow(missing_docs)]

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput};
use mana_sync_core::crypto::MasterKey;
use mana_sync_core::engine::{Engine, EngineHandle, EngineSettings, OutboxEntry};
use mana_sync_core::fold::{Record, Replica, Slot};
use mana_sync_core::{Change, Config, SystemClock, TableSpec, Timestamp};
use mana_sync_sqlite::{Durability, SqliteStore};
use mana_sync_testkit::token_for;
use rusqlite::{params, Connection};
use serde::{Deserialize, Serialize};
use serde_json::json;

mod common;

use common::{server_with, APP, TABLE, USER};

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Note {
    title: String,
    pinned: bool,
}

fn spec() -> TableSpec<Note> {
    TableSpec::new(APP, TABLE).encrypted(&["title"])
}

fn key() -> MasterKey {
    MasterKey::from_bytes(&[9u8; 32]).unwrap_or_else(|e| panic!("{e}"))
}

fn config(url: &str, id: &str) -> Config {
    Config::new(url, token_for(USER), id).unwrap_or_else(|e| panic!("{e}"))
}

fn settings() -> EngineSettings {
    EngineSettings::new(APP, &[TABLE])
        .live(false)
        .repull_every(None)
}

fn dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mana-bench-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    dir
}

fn now() -> Timestamp {
    Timestamp::parse("2026-06-01T00:00:00Z").unwrap_or_else(|e| panic!("{e}"))
}

/// Write `i`: a title on one of 1,000 records.
fn change(i: u64) -> Change {
    let at = now().checked_add(Duration::from_micros(i)).unwrap_or(now());
    Change::update(TABLE, format!("n-{}", i % 1000)).with_field("title", format!("title {i}"), at)
}

fn result(value: serde_json::Value) {
    println!("RESULT {value}");
}

// ------------------------------------------------------------- writes

/// The same rows the engine writes for one change (the record's state and
/// the outbox entry, as JSON text), in one transaction of a bare
/// connection with the same durability (WAL, `synchronous = FULL`).
struct Bare {
    conn: Connection,
    seq: u64,
}

impl Bare {
    fn open(path: &Path) -> Bare {
        let conn = Connection::open(path).unwrap_or_else(|e| panic!("{e}"));
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
             CREATE TABLE records (tbl TEXT NOT NULL, id TEXT NOT NULL, slot TEXT NOT NULL,
                                   PRIMARY KEY (tbl, id)) WITHOUT ROWID;
             CREATE TABLE outbox (seq INTEGER PRIMARY KEY, entry TEXT NOT NULL);",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        Bare { conn, seq: 0 }
    }

    fn write(&mut self, change: Change) {
        self.seq += 1;
        let id = change.id.clone();
        let (slot, _) = Slot::fold(None, &change);
        let slot = serde_json::to_string(&slot).unwrap_or_default();
        let entry = OutboxEntry {
            seq: self.seq,
            change,
            written_at: now(),
        };
        let entry = serde_json::to_string(&entry).unwrap_or_default();
        let tx = self.conn.transaction().unwrap_or_else(|e| panic!("{e}"));
        tx.execute(
            "INSERT INTO records (tbl, id, slot) VALUES (?1, ?2, ?3) \
             ON CONFLICT (tbl, id) DO UPDATE SET slot = excluded.slot",
            params![TABLE, id, slot],
        )
        .unwrap_or_else(|e| panic!("{e}"));
        tx.execute(
            "INSERT INTO outbox (seq, entry) VALUES (?1, ?2)",
            params![self.seq as i64, entry],
        )
        .unwrap_or_else(|e| panic!("{e}"));
        tx.commit().unwrap_or_else(|e| panic!("{e}"));
    }
}

fn engine_at(path: &Path) -> Engine<SqliteStore> {
    let store = SqliteStore::open_with(path, Durability::Full).unwrap_or_else(|e| panic!("{e}"));
    Engine::open(
        store,
        config("http://sync.test", "bench"),
        settings(),
        now(),
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

fn writes(c: &mut Criterion) {
    let d = dir("writes");
    let mut engine = engine_at(&d.join("engine.db"));
    let mut bare = Bare::open(&d.join("bare.db"));
    let mut group = c.benchmark_group("local write, fsync (WAL, synchronous=FULL)");
    group.throughput(Throughput::Elements(1));
    let mut i = 0;
    group.bench_function("engine write (record + outbox, one commit)", |b| {
        b.iter(|| {
            i += 1;
            black_box(engine.write(vec![change(i)], now()).unwrap_or_default())
        })
    });
    group.bench_function("bare rusqlite transaction, same rows", |b| {
        b.iter(|| {
            i += 1;
            bare.write(change(i));
        })
    });
    group.finish();
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(at).map_or(0.0, |d| d.as_secs_f64() * 1e6)
}

/// p50 and p99 of 1,000 writes each, interleaved.
fn write_latency() {
    let d = dir("latency");
    let mut engine = engine_at(&d.join("engine.db"));
    let mut bare = Bare::open(&d.join("bare.db"));
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for i in 0..1000u64 {
        let t = Instant::now();
        black_box(engine.write(vec![change(2 * i)], now()).unwrap_or_default());
        ours.push(t.elapsed());
        let t = Instant::now();
        bare.write(change(2 * i + 1));
        theirs.push(t.elapsed());
    }
    ours.sort();
    theirs.sort();
    for p in [0.5, 0.99] {
        let (a, b) = (percentile(&ours, p), percentile(&theirs, p));
        println!(
            "local write p{:.0}: engine {a:.0} µs, bare rusqlite {b:.0} µs, ratio {:.2}",
            p * 100.0,
            a / b
        );
        result(
            json!({"step": format!("write p{:.0}", p * 100.0), "engine_us": a, "bare_us": b, "ratio": a / b}),
        );
    }
}

// ------------------------------------------------------------ listing

fn listing(c: &mut Criterion) {
    const N: usize = 10_000;
    let d = dir("listing");
    let path = d.join("engine.db");
    let key = key();
    {
        let mut engine = engine_at(&path);
        let changes: Vec<Change> = (0..N)
            .map(|i| {
                let note = Note {
                    title: format!("a secret note {i}"),
                    pinned: i % 2 == 0,
                };
                spec()
                    .create_change(&format!("n-{i:05}"), &note, Some(&key), now())
                    .unwrap_or_else(|e| panic!("{e}"))
            })
            .collect();
        engine
            .write(changes, now())
            .unwrap_or_else(|e| panic!("{e}"));
        let mut group = c.benchmark_group(format!("list {N} records, one encrypted field"));
        group.sample_size(20);
        group.throughput(Throughput::Elements(N as u64));
        group.bench_function(BenchmarkId::new("engine list", N), |b| {
            b.iter(|| {
                let listing = engine
                    .list(&spec(), Some(&key))
                    .unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(listing.records.len(), N);
                black_box(listing)
            })
        });
        group.finish();
    }
    // The same file, read bare: the SELECT, then the same decode.
    let conn = Connection::open(&path).unwrap_or_else(|e| panic!("{e}"));
    let mut group = c.benchmark_group(format!("list {N} records, one encrypted field"));
    group.sample_size(20);
    group.throughput(Throughput::Elements(N as u64));
    group.bench_function(BenchmarkId::new("bare SELECT + decode", N), |b| {
        b.iter(|| {
            let mut statement = conn
                .prepare_cached("SELECT slot FROM records WHERE tbl = ?1 ORDER BY id")
                .unwrap_or_else(|e| panic!("{e}"));
            let rows = statement
                .query_map(params![TABLE], |r| r.get::<_, String>(0))
                .unwrap_or_else(|e| panic!("{e}"));
            let mut notes = Vec::with_capacity(N);
            for text in rows {
                let text = text.unwrap_or_else(|e| panic!("{e}"));
                let slot: Slot = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
                let record: &Record = slot.record().unwrap_or_else(|| panic!("a record"));
                notes.push(
                    spec()
                        .decode(record, Some(&key))
                        .unwrap_or_else(|e| panic!("{e}")),
                );
            }
            assert_eq!(notes.len(), N);
            black_box(notes)
        })
    });
    group.finish();
}

// --------------------------------------------------- catch-up, memory

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn catch_up() {
    const N: usize = 100_000;
    let server = server_with(N);
    let url = server.base_url();
    let client = mana_sync_ureq::client(config(&url, "replica")).unwrap_or_else(|e| panic!("{e}"));
    let mut best_replica = f64::MAX;
    for _ in 0..3 {
        let mut replica = Replica::new();
        let t = Instant::now();
        client
            .pull_into(APP, TABLE, &mut replica)
            .unwrap_or_else(|e| panic!("{e}"));
        best_replica = best_replica.min(t.elapsed().as_secs_f64());
        assert_eq!(replica.len(TABLE), N);
    }
    let mut best_engine = f64::MAX;
    let mut rss_growth = 0;
    for round in 0..2 {
        let d = dir(&format!("catch-up-{round}"));
        let before = rss_kib();
        let store = SqliteStore::open(d.join("engine.db")).unwrap_or_else(|e| panic!("{e}"));
        let engine = EngineHandle::open(store, config(&url, "engine"), settings(), SystemClock)
            .unwrap_or_else(|e| panic!("{e}"));
        let t = Instant::now();
        let driver = engine.spawn_blocking(mana_sync_ureq::UreqTransport::new(Default::default()));
        for status in engine.watch_status() {
            if status.caught_up {
                break;
            }
        }
        best_engine = best_engine.min(t.elapsed().as_secs_f64());
        rss_growth = rss_kib().saturating_sub(before);
        engine.stop();
        let _ = driver.join();
    }
    let (rate_engine, rate_replica) = (N as f64 / best_engine, N as f64 / best_replica);
    println!(
        "catch-up of {N}: engine into a fresh SQLite file {best_engine:.2} s ({rate_engine:.0}/s), \
         pull_into a Replica {best_replica:.2} s ({rate_replica:.0}/s), ratio {:.2}",
        rate_engine / rate_replica
    );
    result(
        json!({"step": "catch-up 100k", "engine_s": best_engine, "replica_s": best_replica,
                  "ratio": rate_engine / rate_replica}),
    );
    println!(
        "resident memory the engine added holding {N} records: {} KiB",
        rss_growth
    );
    result(json!({"step": "engine RSS growth holding 100k", "kib": rss_growth}));
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    writes(&mut c);
    listing(&mut c);
    c.final_summary();
    write_latency();
    catch_up();
}

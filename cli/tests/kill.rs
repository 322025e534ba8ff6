//! Crash safety for real: a child process writes in a loop through the
//! SQLite engine against `mana-sync serve --data`, and is killed with
//! SIGKILL at 50 points. After every restart, every write whose call
//! returned is in the file, and in the end the server and the file both
//! hold exactly the fold of the writes made: none lost, none changed.
//!
//! The child is this test binary itself, running the ignored test
//! `child_writes_until_killed` with the folder in `MANA_KILL_DIR`.

#![allow(clippy::unwrap_used)]
#![cfg(unix)]

mod support;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use mana_sync_core::engine::{EngineHandle, EngineSettings, Store};
use mana_sync_core::{BlockingClient, Change, Config, SystemClock, Timestamp};
use mana_sync_sqlite::SqliteStore;
use serde_json::{json, Value};
use support::{temp_dir, Serve};

const USER: &str = "kill-user";
const RECORDS: u64 = 5;

/// Write `i`: record `r-{i mod 5}`'s title set to `v{i}` at a stamp that
/// grows with `i`, the same on every run (a write repeated after a crash
/// is the same change).
fn write(i: u64) -> Change {
    let base = Timestamp::parse("2026-06-01T00:00:00Z").unwrap();
    let at = base.checked_add(Duration::from_millis(i)).unwrap();
    Change::update("tasks", format!("r-{}", i % RECORDS)).with_field("title", format!("v{i}"), at)
}

/// The titles the fold of writes `0..n` shows.
fn model(n: u64) -> BTreeMap<String, Value> {
    (0..n)
        .map(|i| (format!("r-{}", i % RECORDS), json!(format!("v{i}"))))
        .collect()
}

fn titles(records: &[mana_sync_core::fold::Record]) -> BTreeMap<String, Value> {
    records
        .iter()
        .filter_map(|r| Some((r.id.clone(), r.get("title")?.into_owned())))
        .collect()
}

/// How many writes returned, as the child logged them.
fn returned(dir: &Path) -> u64 {
    std::fs::read_to_string(dir.join("returned"))
        .map(|t| t.lines().count() as u64)
        .unwrap_or(0)
}

fn settings() -> EngineSettings {
    EngineSettings::new("todo", &["tasks"]).debounce(Duration::from_millis(5))
}

fn config(url: &str) -> Config {
    Config::new(url, mana_sync_testkit::token_for(USER), "crash-writer").unwrap()
}

/// How many changes the server holds for the user.
fn serve_count(reader: &BlockingClient<mana_sync_ureq::UreqTransport>) -> usize {
    reader
        .clone()
        .with_own_changes(true)
        .pull_all("todo", "tasks", &mana_sync_core::Cursor::EPOCH)
        .unwrap()
        .changes
        .len()
}

#[test]
#[ignore = "the child of sigkill_at_50_points_loses_no_returned_write"]
fn child_writes_until_killed() {
    let Ok(dir) = std::env::var("MANA_KILL_DIR").map(PathBuf::from) else {
        return;
    };
    let url = std::fs::read_to_string(dir.join("url")).unwrap();
    let store = SqliteStore::open(dir.join("todo.db")).unwrap();
    let engine = EngineHandle::open(store, config(&url), settings(), SystemClock).unwrap();
    let _driver = engine.spawn_blocking(mana_sync_ureq::UreqTransport::new(Default::default()));
    let drain = std::env::var("MANA_KILL_DRAIN").is_ok();
    let mut log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("returned"))
        .unwrap();
    let mut i = returned(&dir);
    if drain {
        for status in engine.watch_status() {
            if status.pending == 0 && status.caught_up {
                return;
            }
        }
    }
    loop {
        engine.write(vec![write(i)]).unwrap();
        // Logged only once the call returned, in one write(2): a kill
        // leaves the line whole or absent.
        log.write_all(format!("{i}\n").as_bytes()).unwrap();
        log.sync_data().unwrap();
        i += 1;
    }
}

#[test]
fn sigkill_at_50_points_loses_no_returned_write() {
    let dir = temp_dir("kill");
    let serve = Serve::start(&["--data", dir.join("server.jsonl").to_str().unwrap()]);
    std::fs::write(dir.join("url"), &serve.url).unwrap();
    let child = |drain: bool| {
        let mut command = Command::new(std::env::current_exe().unwrap());
        command
            .args([
                "--exact",
                "child_writes_until_killed",
                "--ignored",
                "--nocapture",
            ])
            .env("MANA_KILL_DIR", &dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if drain {
            command.env("MANA_KILL_DRAIN", "1");
        }
        command.spawn().unwrap()
    };
    // A seeded choice of points: how many more writes to let return before
    // the kill (the kill lands anywhere after that, mid-write or mid-push).
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    for round in 0..50 {
        let before = returned(&dir);
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let more = 1 + seed % 40;
        let mut running = child(false);
        for waited in 0.. {
            if returned(&dir) >= before + more {
                break;
            }
            assert!(
                running.try_wait().unwrap().is_none(),
                "the child died on its own"
            );
            assert!(
                waited < 60_000,
                "round {round}: the child wrote nothing for a minute"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        running.kill().unwrap();
        running.wait().unwrap();
        // Every returned write is in the file (the last one may be there
        // without its log line).
        let n = returned(&dir);
        let mut store = SqliteStore::open(dir.join("todo.db")).unwrap();
        let local = titles(&store.records("tasks").unwrap());
        assert!(
            local == model(n) || local == model(n + 1),
            "round {round}: {n} writes returned, the file shows {local:?}"
        );
    }
    let reader = BlockingClient::new(
        Config::new(&serve.url, mana_sync_testkit::token_for(USER), "reader").unwrap(),
        mana_sync_ureq::UreqTransport::new(Default::default()),
    );
    let pushed = serve_count(&reader);
    assert!(pushed > 0, "the children pushed between the kills");
    // Let the last one drain, then compare the server and the file.
    let mut last = child(true);
    assert!(last.wait().unwrap().success());
    let n = returned(&dir);
    let mut store = SqliteStore::open(dir.join("todo.db")).unwrap();
    let local = titles(&store.records("tasks").unwrap());
    assert!(local == model(n) || local == model(n + 1), "{local:?}");
    assert_eq!(store.outbox().unwrap().len(), 0);
    let server = titles(&reader.records("todo", "tasks", false).unwrap());
    assert_eq!(server, local, "the server holds what the file holds");
    assert!(n >= 50, "{n} writes in all");
}

//! The heap the engine holds once it caught up a collection into a SQLite
//! file, at two sizes: the engine keeps records in the file, not in
//! memory, so what it holds should not grow with the record count. A
//! counting allocator of its own (a process of its own: the timing benches
//! run without it). SQLite's page cache is allocated by SQLite itself and
//! is not counted here; it is bounded by its `cache_size` (2 MiB by
//! default).
//!
//! Run: `cargo bench -p mana-sync-sqlite --bench engine_memory`

#![allow(missing_docs)]

use mana_sync_core::engine::{EngineHandle, EngineSettings};
use mana_sync_core::{Config, SystemClock};
use mana_sync_sqlite::SqliteStore;
use mana_sync_testkit::token_for;
use peak_alloc::PeakAlloc;
use serde_json::json;

#[global_allocator]
static COUNTING: PeakAlloc = PeakAlloc;

mod common;

use common::{server_with, APP, TABLE, USER};

/// Heap held by an engine that caught up `n` records (bytes), and the
/// peak during the catch-up.
fn held_after_catch_up(n: usize) -> (usize, usize) {
    let server = server_with(n);
    let dir = std::env::temp_dir().join(format!("mana-bench-mem-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let config = Config::new(&server.base_url(), token_for(USER), "engine")
        .unwrap_or_else(|e| panic!("{e}"));
    let settings = EngineSettings::new(APP, &[TABLE])
        .live(false)
        .repull_every(None);
    let before = COUNTING.current_usage();
    COUNTING.reset_peak_usage();
    let store = SqliteStore::open(dir.join("engine.db")).unwrap_or_else(|e| panic!("{e}"));
    let engine =
        EngineHandle::open(store, config, settings, SystemClock).unwrap_or_else(|e| panic!("{e}"));
    let driver = engine.spawn_blocking(mana_sync_ureq::UreqTransport::new(Default::default()));
    for status in engine.watch_status() {
        if status.caught_up {
            break;
        }
    }
    engine.stop();
    let _ = driver.join();
    // The engine is still open (the handle holds it): what it keeps.
    let held = COUNTING.current_usage().saturating_sub(before);
    let peak = COUNTING.peak_usage().saturating_sub(before);
    drop(engine);
    let _ = std::fs::remove_dir_all(&dir);
    (held, peak)
}

fn main() {
    for n in [10_000, 100_000] {
        let (held, peak) = held_after_catch_up(n);
        println!(
            "engine caught up {n} records: holds {:.1} KiB, peak during the catch-up {:.1} MiB \
             (the server's pages in flight included)",
            held as f64 / 1024.0,
            peak as f64 / 1024.0 / 1024.0
        );
        println!(
            "RESULT {}",
            json!({"step": format!("engine heap held after catching up {n}"), "bytes": held, "peak_bytes": peak})
        );
    }
}

//! The memory of a fold, measured in a process of its own: the `compare`
//! bench runs it once per size (`fold_memory <changes>`), so that its
//! counting allocator slows no other measurement, and so that memory freed
//! by earlier steps (which the allocator keeps and reuses) cannot hide the
//! replica's.
//!
//! Per size it prints one line, `FOLD_MEMORY {json}`: `heap`, the bytes the
//! replica holds once folded (counted by the global allocator below: bytes
//! asked for, the allocator's own per-block overhead not included); `peak`,
//! the most bytes held at once while folding, over what was held before;
//! `rss`, the growth of the process's resident memory while folding (this
//! process allocated nothing else since it built the changes); `state`, the
//! size of the folded state as JSON (`serde_json::to_vec(&replica)`).
//!
//! Run alone (`cargo bench -p mana-sync-testkit --bench fold_memory`), it
//! measures 10k, 100k and 1M changes, each in a fresh process.

#![allow(missing_docs)]

#[path = "../../core/benches/common/mod.rs"]
mod common;

use mana_sync_core::fold::Replica;
use peak_alloc::PeakAlloc;

/// Counts the bytes held and the most held at once (an atomic add per
/// allocation and per free).
#[global_allocator]
static COUNTING: PeakAlloc = PeakAlloc;

fn measure(n: usize) -> String {
    let changes = common::fold_changes(n);
    let rss_before = common::proc_status_kib("VmRSS:");
    let before = COUNTING.current_usage();
    COUNTING.reset_peak_usage();
    let mut replica = Replica::new();
    let report = replica.apply_all(&changes);
    let peak = COUNTING.peak_usage().saturating_sub(before);
    let heap = COUNTING.current_usage().saturating_sub(before);
    let rss = common::proc_status_kib("VmRSS:")
        .saturating_sub(rss_before)
        .saturating_mul(1024);
    drop(report);
    let state = serde_json::to_vec(&replica).map(|v| v.len()).unwrap_or(0);
    format!(
        r#"FOLD_MEMORY {{"changes":{n},"records":{},"heap":{heap},"peak":{peak},"rss":{rss},"state":{state}}}"#,
        replica.len("tasks")
    )
}

fn main() {
    if let Some(n) = std::env::args().skip(1).find_map(|a| a.parse().ok()) {
        println!("{}", measure(n));
        return;
    }
    // Each size in a fresh process of its own.
    let me = std::env::current_exe().unwrap_or_else(|e| panic!("{e}"));
    for n in [10_000usize, 100_000, 1_000_000] {
        let out = std::process::Command::new(&me)
            .arg(n.to_string())
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        print!("{}", String::from_utf8_lossy(&out.stdout));
    }
}

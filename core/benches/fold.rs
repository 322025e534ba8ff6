//! Folding throughput and memory: 1,000,000 changes (inserts, updates, soft
//! and hard deletes) over 50,000 records.
//!
//! Run: `cargo bench -p mana-sync-core --bench fold`. Besides criterion's
//! changes/s, it prints the peak resident memory of the process (the 1M
//! changes included) and the size of the folded state as JSON. The
//! replica's own memory is measured by the testkit's `fold_memory` bench
//! (a counting allocator, a process per size).

#![allow(missing_docs)] // criterion_group! generates an undocumented fn

mod common;

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use mana_sync_core::fold::Replica;

const CHANGES: usize = 1_000_000;
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn bench(c: &mut Criterion) {
    let changes = common::fold_changes(CHANGES);
    let before = peak_rss_kib();
    let mut replica = Replica::new();
    let report = replica.apply_all(&changes);
    let after = peak_rss_kib();
    let state = serde_json::to_vec(&replica).map(|v| v.len()).unwrap_or(0);
    println!(
        "fold: {} applied, {} ignored, {} dropped; {} records ({} live); folded state {:.1} MiB as JSON; \
         peak RSS {:?} KiB before folding, {:?} KiB after (changes held in memory: {CHANGES})",
        report.applied,
        report.ignored,
        report.dropped.len(),
        replica.len("tasks"),
        replica.records("tasks").count(),
        state as f64 / (1024.0 * 1024.0),
        before,
        after
    );
    let mut group = c.benchmark_group("fold");
    group.sample_size(10);
    group.throughput(Throughput::Elements(CHANGES as u64));
    group.bench_function("1M changes over 50k records", |b| {
        b.iter(|| {
            let mut replica = Replica::new();
            black_box(replica.apply_all(&changes));
            replica
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

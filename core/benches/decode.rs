//! Decoding pull pages and encoding a push.
//!
//! Run: `cargo bench -p mana-sync-core --bench decode`
//!
//! * the captured 1000-change page (`20-pull-page-1.json`) through [`Pull`],
//!   as bytes per second of body;
//! * a synthetic page of 1000 changes of ~1 KB (mixed ops, nested `data`,
//!   `enc:1:` strings) through [`Pull`];
//! * the same pages through [`Pull`] with every change then copied out
//!   (`Changes::to_vec`: what materialising owned `Change`s costs);
//! * the same two bodies through plain `serde_json` into a `Value` (the
//!   floor a generic parser sets);
//! * the request of a 200-change push ([`Push::new`]).

#![allow(missing_docs)] // criterion_group! generates an undocumented fn

mod common;

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use mana_sync_core::ops::Push;
use mana_sync_core::{Change, Config, Cursor, SyncResponse, Timestamp};
use serde_json::Value;

fn config() -> Config {
    Config::new("http://127.0.0.1:3050", "t.o.k", "bench").unwrap_or_else(|e| panic!("{e}"))
}

fn bench(c: &mut Criterion) {
    let config = config();
    let now = Timestamp::from_unix_millis(1_800_000_000_000).unwrap_or(Timestamp::UNIX_EPOCH);
    for (name, body) in [
        ("captured page", common::captured_page()),
        ("synthetic 1 KB changes", common::synthetic_page(1000)),
    ] {
        let bytes = body.into_bytes();
        let page = common::pull_page(&config, &bytes, now);
        assert!(page.skipped.is_empty());
        let mut group = c.benchmark_group(format!(
            "decode {name} ({} changes, {} bytes)",
            page.server_changes.len(),
            bytes.len()
        ));
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function("Pull", |b| {
            b.iter(|| black_box(common::pull_page(&config, &bytes, now)))
        });
        group.bench_function("Pull, then every change copied out (to_vec)", |b| {
            b.iter(|| {
                black_box(
                    common::pull_page(&config, &bytes, now)
                        .server_changes
                        .to_vec(),
                )
            })
        });
        group.bench_function("serde_json Value (floor)", |b| {
            b.iter(|| black_box(serde_json::from_slice::<Value>(&bytes).unwrap_or_default()))
        });
        group.finish();
    }

    let page: SyncResponse =
        serde_json::from_str(&common::synthetic_page(200)).unwrap_or_else(|e| panic!("{e}"));
    let changes: Vec<Change> = page.server_changes.into_vec();
    let mut group = c.benchmark_group("encode a 200-change push");
    group.throughput(Throughput::Elements(changes.len() as u64));
    group.bench_function("Push::new", |b| {
        b.iter(|| {
            black_box(
                Push::new(&config, "todo", &changes, &Cursor::EPOCH)
                    .unwrap_or_else(|e| panic!("{e}")),
            )
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! Pull-all of 100,000 changes from the loopback server: through the ureq
//! and the hyper client, and through a bare request loop of the same bytes
//! (the library's overhead is the difference).
//!
//! Run: `cargo bench -p mana-sync-testkit --bench pull_all`

#![allow(missing_docs)] // criterion_group! generates an undocumented fn

mod shared;

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use mana_sync_core::{Config, Cursor};
use shared::{APP, CLIENT, COLLECTION};

const CHANGES: usize = 100_000;

fn bench(c: &mut Criterion) {
    let server = shared::server_with(CHANGES);
    let url = server.base_url();
    let config = Config::new(&url, shared::token(), CLIENT).unwrap_or_else(|e| panic!("{e}"));
    let ureq_client = mana_sync_ureq::client(config.clone()).unwrap_or_else(|e| panic!("{e}"));
    let hyper_client = mana_sync_hyper::client(config).unwrap_or_else(|e| panic!("{e}"));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let first = ureq_client
        .pull_all(APP, COLLECTION, &Cursor::EPOCH)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(first.changes.len(), CHANGES);

    let agent = shared::bare_agent();
    let headers = shared::library_headers(&url);
    let mut group = c.benchmark_group(format!("pull-all of {CHANGES} changes (loopback)"));
    group.sample_size(10);
    group.throughput(Throughput::Elements(CHANGES as u64));
    group.bench_function("ureq client", |b| {
        b.iter(|| {
            black_box(
                ureq_client
                    .pull_all(APP, COLLECTION, &Cursor::EPOCH)
                    .unwrap_or_else(|e| panic!("{e}")),
            )
        })
    });
    group.bench_function("hyper client", |b| {
        b.iter(|| {
            black_box(
                runtime
                    .block_on(hyper_client.pull_all(APP, COLLECTION, &Cursor::EPOCH))
                    .unwrap_or_else(|e| panic!("{e}")),
            )
        })
    });
    group.bench_function("bare ureq requests, same bytes, not decoded", |b| {
        b.iter(|| {
            black_box(shared::bare_pull_all(
                &agent,
                &url,
                &headers,
                false,
                None,
                usize::MAX,
            ))
        })
    });
    group.bench_function("bare ureq requests + serde_json Value", |b| {
        b.iter(|| {
            black_box(shared::bare_pull_all(
                &agent,
                &url,
                &headers,
                true,
                None,
                usize::MAX,
            ))
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

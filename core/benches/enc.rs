//! `enc:1:` throughput: encrypt and decrypt 100,000 values of ~200 bytes.
//!
//! Run: `cargo bench -p mana-sync-core --bench enc`

#![allow(missing_docs)] // criterion_group! generates an undocumented fn

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use mana_sync_core::crypto::{decrypt_value, encrypt_value, Iv, MasterKey};
use serde_json::Value;

const VALUES: usize = 100_000;

fn values() -> Vec<Value> {
    (0..VALUES)
        .map(|i| {
            Value::String(format!(
                "{i:08} Steuererklärung 2026: Belege sammeln, Termin mit Anna – {}",
                "x".repeat(120)
            ))
        })
        .collect()
}

fn iv(i: usize) -> Iv {
    let mut b = [0u8; 12];
    b[..8].copy_from_slice(&(i as u64).to_le_bytes());
    Iv::from_bytes(b)
}

fn bench(c: &mut Criterion) {
    let key = MasterKey::from_bytes(&[7; 32]).unwrap_or_else(|e| panic!("{e}"));
    let plain = values();
    let size = mana_sync_core::crypto::to_js_json(&plain[0]).len();
    let wire: Vec<Value> = plain
        .iter()
        .enumerate()
        .map(|(i, v)| encrypt_value(&key, &iv(i), v))
        .collect();
    let mut group = c.benchmark_group(format!("enc:1: {VALUES} values of {size} bytes"));
    group.sample_size(10);
    group.throughput(Throughput::Elements(VALUES as u64));
    group.bench_function("encrypt", |b| {
        b.iter(|| {
            for (i, v) in plain.iter().enumerate() {
                black_box(encrypt_value(&key, &iv(i), v));
            }
        })
    });
    group.bench_function("decrypt", |b| {
        b.iter(|| {
            for w in &wire {
                black_box(decrypt_value(&key, w).unwrap_or(Value::Null));
            }
        })
    });
    // What bench/compare.sh measures: a fresh random IV per value, encrypt,
    // then decrypt, the result owned.
    group.bench_function("encrypt+decrypt, random IVs", |b| {
        b.iter(|| {
            for v in &plain {
                let iv = Iv::random().unwrap_or_else(|e| panic!("{e}"));
                let wire = encrypt_value(&key, &iv, v);
                black_box(decrypt_value(&key, &wire).unwrap_or(Value::Null));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! Replays the fuzz corpus (`fuzz/corpus/<target>/*`, checked in) through the
//! fuzz targets' own bodies, on stable: every input the fuzzers found
//! interesting, and every crash they ever found, stays a test.

#![allow(clippy::unwrap_used)]

#[path = "../../fuzz/src/harness.rs"]
mod harness;

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let outcome = std::panic::catch_unwind(|| run(&data));
        assert!(outcome.is_ok(), "{target}: {} panicked", path.display());
        count += 1;
    }
    assert!(count > 0, "no corpus for {target} in {}", dir.display());
    count
}

#[test]
fn responses_corpus() {
    replay("responses", harness::responses);
}

#[test]
fn enc_corpus() {
    replay("enc", harness::enc);
}

#[test]
fn timestamps_corpus() {
    replay("timestamps", harness::timestamps);
}

#[test]
fn sse_corpus() {
    replay("sse", harness::sse);
}

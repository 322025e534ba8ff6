//! The memory (and time) of a pull of a whole collection, measured in a
//! process of its own: the `compare` bench runs it once per size and way
//! (`pull_memory <changes> all|into`), so that its counting allocator slows
//! no other measurement and memory freed by earlier steps cannot hide the
//! pull's.
//!
//! The loopback server holding the collection runs in this process (its
//! threads answer the requests), so it cannot be left out entirely: the
//! heap held once it is seeded and the client's connection is open is
//! subtracted, and what it allocates to answer a request (one page in
//! flight: the rows as JSON values and the body) falls inside the peak.
//!
//! Ways: `all` is `client.pull_all(..)` (the result held as the pages'
//! bytes, decoded lazily); `into` is `client.pull_into(.., &mut Replica)`.
//!
//! One line per run, `PULL_MEMORY {json}`: `pages` and `bytes`, the
//! requests made and the bytes of the bodies the server sent (the reference
//! of "the decoded changes": the changes as the server sent them, one
//! change re-read at each page boundary included); `peak`, the most heap
//! held at once during the pull over what was held before; `held`, the
//! heap still held after it (the result, or the replica); `bare_peak`, the
//! peak of the bare request loop of the same requests (its first 20 pages, each body dropped
//! once read: the server's page in flight and one body, the part of the
//! peak that is not the client's); `rss`, the growth
//! of the resident memory; `secs` and `cpu`, the wall time and the CPU time
//! of the client's thread of that pull (under the counting allocator: an
//! atomic add per allocation and per free); `best_secs`/`best_cpu`, the
//! best of a few more rounds when the size is small enough.
//!
//! Run alone (`cargo bench -p mana-sync-testkit --bench pull_memory`), it
//! measures 10k, 100k and 1M changes both ways, each in a fresh process.

#![allow(missing_docs)]

#[path = "../../core/benches/common/mod.rs"]
mod common;
mod shared;

use std::time::Instant;

use mana_sync_core::fold::Replica;
use mana_sync_core::{BlockingClient, Config, Cursor, TransportOptions};
use mana_sync_ureq::UreqTransport;
use peak_alloc::PeakAlloc;

/// Counts the bytes held and the most held at once.
#[global_allocator]
static COUNTING: PeakAlloc = PeakAlloc;

/// How many pages the bare loop reads to measure its peak.
const BARE_PAGES: usize = 20;

type Client = BlockingClient<shared::Recording<UreqTransport>>;

/// One pull of the whole collection; what it leaves held (dropped by the
/// caller after the measurement), and how many changes or records.
fn pull(client: &Client, into: bool) -> (Box<dyn std::any::Any>, usize) {
    if into {
        let mut replica = Replica::new();
        let report = client
            .pull_into(shared::APP, shared::COLLECTION, &mut replica)
            .unwrap_or_else(|e| panic!("{e}"));
        let records = replica.len(shared::COLLECTION);
        (Box::new((replica, report)), records)
    } else {
        let out = client
            .pull_all(shared::APP, shared::COLLECTION, &Cursor::EPOCH)
            .unwrap_or_else(|e| panic!("{e}"));
        let n = out.changes.len();
        (Box::new(out), n)
    }
}

fn measure(n: usize, into: bool) -> String {
    let server = shared::server_with(n);
    let config = Config::new(&server.base_url(), shared::token(), shared::CLIENT)
        .unwrap_or_else(|e| panic!("{e}"));
    let client = BlockingClient::new(
        config,
        shared::Recording::new(UreqTransport::new(TransportOptions::default()), false),
    );
    // Opens the connection (an empty page: nothing after 2100).
    let late = Cursor::parse("2100-01-01T00:00:00Z").unwrap_or_else(|e| panic!("{e}"));
    client
        .pull(shared::APP, shared::COLLECTION, &late)
        .unwrap_or_else(|e| panic!("{e}"));
    client.transport().take();

    // The same requests through the bare loop (the first pages: the
    // server's work per page does not grow with the collection), each body
    // dropped when read: its peak is the server's page in flight plus one
    // body, the part of the pull's peak that is not the client's.
    let url = server.base_url();
    let agent = shared::bare_agent();
    let headers = shared::library_headers(&url);
    shared::bare_pull_all(&agent, &url, &headers, false, None, 2);
    let before = COUNTING.current_usage();
    COUNTING.reset_peak_usage();
    shared::bare_pull_all(&agent, &url, &headers, false, None, BARE_PAGES);
    let bare_peak = COUNTING.peak_usage().saturating_sub(before);
    drop((agent, headers));

    let rss_before = common::proc_status_kib("VmRSS:");
    let before = COUNTING.current_usage();
    COUNTING.reset_peak_usage();
    let (c0, t0) = (common::thread_cpu(), Instant::now());
    let (held_value, count) = pull(&client, into);
    let secs = t0.elapsed().as_secs_f64();
    let cpu = common::thread_cpu().saturating_sub(c0).as_secs_f64();
    let peak = COUNTING.peak_usage().saturating_sub(before);
    let held = COUNTING.current_usage().saturating_sub(before);
    let rss = common::proc_status_kib("VmRSS:")
        .saturating_sub(rss_before)
        .saturating_mul(1024);
    let fetched = client.transport().take();
    drop(held_value);
    if !into {
        assert_eq!(count, n, "pulled");
    }

    // A few more rounds for the time, when they are short.
    let rounds = if n <= 100_000 { 3 } else { 0 };
    let (mut best_secs, mut best_cpu) = (secs, cpu);
    for _ in 0..rounds {
        let (c0, t0) = (common::thread_cpu(), Instant::now());
        let result = pull(&client, into);
        best_secs = best_secs.min(t0.elapsed().as_secs_f64());
        best_cpu = best_cpu.min(common::thread_cpu().saturating_sub(c0).as_secs_f64());
        // Dropping the result is not the pull's time (the first
        // measurement drops it after its clock stopped, too).
        drop(result);
    }
    format!(
        r#"PULL_MEMORY {{"changes":{n},"way":"{}","count":{count},"pages":{},"bytes":{},"peak":{peak},"bare_peak":{bare_peak},"held":{held},"rss":{rss},"secs":{secs},"cpu":{cpu},"best_secs":{best_secs},"best_cpu":{best_cpu}}}"#,
        if into { "into" } else { "all" },
        fetched.pages,
        fetched.total,
    )
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(n) = args.iter().find_map(|a| a.parse().ok()) {
        let into = args.iter().any(|a| a == "into");
        println!("{}", measure(n, into));
        return;
    }
    // `cargo bench` passes `--bench`; `cargo test --benches` does not, and
    // gets a note instead of a minutes-long run.
    if !args.iter().any(|a| a == "--bench") {
        println!("pull_memory: run it with cargo bench --bench pull_memory (or `pull_memory <changes> all|into`)");
        return;
    }
    // Each size and way in a fresh process of its own.
    let me = std::env::current_exe().unwrap_or_else(|e| panic!("{e}"));
    for n in [10_000usize, 100_000, 1_000_000] {
        for way in ["all", "into"] {
            let out = std::process::Command::new(&me)
                .arg(n.to_string())
                .arg(way)
                .output()
                .unwrap_or_else(|e| panic!("{e}"));
            print!("{}", String::from_utf8_lossy(&out.stdout));
        }
    }
}

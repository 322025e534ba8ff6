//! A driver for profiling the pull of a whole collection (callgrind,
//! perf): seeds the loopback server, then pulls it `rounds` times through
//! the library (`lib`: the ureq client's `pull_all`; `into`: its
//! `pull_into` a fresh `Replica`) or through the bare request loop of the
//! same requests (`bare`), on the main thread (the server answers on its
//! own threads: profile the main thread, e.g. callgrind with
//! `--separate-threads=yes --toggle-collect=pull_driver::run`).
//!
//! `pull_driver <changes> lib|into|bare [rounds]`; prints the client
//! thread's CPU time per round. Not run by `cargo test`.
//!
//! ```sh
//! valgrind --tool=callgrind --separate-threads=yes \
//!     --toggle-collect='pull_driver::run*' target/release/deps/pull_driver-* 20000 lib 2
//! ```

#![allow(missing_docs)]

#[path = "../../core/benches/common/mod.rs"]
mod common;
mod shared;

use std::hint::black_box;
use std::time::Instant;

use mana_sync_core::fold::Replica;
use mana_sync_core::{Config, Cursor};

/// One pull, the part a profile collects.
#[inline(never)]
fn run(
    way: &str,
    client: &mana_sync_ureq::Client,
    agent: &ureq::Agent,
    url: &str,
    headers: &http::HeaderMap,
) {
    match way {
        "bare" => {
            black_box(shared::bare_pull_all(
                agent,
                url,
                headers,
                false,
                None,
                usize::MAX,
            ));
        }
        "into" => {
            let mut replica = Replica::new();
            black_box(
                client
                    .pull_into(shared::APP, shared::COLLECTION, &mut replica)
                    .unwrap_or_else(|e| panic!("{e}")),
            );
            black_box(replica);
        }
        _ => {
            black_box(
                client
                    .pull_all(shared::APP, shared::COLLECTION, &Cursor::EPOCH)
                    .unwrap_or_else(|e| panic!("{e}")),
            );
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `cargo bench` / `cargo test --benches` run it without a size: no-op.
    let Some(n) = args.first().and_then(|a| a.parse::<usize>().ok()) else {
        println!("pull_driver: run it as `pull_driver <changes> lib|into|bare [rounds]`");
        return;
    };
    let way = args.get(1).map_or("lib", String::as_str).to_owned();
    let rounds: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(1);
    let server = shared::server_with(n);
    let url = server.base_url();
    let config =
        Config::new(&url, shared::token(), shared::CLIENT).unwrap_or_else(|e| panic!("{e}"));
    let client = mana_sync_ureq::client(config).unwrap_or_else(|e| panic!("{e}"));
    let agent = shared::bare_agent();
    let headers = shared::library_headers(&url);
    for _ in 0..rounds {
        let (c0, t0) = (common::thread_cpu(), Instant::now());
        run(&way, &client, &agent, &url, &headers);
        println!(
            "{way} {n}: wall {:.4} s, client CPU {:.4} s",
            t0.elapsed().as_secs_f64(),
            common::thread_cpu().saturating_sub(c0).as_secs_f64()
        );
    }
}

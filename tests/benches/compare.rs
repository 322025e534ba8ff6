//! The Rust side of `bench/compare.sh`: measures each step of issue 11,
//! runs the JavaScript side (`bench/js/compare.mjs`, Node) against the same
//! inputs and the same loopback server, and prints each pair and the ratio.
//!
//! Run: `bench/compare.sh` (or `cargo bench -p mana-sync-testkit --bench
//! compare`; `MANA_BENCH_QUICK=1` for a short run). Not part of `cargo test`.
//!
//! Every result is also printed as one machine-readable line:
//! `RESULT {"step":..,"rust":..,"js":..,"unit":..,"ratio":..,"goal":..}`.

#![allow(missing_docs)]

#[path = "../../core/benches/common/mod.rs"]
mod common;
mod fold_log;
mod shared;

use std::hint::black_box;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use mana_sync_core::crypto::{decrypt_value, encrypt_value, Iv, MasterKey};
use mana_sync_core::fold::Replica;
use mana_sync_core::ops::Pull;
use mana_sync_core::{Config, Cursor, Operation, Step, SyncResponse, Timestamp};
use serde_json::{json, Value};

fn quick() -> bool {
    std::env::var_os("MANA_BENCH_QUICK").is_some()
}

/// The best of `rounds` timings of `f`, each of at least `min` (repeating
/// `f` as often as needed); returns seconds per call.
fn best<F: FnMut()>(rounds: usize, min: Duration, mut f: F) -> f64 {
    let mut best = f64::INFINITY;
    for _ in 0..rounds {
        let start = Instant::now();
        let mut n = 0u32;
        while start.elapsed() < min || n == 0 {
            f();
            n += 1;
        }
        best = best.min(start.elapsed().as_secs_f64() / f64::from(n));
    }
    best
}

/// CPU time of the calling thread so far (ns), from the scheduler.
fn thread_cpu() -> Duration {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    let ns = text
        .split_whitespace()
        .next()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(0);
    Duration::from_nanos(ns)
}

fn proc_status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn now() -> Timestamp {
    Timestamp::from_unix_millis(1_800_000_000_000).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn pull_page(config: &Config, body: &[u8]) -> SyncResponse {
    let mut op =
        Pull::new(config, "todo", "tasks", &Cursor::EPOCH).unwrap_or_else(|e| panic!("{e}"));
    let Step::Send(_) = op.step(now()) else {
        panic!("no request")
    };
    let response = http::Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(body.to_vec())
        .unwrap_or_else(|e| panic!("{e}"));
    op.on_response(now(), Ok(response));
    match op.step(now()) {
        Step::Done(Ok(page)) => page,
        _ => panic!("the page did not decode"),
    }
}

fn decode_mb_s(body: &[u8]) -> f64 {
    let config =
        Config::new("http://127.0.0.1:1", "t.o.k", "bench").unwrap_or_else(|e| panic!("{e}"));
    let secs = best(
        5,
        Duration::from_millis(if quick() { 100 } else { 400 }),
        || {
            black_box(pull_page(&config, body));
        },
    );
    body.len() as f64 / secs / 1e6
}

const ENC_VALUES: usize = 100_000;

fn enc_values() -> Vec<Value> {
    (0..ENC_VALUES)
        .map(|i| {
            json!(format!(
                "{i:08} Steuererklärung 2026: Belege sammeln, Termin mit Anna – {}",
                "x".repeat(120)
            ))
        })
        .collect()
}

/// Encrypt + decrypt of every value, each with a fresh random IV; values
/// (pairs) per second.
fn enc_per_s(values: &[Value]) -> f64 {
    let key = MasterKey::from_bytes(&[7; 32]).unwrap_or_else(|e| panic!("{e}"));
    let rounds = if quick() { 2 } else { 5 };
    let secs = best(rounds, Duration::from_millis(1), || {
        for v in values {
            let iv = Iv::random().unwrap_or_else(|e| panic!("{e}"));
            let wire = encrypt_value(&key, &iv, v);
            let back = decrypt_value(&key, &wire).unwrap_or_else(|e| panic!("{e}"));
            black_box(back);
        }
    });
    values.len() as f64 / secs
}

struct Fold {
    per_s: f64,
    secs: f64,
    /// Measured by the `fold_memory` bench in a process of its own (bytes).
    memory: Option<FoldMemory>,
}

/// What `fold_memory` measured (see that bench): the bytes the replica
/// holds, the most held while folding, the resident memory the fold added,
/// the folded state as JSON.
struct FoldMemory {
    heap: f64,
    peak: f64,
    rss: f64,
    state: f64,
}

/// The `fold_memory` bench binary: `MANA_FOLD_MEMORY_BIN` (set by
/// `bench/compare.sh`, which builds it), else the newest one built beside
/// this binary.
fn fold_memory_bin() -> Option<PathBuf> {
    if let Some(bin) = std::env::var_os("MANA_FOLD_MEMORY_BIN") {
        return Some(PathBuf::from(bin));
    }
    let me = std::env::current_exe().ok()?;
    std::fs::read_dir(me.parent()?)
        .ok()?
        .filter_map(Result::ok)
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with("fold_memory-") && !name.contains('.')
        })
        .max_by_key(|e| e.metadata().and_then(|m| m.modified()).ok())
        .map(|e| e.path())
}

/// Runs `fold_memory <n>` and reads its `FOLD_MEMORY {json}` line.
fn fold_memory(n: usize) -> Option<FoldMemory> {
    let Some(bin) = fold_memory_bin() else {
        eprintln!("fold memory: the fold_memory bench is not built (bench/compare.sh builds it)");
        return None;
    };
    let out = Command::new(&bin).arg(n.to_string()).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let json = text.lines().find_map(|l| l.strip_prefix("FOLD_MEMORY "))?;
    let v: Value = serde_json::from_str(json).ok()?;
    let get = |k: &str| v[k].as_f64();
    Some(FoldMemory {
        heap: get("heap")?,
        peak: get("peak")?,
        rss: get("rss")?,
        state: get("state")?,
    })
}

fn fold(n: usize) -> Fold {
    let changes = fold_log::fold_changes(n);
    let start = Instant::now();
    let mut replica = Replica::new();
    black_box(replica.apply_all(&changes, now()));
    let first = start.elapsed().as_secs_f64();
    drop(replica);
    // Best of a few rounds: a second or two per size even in the quick run.
    let rounds = if quick() { 3 } else { 5 };
    let secs = best(rounds, Duration::from_millis(1), || {
        let mut replica = Replica::new();
        black_box(replica.apply_all(&changes, now()));
    })
    .min(first);
    Fold {
        per_s: n as f64 / secs,
        secs,
        memory: fold_memory(n),
    }
}

struct PullAll {
    cpu: f64,
    wall: f64,
    bare_wall: f64,
    changes_mib: f64,
    peak_mib: f64,
}

/// Pull-all of the server's collection through the ureq client: CPU time of
/// the client's thread (the server runs on its own threads), wall time, and
/// the bare request loop of the same bytes.
fn pull_all(server: &mana_sync_testkit::LoopbackServer, n: usize) -> PullAll {
    let url = server.base_url();
    let config =
        Config::new(&url, shared::token(), shared::CLIENT).unwrap_or_else(|e| panic!("{e}"));
    let client = mana_sync_ureq::client(config).unwrap_or_else(|e| panic!("{e}"));
    let run = || {
        client
            .pull_all(shared::APP, shared::COLLECTION, &Cursor::EPOCH)
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let rss0 = proc_status_kib("VmRSS:");
    let out = run();
    assert_eq!(out.changes.len(), n, "pulled");
    let rss1 = proc_status_kib("VmRSS:");
    drop(out);
    let rounds = if quick() { 2 } else { 5 };
    let (mut cpu, mut wall, mut bare) = (f64::INFINITY, f64::INFINITY, f64::INFINITY);
    for _ in 0..rounds {
        let (c0, t0) = (thread_cpu(), Instant::now());
        black_box(run());
        wall = wall.min(t0.elapsed().as_secs_f64());
        cpu = cpu.min((thread_cpu().saturating_sub(c0)).as_secs_f64());
        let t0 = Instant::now();
        black_box(shared::bare_pull_all(&url, &shared::token(), false));
        bare = bare.min(t0.elapsed().as_secs_f64());
    }
    PullAll {
        cpu,
        wall,
        bare_wall: bare,
        changes_mib: rss1.saturating_sub(rss0) as f64 / 1024.0,
        peak_mib: proc_status_kib("VmHWM:") as f64 / 1024.0,
    }
}

fn js_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../bench/js")
}

/// Runs the Node side; its last line of output is a JSON object of results.
fn node(args: &[String]) -> Value {
    let script = js_dir().join("compare.mjs");
    let out = Command::new(std::env::var("NODE").unwrap_or_else(|_| "node".into()))
        .arg("--expose-gc")
        .arg(&script)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running node {}: {e}", script.display()));
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        panic!(
            "node failed ({}):\n{text}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    text.lines()
        .rev()
        .find_map(|l| serde_json::from_str(l).ok())
        .unwrap_or_else(|| panic!("no JSON line from node:\n{text}"))
}

fn num(v: &Value, path: &[&str]) -> f64 {
    let mut v = v;
    for p in path {
        v = &v[*p];
    }
    v.as_f64().unwrap_or(f64::NAN)
}

struct Row {
    step: String,
    rust: f64,
    js: f64,
    unit: &'static str,
    ratio: f64,
    goal: String,
}

fn row(
    rows: &mut Vec<Row>,
    step: &str,
    rust: f64,
    js: f64,
    unit: &'static str,
    ratio: f64,
    goal: &str,
) {
    let met = goal_met(ratio, goal);
    println!(
        "RESULT {}",
        json!({"step": step, "rust": rust, "js": js, "unit": unit, "ratio": ratio, "goal": goal, "met": met})
    );
    rows.push(Row {
        step: step.into(),
        rust,
        js,
        unit,
        ratio,
        goal: goal.into(),
    });
}

/// Goals are written `>= x` or `<= x`.
fn goal_met(ratio: f64, goal: &str) -> Option<bool> {
    let (op, x) = goal.split_once(' ')?;
    let x: f64 = x.trim_end_matches(['×', '%']).parse().ok()?;
    match op {
        ">=" => Some(ratio >= x),
        "<=" => Some(ratio <= x),
        _ => None,
    }
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not, and
    // gets a note instead of a minutes-long run.
    if !std::env::args().any(|a| a == "--bench") {
        println!("compare: run it with bench/compare.sh (or cargo bench --bench compare)");
        return;
    }
    let tmp = std::env::temp_dir().join(format!("mana-sync-compare-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap_or_else(|e| panic!("{e}"));
    let captured = common::captured_page();
    let synthetic = common::synthetic_page(1000);
    let captured_path = tmp.join("captured.json");
    let synthetic_path = tmp.join("synthetic.json");
    std::fs::write(&captured_path, &captured).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(&synthetic_path, &synthetic).unwrap_or_else(|e| panic!("{e}"));
    let pull_n = if quick() { 20_000 } else { 100_000 };
    let mut rows = Vec::new();

    eprintln!("rust: decode");
    let rust_captured = decode_mb_s(captured.as_bytes());
    let rust_synthetic = decode_mb_s(synthetic.as_bytes());
    eprintln!("rust: enc:1:");
    let values = enc_values();
    let rust_enc = enc_per_s(&values);
    drop(values);

    eprintln!("rust: pull-all of {pull_n} (loopback)");
    let server = shared::server_with(pull_n);
    let pulled = pull_all(&server, pull_n);

    eprintln!("node: all steps");
    let js = node(&[
        format!("--captured={}", captured_path.display()),
        format!("--synthetic={}", synthetic_path.display()),
        format!("--values={ENC_VALUES}"),
        format!("--url={}", server.base_url()),
        format!("--token={}", shared::token()),
        format!("--client-id={}", shared::CLIENT),
        format!("--app={}", shared::APP),
        format!("--collection={}", shared::COLLECTION),
        format!("--expect={pull_n}"),
        format!("--quick={}", quick()),
    ]);
    drop(server);

    let js_captured = num(&js, &["decode_captured_mb_s"]);
    let js_synthetic = num(&js, &["decode_synthetic_mb_s"]);
    row(
        &mut rows,
        "decode captured page (MB/s)",
        rust_captured,
        js_captured,
        "MB/s",
        rust_captured / js_captured,
        ">= 3×",
    );
    row(
        &mut rows,
        "decode synthetic 1 KB page (MB/s)",
        rust_synthetic,
        js_synthetic,
        "MB/s",
        rust_synthetic / js_synthetic,
        ">= 3×",
    );
    let webcrypto = num(&js, &["enc_webcrypto_per_s"]);
    let nodecrypto = num(&js, &["enc_node_crypto_per_s"]);
    row(
        &mut rows,
        "enc:1: encrypt+decrypt vs WebCrypto (values/s)",
        rust_enc,
        webcrypto,
        "values/s",
        rust_enc / webcrypto,
        ">= 100×",
    );
    row(
        &mut rows,
        "enc:1: encrypt+decrypt vs node:crypto (values/s)",
        rust_enc,
        nodecrypto,
        "values/s",
        rust_enc / nodecrypto,
        ">= 10×",
    );
    let js_cpu = num(&js, &["pull_all_cpu_s"]);
    let js_wall = num(&js, &["pull_all_wall_s"]);
    row(
        &mut rows,
        &format!("pull-all {pull_n}: client CPU (s), Node/Rust"),
        pulled.cpu,
        js_cpu,
        "s",
        js_cpu / pulled.cpu,
        ">= 3×",
    );
    row(
        &mut rows,
        &format!("pull-all {pull_n}: wall (s), Node/Rust"),
        pulled.wall,
        js_wall,
        "s",
        js_wall / pulled.wall,
        "",
    );
    let overhead = (pulled.wall / pulled.bare_wall - 1.0) * 100.0;
    row(
        &mut rows,
        &format!("pull-all {pull_n}: library vs bare request loop (s)"),
        pulled.wall,
        pulled.bare_wall,
        "s",
        overhead,
        "<= 10%",
    );
    row(
        &mut rows,
        &format!("pull-all {pull_n}: RSS growth holding the result (MiB) / Node heap growth"),
        pulled.changes_mib,
        num(&js, &["pull_all_heap_mib"]),
        "MiB",
        num(&js, &["pull_all_heap_mib"]) / pulled.changes_mib,
        "",
    );

    eprintln!("rust: fold");
    // 1M changes take a few seconds: measured in the quick run too.
    let sizes = [10_000usize, 100_000, 1_000_000];
    let mut scale = Vec::new();
    for n in sizes {
        scale.push((n, fold(n)));
    }
    if let Some((n, f)) = scale.last() {
        row(
            &mut rows,
            &format!("fold {n} changes (changes/s; goal 2M/s)"),
            f.per_s,
            2e6,
            "changes/s",
            f.per_s / 2e6,
            ">= 1×",
        );
        if let Some(m) = &f.memory {
            let mib = |b: f64| b / (1024.0 * 1024.0);
            row(
                &mut rows,
                &format!("fold {n}: peak heap while folding / folded state as JSON (MiB)"),
                mib(m.peak),
                mib(m.state),
                "MiB",
                m.peak / m.state,
                "<= 2×",
            );
            row(
                &mut rows,
                &format!("fold {n}: RSS growth while folding / folded state as JSON (MiB)"),
                mib(m.rss),
                mib(m.state),
                "MiB",
                m.rss / m.state,
                "<= 2×",
            );
        }
    }

    println!();
    println!("| step | Rust | other | ratio | goal | met |");
    println!("|---|---|---|---|---|---|");
    for r in &rows {
        let met = match goal_met(r.ratio, &r.goal) {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "",
        };
        println!(
            "| {} | {:.4} {} | {:.4} {} | {:.2} | {} | {met} |",
            r.step, r.rust, r.unit, r.js, r.unit, r.ratio, r.goal
        );
    }
    println!();
    println!(
        "| fold of | time (s) | changes/s | replica heap (MiB) | peak heap while folding (MiB) | RSS growth (MiB) | folded state as JSON (MiB) |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (n, f) in &scale {
        let (secs, per_s) = (f.secs, f.per_s);
        match &f.memory {
            Some(m) => {
                let mib = |b: f64| b / (1024.0 * 1024.0);
                println!(
                    "| {n} | {secs:.3} | {per_s:.0} | {:.2} | {:.2} | {:.1} | {:.2} |",
                    mib(m.heap),
                    mib(m.peak),
                    mib(m.rss),
                    mib(m.state)
                );
            }
            None => println!("| {n} | {secs:.3} | {per_s:.0} | n/a | n/a | n/a | n/a |"),
        }
    }
    println!();
    println!(
        "pull-all {pull_n}: Rust client CPU {:.3} s, wall {:.3} s, bare loop {:.3} s, process peak RSS {:.0} MiB (server included)",
        pulled.cpu, pulled.wall, pulled.bare_wall, pulled.peak_mib
    );
    println!("node: {}", js);
    let _ = std::fs::remove_dir_all(&tmp);
}

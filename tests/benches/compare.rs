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
mod shared;

use std::hint::black_box;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use mana_sync_core::crypto::{decrypt_value, encrypt_value, Iv, MasterKey};
use mana_sync_core::fold::Replica;
use mana_sync_core::{BlockingClient, Config, Cursor, Timestamp, TransportOptions};
use mana_sync_ureq::UreqTransport;
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

fn now() -> Timestamp {
    Timestamp::from_unix_millis(1_800_000_000_000).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn decode_mb_s(body: &[u8]) -> f64 {
    let config =
        Config::new("http://127.0.0.1:1", "t.o.k", "bench").unwrap_or_else(|e| panic!("{e}"));
    let secs = best(
        5,
        Duration::from_millis(if quick() { 100 } else { 400 }),
        || {
            black_box(common::pull_page(&config, body, now()));
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

/// A bench binary of this package (`fold_memory`, `pull_memory`): the
/// path in `env` (set by `bench/compare.sh`, which builds them), else the
/// newest one built beside this binary.
fn bench_bin(env: &str, name: &str) -> Option<PathBuf> {
    if let Some(bin) = std::env::var_os(env) {
        return Some(PathBuf::from(bin));
    }
    let me = std::env::current_exe().ok()?;
    let prefix = format!("{name}-");
    std::fs::read_dir(me.parent()?)
        .ok()?
        .filter_map(Result::ok)
        .filter(|e| {
            let file = e.file_name().to_string_lossy().into_owned();
            file.starts_with(&prefix) && !file.contains('.')
        })
        .max_by_key(|e| e.metadata().and_then(|m| m.modified()).ok())
        .map(|e| e.path())
}

fn fold_memory_bin() -> Option<PathBuf> {
    bench_bin("MANA_FOLD_MEMORY_BIN", "fold_memory")
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

/// What `pull_memory` measured for one size and way (see that bench).
struct PullMemory {
    pages: f64,
    bytes: f64,
    peak: f64,
    bare_peak: f64,
    held: f64,
    rss: f64,
    secs: f64,
    cpu: f64,
    best_secs: f64,
    best_cpu: f64,
}

/// Runs `pull_memory <n> <way>` and reads its `PULL_MEMORY {json}` line.
fn pull_memory(n: usize, way: &str) -> Option<PullMemory> {
    let Some(bin) = bench_bin("MANA_PULL_MEMORY_BIN", "pull_memory") else {
        eprintln!("pull memory: the pull_memory bench is not built (bench/compare.sh builds it)");
        return None;
    };
    let out = Command::new(&bin)
        .arg(n.to_string())
        .arg(way)
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let Some(json) = text.lines().find_map(|l| l.strip_prefix("PULL_MEMORY ")) else {
        eprintln!(
            "pull memory {n} {way}: no result ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        return None;
    };
    let v: Value = serde_json::from_str(json).ok()?;
    let get = |k: &str| v[k].as_f64();
    Some(PullMemory {
        pages: get("pages")?,
        bytes: get("bytes")?,
        peak: get("peak")?,
        bare_peak: get("bare_peak")?,
        held: get("held")?,
        rss: get("rss")?,
        secs: get("secs")?,
        cpu: get("cpu")?,
        best_secs: get("best_secs")?,
        best_cpu: get("best_cpu")?,
    })
}

fn fold(n: usize) -> Fold {
    let changes = common::fold_changes(n);
    let start = Instant::now();
    let mut replica = Replica::new();
    black_box(replica.apply_all(&changes));
    let first = start.elapsed().as_secs_f64();
    drop(replica);
    // Best of a few rounds: a second or two per size even in the quick run.
    let rounds = if quick() { 3 } else { 5 };
    let secs = best(rounds, Duration::from_millis(1), || {
        let mut replica = Replica::new();
        black_box(replica.apply_all(&changes));
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
    changes_mib: f64,
    peak_mib: f64,
    overhead: Overhead,
}

/// The library against the bare request loop of the same bytes, measured
/// in interleaved rounds (each round runs both, in alternating order).
struct Overhead {
    rounds: usize,
    pages: usize,
    bytes: usize,
    /// Medians over the rounds (s): wall and client-thread CPU.
    lib_wall: f64,
    bare_wall: f64,
    lib_cpu: f64,
    bare_cpu: f64,
    /// Medians of the per-round ratios library/bare, as % over bare.
    wall_pct: f64,
    cpu_pct: f64,
    /// Best-of wall times (s).
    lib_wall_best: f64,
    bare_wall_best: f64,
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// Wall and client-thread CPU of one call (s).
fn timed<R>(f: impl FnOnce() -> R) -> (f64, f64) {
    let (c0, t0) = (common::thread_cpu(), Instant::now());
    black_box(f());
    (
        t0.elapsed().as_secs_f64(),
        common::thread_cpu().saturating_sub(c0).as_secs_f64(),
    )
}

/// The library's pull-all (ureq client) against the bare ureq loop of the
/// same requests. First checks that both fetch the same: the same URIs
/// (the same `since` sequence) and the same body sizes; then times both in
/// `rounds` interleaved rounds, after a warm-up of each.
fn overhead(url: &str, n: usize) -> Overhead {
    let config =
        Config::new(url, shared::token(), shared::CLIENT).unwrap_or_else(|e| panic!("{e}"));
    let agent = shared::bare_agent();
    let headers = shared::library_headers(url);
    let recording = BlockingClient::new(
        config.clone(),
        shared::Recording::new(UreqTransport::new(TransportOptions::default()), true),
    );
    let out = recording
        .pull_all(shared::APP, shared::COLLECTION, &Cursor::EPOCH)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.changes.len(), n, "pulled");
    drop(out);
    let library = recording.transport().take();
    let mut bare = shared::Fetched::default();
    shared::bare_pull_all(&agent, url, &headers, false, Some(&mut bare), usize::MAX);
    assert_eq!(
        library.uris, bare.uris,
        "the bare loop must send the library's requests"
    );
    assert_eq!(
        library.bodies, bare.bodies,
        "the bare loop must read the library's bytes"
    );

    let client = mana_sync_ureq::client(config).unwrap_or_else(|e| panic!("{e}"));
    let lib = || {
        client
            .pull_all(shared::APP, shared::COLLECTION, &Cursor::EPOCH)
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let raw = || shared::bare_pull_all(&agent, url, &headers, false, None, usize::MAX);
    black_box(lib());
    black_box(raw());
    let rounds = if quick() { 15 } else { 21 };
    let (mut lw, mut bw, mut lc, mut bc, mut rw, mut rc) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    for round in 0..rounds {
        let ((w1, c1), (w2, c2)) = if round % 2 == 0 {
            let a = timed(lib);
            (a, timed(raw))
        } else {
            let b = timed(raw);
            (timed(lib), b)
        };
        lw.push(w1);
        lc.push(c1);
        bw.push(w2);
        bc.push(c2);
        rw.push(w1 / w2);
        rc.push(c1 / c2);
    }
    let lib_wall_best = lw.iter().copied().fold(f64::INFINITY, f64::min);
    let bare_wall_best = bw.iter().copied().fold(f64::INFINITY, f64::min);
    Overhead {
        rounds,
        pages: library.pages,
        bytes: library.total,
        lib_wall: median(&mut lw),
        bare_wall: median(&mut bw),
        lib_cpu: median(&mut lc),
        bare_cpu: median(&mut bc),
        wall_pct: (median(&mut rw) - 1.0) * 100.0,
        cpu_pct: (median(&mut rc) - 1.0) * 100.0,
        lib_wall_best,
        bare_wall_best,
    }
}

/// Pull-all of the server's collection through the ureq client: CPU time of
/// the client's thread (the server runs on its own threads), wall time, and
/// the library's overhead over a bare request loop of the same bytes.
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
    let rss0 = common::proc_status_kib("VmRSS:");
    let out = run();
    assert_eq!(out.changes.len(), n, "pulled");
    let rss1 = common::proc_status_kib("VmRSS:");
    drop(out);
    let rounds = if quick() { 2 } else { 5 };
    let (mut cpu, mut wall) = (f64::INFINITY, f64::INFINITY);
    for _ in 0..rounds {
        let (w, c) = timed(run);
        wall = wall.min(w);
        cpu = cpu.min(c);
    }
    PullAll {
        cpu,
        wall,
        changes_mib: rss1.saturating_sub(rss0) as f64 / 1024.0,
        peak_mib: common::proc_status_kib("VmHWM:") as f64 / 1024.0,
        overhead: overhead(&url, n),
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
    let o = &pulled.overhead;
    row(
        &mut rows,
        &format!(
            "pull-all {pull_n}: library vs bare ureq loop of the same requests, wall (s, median of {} interleaved rounds; ratio: median per-round overhead %)",
            o.rounds
        ),
        o.lib_wall,
        o.bare_wall,
        "s",
        o.wall_pct,
        "<= 10%",
    );
    row(
        &mut rows,
        &format!(
            "pull-all {pull_n}: library vs bare ureq loop, client-thread CPU (s, median of {} rounds; ratio: median overhead %)",
            o.rounds
        ),
        o.lib_cpu,
        o.bare_cpu,
        "s",
        o.cpu_pct,
        "",
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

    // Pull of a whole collection, each size and way in a process of its
    // own (pull_memory). 1M changes take long to seed and pull: skipped in
    // the quick run.
    let pull_sizes: &[usize] = if quick() {
        &[10_000, 100_000]
    } else {
        &[10_000, 100_000, 1_000_000]
    };
    let mut pulls = Vec::new();
    for &n in pull_sizes {
        for way in ["all", "into"] {
            eprintln!("rust: pull_memory {n} {way}");
            pulls.push((n, way, pull_memory(n, way)));
        }
    }
    for (n, way, m) in &pulls {
        let Some(m) = m else { continue };
        if *n != 100_000 {
            continue;
        }
        let mib = |b: f64| b / (1024.0 * 1024.0);
        let (what, goal) = match *way {
            "all" => ("pull_all (result held lazily)", "<= 2×"),
            _ => ("pull_into a Replica", "<= 1.5×"),
        };
        row(
            &mut rows,
            &format!(
                "{what} {n}: peak heap during the pull / the pages' bodies as the server sent them (MiB)"
            ),
            mib(m.peak),
            mib(m.bytes),
            "MiB",
            m.peak / m.bytes,
            goal,
        );
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
        "Pull of a whole collection from the loopback server (ureq client), each run in a process of its own (pull_memory). \
         Reference: the pages' bodies as the server sent them (one change re-read at each page boundary included). \
         Peak heap: the most held at once during the pull, over the heap held before it (server seeded, connection open); \
         the loopback server runs in the same process, so its page in flight (rows as JSON values and the body) is inside the peak. \
         Bare loop peak: the same requests through the bare loop, each body dropped once read (the server's page in flight and one body: \
         the part of the peak that is not the client's). \
         Time of the measured pull (under the counting allocator; best of 4 for up to 100k); client CPU: the pulling thread's."
    );
    println!(
        "| pull of | way | pages | bodies (MiB) | time (s) | client CPU (s) | changes/s | client CPU per change (µs) | peak heap (MiB) | peak / bodies | held after (MiB) | held / bodies | RSS growth (MiB) | bare loop peak (MiB) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for (n, way, m) in &pulls {
        let way = match *way {
            "all" => "pull_all",
            _ => "pull_into",
        };
        match m {
            Some(m) => {
                let mib = |b: f64| b / (1024.0 * 1024.0);
                println!(
                    "| {n} | {way} | {:.0} | {:.2} | {:.3} | {:.3} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.1} | {:.2} |",
                    m.pages,
                    mib(m.bytes),
                    m.best_secs,
                    m.best_cpu,
                    *n as f64 / m.best_secs,
                    m.best_cpu * 1e6 / *n as f64,
                    mib(m.peak),
                    m.peak / m.bytes,
                    mib(m.held),
                    m.held / m.bytes,
                    mib(m.rss),
                    mib(m.bare_peak)
                );
            }
            None => {
                println!("| {n} | {way} | n/a | n/a | n/a | n/a | n/a | n/a | n/a | n/a | n/a |")
            }
        }
    }
    println!(
        "(The wall time includes the loopback server, in the same process, which builds every page \
         (it finds a page's start by binary search); the client's own cost is its CPU column.)"
    );
    if quick() {
        println!("(quick run: the pull of 1M changes is skipped; the full run measures it)");
    }
    for (n, way, m) in &pulls {
        if let Some(m) = m {
            println!(
                "RESULT {}",
                json!({"step": format!("pull_{way} {n}"), "pages": m.pages, "bytes": m.bytes,
                    "secs": m.best_secs, "cpu": m.best_cpu, "first_secs": m.secs, "first_cpu": m.cpu,
                    "peak": m.peak, "bare_peak": m.bare_peak, "held": m.held, "rss": m.rss, "peak_over_bytes": m.peak / m.bytes})
            );
        }
    }
    println!();
    println!(
        "pull-all {pull_n}: Rust client CPU {:.3} s, wall {:.3} s (best of a few), process peak RSS {:.0} MiB (server included)",
        pulled.cpu, pulled.wall, pulled.peak_mib
    );
    println!(
        "library overhead: both fetch the same {} requests (same URIs, since = 1 us before each page's syncedUntil; same headers; same agent settings) and {} body bytes (checked); {} interleaved rounds: wall median {:.4} s vs {:.4} s ({:+.1}%), best {:.4} s vs {:.4} s ({:+.1}%); client-thread CPU median {:.4} s vs {:.4} s ({:+.1}%)",
        o.pages,
        o.bytes,
        o.rounds,
        o.lib_wall,
        o.bare_wall,
        o.wall_pct,
        o.lib_wall_best,
        o.bare_wall_best,
        (o.lib_wall_best / o.bare_wall_best - 1.0) * 100.0,
        o.lib_cpu,
        o.bare_cpu,
        o.cpu_pct
    );
    println!("node: {}", js);
    let _ = std::fs::remove_dir_all(&tmp);
}

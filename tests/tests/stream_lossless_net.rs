//! The live stream loses nothing over real HTTP, with both transports: a
//! loopback server on the system clock with every race switch on (equal
//! times, late commits, failed initial queries, dropped notifications), 20%
//! of requests failing with 502/503, and a watcher never cut, one cut at
//! random, one cut every few bytes. Each ends equal to a fresh full fold
//! and to an independent model of what was written, with no change
//! delivered twice.
//!
//! The outcome does not depend on timing: the intervals are short so that
//! the tests are quick, and each watcher runs until it has converged (a
//! minute at most, far more than it needs).

#![allow(clippy::unwrap_used)]

mod lossless;

use std::sync::mpsc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use lossless::{folded, workload, Model, Tally};
use mana_sync_core::fold::Replica;
use mana_sync_core::ops::StreamEvent;
use mana_sync_core::{
    AsyncClient, BlockingClient, Config, Cursor, SystemClock, Timestamp, TransportOptions,
};
use mana_sync_testkit::{token_for, Fault, FaultPlan, LoopbackServer, MemoryServer, Races};

type Folded =
    std::collections::BTreeMap<String, std::collections::BTreeMap<String, serde_json::Value>>;

/// How far back the watchers read again: more than the late commits' lag.
const OVERLAP: Duration = Duration::from_millis(400);

fn server(cuts: &Cuts) -> LoopbackServer {
    let server = MemoryServer::with_clock(SystemClock).with_heartbeat(Duration::from_millis(50));
    server.set_races(
        Races::none()
            .equal_times(3)
            .late_commits(5, Duration::from_millis(150))
            .failed_initial_queries(3)
            .dropped_notifications(4),
    );
    match cuts {
        Cuts::Never => {}
        Cuts::AtRandom => server.cut_streams_randomly(Some((5, 6))),
        Cuts::EveryFewBytes => server.cut_streams_after_bytes(Some(400)),
    }
    LoopbackServer::start(server).unwrap()
}

enum Cuts {
    Never,
    AtRandom,
    EveryFewBytes,
}

fn config(base: &str, client: &str) -> Config {
    Config::new(base, token_for("u-1"), client).unwrap()
}

fn options() -> TransportOptions {
    TransportOptions::default()
        .idle_timeout(Duration::from_secs(1))
        .head_timeout(Duration::from_secs(10))
}

fn faults(server: &LoopbackServer, on: bool) {
    server.server().set_fault_plan(on.then(|| {
        FaultPlan::seeded(17)
            .rate(0.2)
            .only([Fault::BadGatewayHtml, Fault::Unavailable])
    }));
}

/// A replica that re-reads `OVERLAP` back.
fn replica() -> Replica {
    Replica::new().with_overlap(OVERLAP)
}

/// What the three writers push, round by round, with the model of it.
fn rounds() -> (Vec<Vec<Vec<mana_sync_core::Change>>>, Model) {
    let mut model = Model::default();
    let base = Timestamp::now().unix_millis();
    let rounds = (0..20)
        .map(|round| {
            (0..3)
                .map(|w| workload(w, round, &mut model, base))
                .collect()
        })
        .collect();
    (rounds, model)
}

/// Checks a watcher's end: its replica is the truth, the truth is the
/// model, and nothing came twice.
fn check(truth: &Folded, model: &Model, replica: &Replica, tally: &Tally) {
    assert_eq!(*truth, model.folded(), "the server holds what was written");
    assert_eq!(folded(replica), *truth, "the watcher converged");
    assert_eq!(tally.repeats, 0, "a change was delivered twice");
}

fn blocking(cuts: Cuts) {
    let server = server(&cuts);
    let base = server.base_url();
    let transport = mana_sync_ureq::UreqTransport::new(options());
    let client = |id: &str| {
        BlockingClient::new(config(&base, id), transport.clone())
            .with_stream_recheck(Duration::from_secs(1))
    };
    let (rounds, model) = rounds();
    let (truth_tx, truth_rx) = mpsc::channel::<Folded>();
    let watcher = client("watcher");
    let watching = std::thread::spawn(move || {
        let mut replica = replica();
        let mut tally = Tally::default();
        let mut events = watcher.stream_from("todo", &["tasks"], &replica).unwrap();
        let mut truth = None;
        let deadline = Instant::now() + Duration::from_secs(90);
        while Instant::now() < deadline {
            match events.next().unwrap().unwrap() {
                StreamEvent::Changes(batch) => {
                    batch.apply_to(&mut replica);
                    tally.batch(&batch);
                }
                event => tally.take(event),
            }
            truth = truth.or_else(|| truth_rx.try_recv().ok());
            if truth.as_ref().is_some_and(|t| folded(&replica) == *t) {
                break;
            }
        }
        (replica, tally)
    });
    faults(&server, true);
    let writers: Vec<_> = (0..3).map(|w| client(&format!("writer-{w}"))).collect();
    for round in &rounds {
        for (writer, changes) in writers.iter().zip(round) {
            writer.push("todo", changes, &Cursor::EPOCH).unwrap();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    faults(&server, false);
    // Every late row has committed after its lag.
    std::thread::sleep(Duration::from_millis(300));
    let mut full = Replica::new();
    client("auditor")
        .pull_into("todo", "tasks", &mut full)
        .unwrap();
    let truth = folded(&full);
    truth_tx.send(truth.clone()).unwrap();
    let (replica, tally) = watching.join().unwrap();
    check(&truth, &model, &replica, &tally);
}

async fn nonblocking(cuts: Cuts) {
    let server = server(&cuts);
    let base = server.base_url();
    let transport = mana_sync_hyper::HyperTransport::new(options()).unwrap();
    let client = |id: &str| {
        AsyncClient::new(config(&base, id), transport.clone())
            .with_stream_recheck(Duration::from_secs(1))
    };
    let (rounds, model) = rounds();
    let (truth_tx, mut truth_rx) = tokio::sync::oneshot::channel::<Folded>();
    let watcher = client("watcher");
    let watching = tokio::spawn(async move {
        let mut replica = replica();
        let mut tally = Tally::default();
        let mut events = Box::pin(watcher.stream_from("todo", &["tasks"], &replica).unwrap());
        let mut truth = None;
        let deadline = Instant::now() + Duration::from_secs(90);
        while Instant::now() < deadline {
            match events.next().await.unwrap().unwrap() {
                StreamEvent::Changes(batch) => {
                    batch.apply_to(&mut replica);
                    tally.batch(&batch);
                }
                event => tally.take(event),
            }
            truth = truth.or_else(|| truth_rx.try_recv().ok());
            if truth.as_ref().is_some_and(|t| folded(&replica) == *t) {
                break;
            }
        }
        (replica, tally)
    });
    faults(&server, true);
    let writers: Vec<_> = (0..3).map(|w| client(&format!("writer-{w}"))).collect();
    for round in &rounds {
        for (writer, changes) in writers.iter().zip(round) {
            writer.push("todo", changes, &Cursor::EPOCH).await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    faults(&server, false);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut full = Replica::new();
    client("auditor")
        .pull_into("todo", "tasks", &mut full)
        .await
        .unwrap();
    let truth = folded(&full);
    truth_tx.send(truth.clone()).unwrap();
    let (replica, tally) = watching.await.unwrap();
    check(&truth, &model, &replica, &tally);
}

#[test]
fn over_ureq_never_cut() {
    blocking(Cuts::Never);
}

#[test]
fn over_ureq_cut_at_random() {
    blocking(Cuts::AtRandom);
}

#[test]
fn over_ureq_cut_every_few_bytes() {
    blocking(Cuts::EveryFewBytes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_hyper_never_cut() {
    nonblocking(Cuts::Never).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_hyper_cut_at_random() {
    nonblocking(Cuts::AtRandom).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_hyper_cut_every_few_bytes() {
    nonblocking(Cuts::EveryFewBytes).await;
}

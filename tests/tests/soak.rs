//! Soak: three clients (ureq and hyper over the loopback server, one in
//! process on the same server) push and pull thousands of changes between
//! them while a seeded [`FaultPlan`] faults 20 % of all requests (closed
//! connections, pushes stored and unanswered or failed part-way, cut bodies,
//! stalls past the timeout, 429, a proxy's HTML 502). The clients retry as
//! their policy says; an error that survives the retries is handled as an
//! app would (push the batch again, pull again: the fold absorbs
//! duplicates). At the end every client's folded records equal the truth
//! computed from what each meant to write.
//!
//! `cargo test --test soak` runs a small size; `cargo test -p
//! mana-sync-testkit --test soak -- --ignored soak` the full one (10,000
//! changes); both print their numbers.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use http::{Request, Response};
use mana_sync_core::fold::{FoldReport, Replica};
use mana_sync_core::ops::PushOutcome;
use mana_sync_core::retry::JitterRng;
use mana_sync_core::{
    AsyncClient, AsyncTransport, BlockingClient, BlockingTransport, Change, Config, Cursor, Error,
    RetryPolicy, Stamp, Timestamp, TransportError, TransportOptions,
};
use mana_sync_testkit::{
    start_time, token_for, FaultPlan, InProcess, LoopbackServer, ManualClock, MemoryServer,
};
use serde_json::{json, Value};

const USER: &str = "u-soak";
const APP: &str = "soak";
const TABLE: &str = "items";
const CLIENTS: usize = 3;
const FIELDS: [&str; 3] = ["title", "n", "done"];

/// How big a run is.
#[derive(Clone, Copy, Debug)]
struct Size {
    /// Changes all clients mean to write together.
    changes: usize,
    /// Changes per push.
    batch: usize,
    /// A pull after every this many pushes.
    pull_every: usize,
    /// Distinct records written.
    records: usize,
}

/// A transport that counts what its client sends and how often it waits:
/// every retry is preceded by a wait, and nothing else waits here.
#[derive(Clone, Debug)]
struct Counted<T> {
    inner: T,
    sends: Arc<AtomicUsize>,
    retries: Arc<AtomicUsize>,
}

impl<T> Counted<T> {
    fn new(inner: T) -> Counted<T> {
        Counted {
            inner,
            sends: Arc::default(),
            retries: Arc::default(),
        }
    }
}

impl<T: BlockingTransport> BlockingTransport for Counted<T> {
    type Body = T::Body;

    fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError> {
        self.sends.fetch_add(1, Ordering::SeqCst);
        self.inner.send(request)
    }

    fn open(&self, request: Request<Vec<u8>>) -> Result<Response<T::Body>, TransportError> {
        self.inner.open(request)
    }

    fn sleep(&self, duration: Duration) {
        self.retries.fetch_add(1, Ordering::SeqCst);
        self.inner.sleep(duration);
    }
}

impl<T: AsyncTransport> AsyncTransport for Counted<T> {
    type Body = T::Body;

    fn send(
        &self,
        request: Request<Vec<u8>>,
    ) -> impl std::future::Future<Output = Result<Response<Vec<u8>>, TransportError>> + Send {
        self.sends.fetch_add(1, Ordering::SeqCst);
        self.inner.send(request)
    }

    fn open(
        &self,
        request: Request<Vec<u8>>,
    ) -> impl std::future::Future<Output = Result<Response<T::Body>, TransportError>> + Send {
        self.inner.open(request)
    }

    fn sleep(&self, duration: Duration) -> impl std::future::Future<Output = ()> + Send {
        self.retries.fetch_add(1, Ordering::SeqCst);
        self.inner.sleep(duration)
    }
}

/// One client, whatever its transport.
trait Side {
    fn push(&mut self, batch: &[Change], since: &Cursor) -> Result<PushOutcome, Error>;
    fn pull_into(&mut self, replica: &mut Replica) -> Result<FoldReport, Error>;
    /// Requests sent and retries made.
    fn counts(&self) -> (usize, usize);
}

struct Blocking<T: BlockingTransport>(BlockingClient<Counted<T>>, Counted<T>);

impl<T: BlockingTransport> Side for Blocking<T> {
    fn push(&mut self, batch: &[Change], since: &Cursor) -> Result<PushOutcome, Error> {
        self.0.push(APP, batch, since)
    }
    fn pull_into(&mut self, replica: &mut Replica) -> Result<FoldReport, Error> {
        self.0.pull_into(APP, TABLE, replica)
    }
    fn counts(&self) -> (usize, usize) {
        (
            self.1.sends.load(Ordering::SeqCst),
            self.1.retries.load(Ordering::SeqCst),
        )
    }
}

struct Hyper {
    client: AsyncClient<Counted<mana_sync_hyper::HyperTransport>>,
    transport: Counted<mana_sync_hyper::HyperTransport>,
    runtime: tokio::runtime::Runtime,
}

impl Side for Hyper {
    fn push(&mut self, batch: &[Change], since: &Cursor) -> Result<PushOutcome, Error> {
        self.runtime.block_on(self.client.push(APP, batch, since))
    }
    fn pull_into(&mut self, replica: &mut Replica) -> Result<FoldReport, Error> {
        self.runtime
            .block_on(self.client.pull_into(APP, TABLE, replica))
    }
    fn counts(&self) -> (usize, usize) {
        (
            self.transport.sends.load(Ordering::SeqCst),
            self.transport.retries.load(Ordering::SeqCst),
        )
    }
}

/// Tiny waits: the soak is about what is lost, not time. Four attempts get
/// almost every operation through a 20 % fault rate (1 in 625 fails four
/// times), and leave the app's own handling of what survives exercised.
fn policy() -> RetryPolicy {
    RetryPolicy::default()
        .max_attempts(4)
        .base(Duration::from_millis(1))
        .cap(Duration::from_millis(4))
        .max_retry_after(Duration::from_millis(2))
}

/// A total timeout short enough that a stall costs little; a request that
/// runs out of it on a loaded machine is retried like a stalled one.
fn network_options() -> TransportOptions {
    TransportOptions::default().total_timeout(Duration::from_millis(400))
}

fn config(base: &str, client: usize) -> Config {
    Config::new(base, token_for(USER), &format!("soak-{client}")).unwrap()
}

/// One write a client means to make.
#[derive(Clone, Debug)]
struct Write {
    record: String,
    /// `None`: a soft delete.
    field: Option<&'static str>,
    value: Value,
    at: Timestamp,
}

/// What client `c` means to write: its share of the changes, over all the
/// records, every stamp unique across clients (so the truth has no ties).
fn intended(c: usize, size: Size) -> Vec<Write> {
    let share = size.changes / CLIENTS + usize::from(c < size.changes % CLIENTS);
    let base = start_time().unix_millis();
    (0..share)
        .map(|j| {
            let record = format!("r-{:04}", (j * 7 + c * 13) % size.records);
            let ms = i64::try_from(j * CLIENTS + c).unwrap();
            let at = Timestamp::from_unix_millis(base + ms).unwrap();
            if j % 10 == 9 {
                Write {
                    record,
                    field: None,
                    value: Value::String(Stamp::At(at).to_string()),
                    at,
                }
            } else {
                let field = FIELDS[(j + c) % FIELDS.len()];
                let value = match field {
                    "title" => json!(format!("c{c}-{j}")),
                    "n" => json!(j),
                    _ => json!(j % 2 == 0),
                };
                Write {
                    record,
                    field: Some(field),
                    value,
                    at,
                }
            }
        })
        .collect()
}

fn change(w: &Write) -> Change {
    match w.field {
        Some(field) => Change::update(TABLE, &w.record).with_field(field, w.value.clone(), w.at),
        None => Change::delete(TABLE, &w.record, w.at),
    }
}

/// Record id -> field -> (value, stamp).
type Folded = BTreeMap<String, BTreeMap<String, (Value, Stamp)>>;

/// The truth: per record and field, the write with the latest stamp; a
/// record exists once any field of it was written (a soft delete alone
/// makes none).
fn truth(writes: &[Vec<Write>]) -> Folded {
    let mut out: Folded = BTreeMap::new();
    let all = || writes.iter().flatten();
    for w in all().filter(|w| w.field.is_some()) {
        out.entry(w.record.clone()).or_default();
    }
    for w in all() {
        let Some(record) = out.get_mut(&w.record) else {
            continue;
        };
        let name = w.field.unwrap_or("deletedAt").to_owned();
        let newer = record
            .get(&name)
            .is_none_or(|(_, at)| Stamp::At(w.at) > *at);
        if newer {
            record.insert(name, (w.value.clone(), Stamp::At(w.at)));
        }
    }
    out
}

fn folded(replica: &Replica) -> Folded {
    replica
        .all_records(TABLE)
        .map(|r| {
            let fields = r
                .fields()
                .map(|(k, f)| (k.to_owned(), (f.value().into_owned(), f.at())))
                .collect();
            (r.id.clone(), fields)
        })
        .collect()
}

/// What one client went through.
#[derive(Debug, Default)]
struct Tally {
    name: &'static str,
    sends: usize,
    retries: usize,
    /// Errors that survived the retries, by kind.
    surfaced: BTreeMap<String, usize>,
    pushes: usize,
    pulls: usize,
}

fn surfaced(tally: &mut Tally, e: &Error) {
    assert!(e.is_transient(), "{}: a permanent error: {e:?}", tally.name);
    let kind = match e {
        Error::PartialPush { .. } => "partial push",
        Error::Timeout { .. } => "timeout",
        Error::Transport(_) => "transport",
        _ => "status",
    };
    *tally.surfaced.entry(kind.to_owned()).or_default() += 1;
}

/// An app's loop: push each batch until it is through (a failed push is
/// pushed again whole), pull now and then, and at the end, once every
/// client is through, pull until it succeeds.
fn run_side(
    side: &mut dyn Side,
    name: &'static str,
    writes: &[Write],
    size: Size,
    done: &Barrier,
) -> (Replica, Tally) {
    const TRIES: usize = 100;
    let mut tally = Tally {
        name,
        ..Tally::default()
    };
    let mut replica = Replica::new();
    let mut since = Cursor::EPOCH;
    let changes: Vec<Change> = writes.iter().map(change).collect();
    let pull = |side: &mut dyn Side, replica: &mut Replica, tally: &mut Tally| {
        for _ in 0..TRIES {
            tally.pulls += 1;
            match side.pull_into(replica) {
                Ok(_) => return,
                Err(e) => surfaced(tally, &e),
            }
        }
        panic!("{name}: no pull went through in {TRIES} tries");
    };
    for (k, batch) in changes.chunks(size.batch).enumerate() {
        let mut through = false;
        for _ in 0..TRIES {
            tally.pushes += 1;
            match side.push(batch, &since) {
                Ok(outcome) => {
                    since = outcome.synced_until;
                    through = true;
                    break;
                }
                Err(e) => surfaced(&mut tally, &e),
            }
        }
        assert!(through, "{name}: batch {k} never went through");
        if k % size.pull_every == 0 {
            pull(side, &mut replica, &mut tally);
        }
    }
    done.wait();
    pull(side, &mut replica, &mut tally);
    (tally.sends, tally.retries) = side.counts();
    (replica, tally)
}

fn soak(size: Size, seed: u64) {
    let started = Instant::now();
    let server = Arc::new(MemoryServer::with_clock(mana_sync_core::SystemClock));
    let loopback = LoopbackServer::start(server.clone())
        .unwrap()
        .with_stall(Duration::from_secs(30));
    let base = loopback.base_url();
    let writes: Vec<Vec<Write>> = (0..CLIENTS).map(|c| intended(c, size)).collect();
    let want = truth(&writes);
    server.set_fault_plan(Some(FaultPlan::seeded(seed).rate(0.2)));
    let done = Arc::new(Barrier::new(CLIENTS));

    let ureq = {
        let (writes, done, base) = (writes[0].clone(), done.clone(), base.clone());
        std::thread::spawn(move || {
            let transport = Counted::new(mana_sync_ureq::UreqTransport::new(network_options()));
            let client = BlockingClient::new(config(&base, 0), transport.clone())
                .with_retry(policy())
                .with_jitter(JitterRng::seeded(seed));
            run_side(
                &mut Blocking(client, transport),
                "ureq",
                &writes,
                size,
                &done,
            )
        })
    };
    let hyper = {
        let (writes, done, base) = (writes[1].clone(), done.clone(), base.clone());
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let transport =
                Counted::new(mana_sync_hyper::HyperTransport::new(network_options()).unwrap());
            let client = AsyncClient::new(config(&base, 1), transport.clone())
                .with_retry(policy())
                .with_jitter(JitterRng::seeded(seed + 1));
            let mut side = Hyper {
                client,
                transport,
                runtime,
            };
            run_side(&mut side, "hyper", &writes, size, &done)
        })
    };
    let in_process = {
        let (writes, done, server) = (writes[2].clone(), done.clone(), server.clone());
        std::thread::spawn(move || {
            let clock = ManualClock::default();
            let transport = Counted::new(InProcess::new(server, clock.clone()));
            let client = BlockingClient::new(config("http://mana.test", 2), transport.clone())
                .with_clock(clock)
                .with_retry(policy())
                .with_jitter(JitterRng::seeded(seed + 2));
            run_side(
                &mut Blocking(client, transport),
                "in process",
                &writes,
                size,
                &done,
            )
        })
    };
    let results: Vec<(Replica, Tally)> = [ureq, hyper, in_process]
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect();
    server.set_fault_plan(None);
    let elapsed = started.elapsed();

    let injected = server.faults_injected();
    let mut by_kind: BTreeMap<&str, usize> = BTreeMap::new();
    for f in &injected {
        *by_kind.entry(f.name()).or_default() += 1;
    }
    let requests = server.request_count();
    println!(
        "soak: {} changes ({} per push) by {CLIENTS} clients over {} records in {elapsed:.1?}",
        size.changes, size.batch, size.records
    );
    println!(
        "soak: {requests} requests, {} faulted ({:.1} %): {by_kind:?}; {} changes stored",
        injected.len(),
        100.0 * injected.len() as f64 / requests.max(1) as f64,
        server.stored_count(USER)
    );
    for (_, t) in &results {
        println!(
            "soak: {:>10}: {} requests, {} retries, {} pushes and {} pulls made by the app, \
             errors that survived the retries: {:?}",
            t.name, t.sends, t.retries, t.pushes, t.pulls, t.surfaced
        );
    }

    assert!(!want.is_empty());
    for (replica, tally) in &results {
        let got = folded(replica);
        if got != want {
            let missing: Vec<&String> = want
                .keys()
                .filter(|k| got.get(*k) != want.get(*k))
                .collect();
            panic!(
                "{}: {} of {} records differ from the truth, e.g. {:?}: got {:?}, want {:?}",
                tally.name,
                missing.len(),
                want.len(),
                missing.first(),
                missing.first().and_then(|k| got.get(*k)),
                missing.first().and_then(|k| want.get(*k)),
            );
        }
    }
    assert!(!injected.is_empty(), "the plan faulted nothing");
    let retries: usize = results.iter().map(|(_, t)| t.retries).sum();
    assert!(retries > 0, "faults, but no retries");
    assert!(
        server.stored_count(USER) >= size.changes,
        "stored {} of {}",
        server.stored_count(USER),
        size.changes
    );
    drop(loopback);
}

#[test]
fn soak_small() {
    soak(
        Size {
            changes: 1500,
            batch: 10,
            pull_every: 2,
            records: 60,
        },
        20_260_101,
    );
}

#[test]
#[ignore = "the full size: cargo test -p mana-sync-testkit --test soak -- --ignored soak"]
fn soak_full() {
    soak(
        Size {
            changes: 10_000,
            batch: 25,
            pull_every: 10,
            records: 500,
        },
        7,
    );
}

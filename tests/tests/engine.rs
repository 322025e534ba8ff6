//! The offline-first engine, driven sans-IO against the in-memory server
//! with a fake clock: crash safety enumerated, liveness under faults,
//! refusals isolated, tokens, payment, convergence under races. Nothing
//! here depends on timing: the clock moves only when the engine says what
//! it waits for.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mana_sync_core::engine::{
    ChangeSet, Commit, ConflictEntry, DeadLetter, Engine, EngineError, EngineSettings, Instruction,
    MemoryStore, OutboxEntry, Source, Store, StoreError,
};
use mana_sync_core::fold::{Record, Replica, Slot};
use mana_sync_core::ops::PullAll;
use mana_sync_core::ops::StreamEvent;
use mana_sync_core::retry::JitterRng;
use mana_sync_core::{
    BlockingClient, BlockingTransport, Change, Config, Cursor, Error, Operation, Step, Timestamp,
    Token, TransportError,
};
use mana_sync_testkit::{
    token_for, token_with_claims, FaultPlan, InProcess, ManualClock, MemoryServer, Races,
};
use serde_json::json;

const USER: &str = "user-1";
const APP: &str = "todo";
const TABLES: [&str; 2] = ["tasks", "tags"];

/// The network as a test sees it: the in-process transport, a switch that
/// takes the server down, and a filter that refuses pushes holding a
/// marker with 400 (what the server does with a change it cannot take).
struct Net {
    transport: InProcess,
    down: bool,
    refuse: Option<&'static str>,
}

impl Net {
    fn new(server: Arc<MemoryServer>, clock: ManualClock) -> Net {
        Net {
            transport: InProcess::new(server, clock),
            down: false,
            refuse: None,
        }
    }

    fn server(&self) -> &Arc<MemoryServer> {
        self.transport.server()
    }

    fn clock(&self) -> &ManualClock {
        self.transport.clock()
    }

    fn now(&self) -> Timestamp {
        self.clock().now()
    }

    fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        if self.down {
            return Err(TransportError::message("connection refused"));
        }
        if let Some(marker) = self.refuse {
            if request.method() == http::Method::POST
                && String::from_utf8_lossy(request.body()).contains(marker)
            {
                return Ok(http::Response::builder()
                    .status(400)
                    .body(format!("invalid change: {marker} is not allowed").into_bytes())
                    .unwrap_or_default());
            }
        }
        self.transport.send(request)
    }
}

/// Runs the engine until it has nothing to do before `deadline`, moving
/// the clock to each instant it waits for, then to the deadline. Returns
/// how many requests it sent.
fn settle<S: Store>(engine: &mut Engine<S>, net: &Net, deadline: Timestamp) -> usize {
    let mut sent = 0;
    for _ in 0..100_000 {
        let now = net.now();
        match engine.poll(now) {
            Instruction::Send { request, .. } => {
                sent += 1;
                let answer = net.send(request);
                engine.on_response(net.now(), answer);
            }
            Instruction::NeedToken => engine.on_token(fresh_token(), now),
            Instruction::Wait { until: Some(t) } if t <= deadline => {
                if t > now {
                    net.clock().set(t);
                }
            }
            Instruction::Wait { .. } => {
                if deadline > now {
                    net.clock().set(deadline);
                }
                return sent;
            }
        }
    }
    panic!("the engine never settled");
}

fn fresh_token() -> Token {
    Token::new(token_for(USER)).unwrap_or_else(|_| unreachable!())
}

fn config(client_id: &str) -> Config {
    Config::new("http://sync.test", token_for(USER), client_id).unwrap_or_else(|e| panic!("{e}"))
}

fn settings() -> EngineSettings {
    EngineSettings::new(APP, &TABLES).jitter(JitterRng::seeded(7))
}

fn world() -> Net {
    let clock = ManualClock::default();
    // A quiet stream's read answers with a heartbeat and moves the clock by
    // its interval: a short one keeps the sessions' timelines.
    let server = MemoryServer::with_clock(clock.clone()).with_heartbeat(Duration::from_millis(1));
    Net::new(Arc::new(server), clock)
}

/// Runs the engine's live stream over the in-process transport, handing
/// each event to the engine, until the stream is quiet (its first
/// heartbeat) or `done` holds. Returns the batches of changes delivered
/// (`None`: the engine would not go live).
fn run_live<S: Store>(
    engine: &mut Engine<S>,
    net: &Net,
    done: impl Fn(&mut Engine<S>) -> bool,
) -> Option<usize> {
    let op = engine.live_stream().ok().flatten()?;
    let client = BlockingClient::new(engine.config().clone(), &net.transport)
        .with_clock(net.clock().clone());
    let mut batches = 0;
    for (n, event) in client.run_stream(op).enumerate() {
        assert!(n < 100, "the stream never went quiet");
        match event {
            Ok(event) => {
                engine.on_stream_event(&event, net.now());
                match event {
                    StreamEvent::Changes(batch) if !batch.changes.is_empty() => batches += 1,
                    StreamEvent::Heartbeat => return Some(batches),
                    _ => {}
                }
                if done(engine) {
                    return Some(batches);
                }
            }
            Err(e) => panic!("the stream ended: {e}"),
        }
    }
    Some(batches)
}

fn shown(engine: &mut Engine<impl Store>, table: &str, id: &str) -> Option<serde_json::Value> {
    engine
        .record(table, id)
        .ok()
        .flatten()
        .and_then(|r| r.get("title").map(|v| v.into_owned()))
}

fn after(t: Timestamp, d: Duration) -> Timestamp {
    t.checked_add(d).unwrap_or(t)
}

/// Every table of the app as a fresh reader folds the server's whole log.
fn server_fold(net: &Net) -> Replica {
    let reader = config("fresh-reader");
    let mut replica = Replica::new();
    for table in TABLES {
        let mut op =
            PullAll::new(&reader, APP, table, &Cursor::EPOCH).unwrap_or_else(|e| panic!("{e}"));
        let outcome = loop {
            match op.step(net.now()) {
                Step::Send(request) => op.on_response(net.now(), Ok(net.server().handle(request))),
                Step::Wait(_) => unreachable!(),
                Step::Done(result) => break result.unwrap_or_else(|e| panic!("{e}")),
            }
        };
        outcome.apply_to(&mut replica, table, net.now());
    }
    replica
}

/// Every record of the app in a store.
fn store_records<S: Store>(store: &mut S) -> BTreeMap<(String, String), Record> {
    let mut out = BTreeMap::new();
    for table in TABLES {
        for record in store.records(table).unwrap_or_else(|e| panic!("{e}")) {
            out.insert((table.to_owned(), record.id.clone()), record);
        }
    }
    out
}

fn replica_records(replica: &Replica) -> BTreeMap<(String, String), Record> {
    let mut out = BTreeMap::new();
    for table in TABLES {
        for record in replica.all_records(table) {
            out.insert((table.to_owned(), record.id.clone()), record.clone());
        }
    }
    out
}

/// The values of records (what an app sees), without stamps' origins.
fn values(
    records: &BTreeMap<(String, String), Record>,
) -> BTreeMap<(String, String), serde_json::Map<String, serde_json::Value>> {
    records
        .iter()
        .map(|(k, r)| (k.clone(), r.to_json()))
        .collect()
}

fn title(table: &str, id: &str, value: &str, at: Timestamp) -> Change {
    Change::update(table, id).with_field("title", value, at)
}

#[test]
fn a_write_is_local_at_once_pushed_after_the_debounce_and_leaves_the_outbox_when_acknowledged() {
    let net = world();
    let start = net.now();
    let mut engine = Engine::open(MemoryStore::new(), config("laptop"), settings(), start)
        .unwrap_or_else(|e| panic!("{e}"));
    settle(&mut engine, &net, start);
    let sets = engine
        .write(vec![title("tasks", "t-1", "Buy milk", start)], start)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(sets.len(), 1);
    assert_eq!(sets[0].source, Source::Local);
    assert_eq!(sets[0].records[0].fields, ["title"]);
    let record = engine
        .record("tasks", "t-1")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        record.and_then(|r| r.get("title").map(|v| v.into_owned())),
        Some(json!("Buy milk"))
    );
    assert_eq!(engine.status(start).pending, 1);
    // Nothing is pushed before the debounce.
    assert!(
        matches!(engine.poll(start), Instruction::Wait { until: Some(t) } if t == after(start, Duration::from_secs(1)))
    );
    // Repeated updates of the field merge into one change.
    engine
        .write(
            vec![title(
                "tasks",
                "t-1",
                "Oat milk",
                after(start, Duration::from_millis(10)),
            )],
            start,
        )
        .unwrap_or_else(|e| panic!("{e}"));
    settle(&mut engine, &net, after(start, Duration::from_secs(2)));
    let status = engine.status(net.now());
    assert_eq!((status.pending, status.retries), (0, 0));
    assert!(status.last_push.is_some() && status.last_pull.is_some());
    assert_eq!(
        net.server().stored_count(USER),
        1,
        "two updates of one field, one change"
    );
    let fold = server_fold(&net);
    assert_eq!(
        fold.record("tasks", "t-1")
            .and_then(|r| r.get("title").map(|v| v.into_owned())),
        Some(json!("Oat milk"))
    );
}

#[test]
fn server_changes_fold_over_local_ones_by_last_write_wins() {
    let net = world();
    let t0 = net.now();
    let mut a = Engine::open(MemoryStore::new(), config("device-a"), settings(), t0)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut b = Engine::open(MemoryStore::new(), config("device-b"), settings(), t0)
        .unwrap_or_else(|e| panic!("{e}"));
    let t1 = after(t0, Duration::from_secs(1));
    let t2 = after(t0, Duration::from_secs(2));
    a.write(vec![title("tasks", "t-1", "from a, older", t1)], t0)
        .unwrap_or_else(|e| panic!("{e}"));
    settle(&mut a, &net, after(t0, Duration::from_secs(3)));
    // B writes later while offline: its pending field must never show A's older value.
    b.write(vec![title("tasks", "t-1", "from b, newer", t2)], net.now())
        .unwrap_or_else(|e| panic!("{e}"));
    b.on_connectivity(true, net.now());
    let deadline = after(net.now(), Duration::from_secs(5));
    for _ in 0..1000 {
        let now = net.now();
        let shown = b
            .record("tasks", "t-1")
            .unwrap_or_else(|e| panic!("{e}"))
            .and_then(|r| r.get("title").map(|v| v.into_owned()));
        assert_eq!(shown, Some(json!("from b, newer")));
        match b.poll(now) {
            Instruction::Send { request, .. } => {
                let r = net.send(request);
                b.on_response(net.now(), r)
            }
            Instruction::Wait { until: Some(t) } if t <= deadline => net.clock().set(t.max(now)),
            _ => break,
        }
    }
    assert_eq!(b.status(net.now()).pending, 0);
    // A catches up (periodic round) and shows B's newer value.
    settle(&mut a, &net, after(net.now(), Duration::from_secs(61)));
    let sets = a.take_server_changes();
    assert!(
        sets.iter()
            .any(|s: &ChangeSet| s.source == Source::Server
                && s.records.iter().any(|r| r.id == "t-1"))
    );
    let shown = a
        .record("tasks", "t-1")
        .unwrap_or_else(|e| panic!("{e}"))
        .and_then(|r| r.get("title").map(|v| v.into_owned()));
    assert_eq!(shown, Some(json!("from b, newer")));
}

/// A store that fails at its k-th commit and at every one after (the
/// process died there); reads keep working until the test stops.
#[derive(Clone)]
struct Crashing {
    inner: Arc<Mutex<(MemoryStore, usize, Option<usize>)>>,
}

impl Crashing {
    fn new(fail_at: Option<usize>) -> Crashing {
        Crashing {
            inner: Arc::new(Mutex::new((MemoryStore::new(), 0, fail_at))),
        }
    }
    fn crashed(&self) -> bool {
        let g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        g.2.is_some_and(|k| g.1 > k)
    }
    fn commits(&self) -> usize {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).1
    }
    fn surviving(&self) -> MemoryStore {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .0
            .clone()
    }
}

impl Store for Crashing {
    fn client_id(&mut self, fresh: &str) -> Result<String, StoreError> {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .0
            .client_id(fresh)
    }
    fn slot(&mut self, table: &str, id: &str) -> Result<Option<Slot>, StoreError> {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .0
            .slot(table, id)
    }
    fn records(&mut self, table: &str) -> Result<Vec<Record>, StoreError> {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .0
            .records(table)
    }
    fn outbox(&mut self) -> Result<Vec<OutboxEntry>, StoreError> {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .0
            .outbox()
    }
    fn collection(
        &mut self,
        name: &str,
    ) -> Result<mana_sync_core::engine::CollectionState, StoreError> {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .0
            .collection(name)
    }
    fn dead_letters(&mut self) -> Result<Vec<DeadLetter>, StoreError> {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .0
            .dead_letters()
    }
    fn conflicts(&mut self) -> Result<Vec<ConflictEntry>, StoreError> {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .0
            .conflicts()
    }
    fn commit(&mut self, commit: &Commit) -> Result<(), StoreError> {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let k = g.1;
        g.1 += 1;
        if g.2.is_some_and(|fail_at| k >= fail_at) {
            return Err(StoreError::Backend("injected crash".into()));
        }
        g.0.commit(commit)
    }
}

/// The scripted session: local writes, pushes (some cut before their
/// answer), another client's writes streamed and pulled in, more writes.
/// Returns the writes whose call returned, the other client's, and how
/// many batches the live stream delivered; stops at the crash.
fn session(net: &Net, store: Crashing) -> (Vec<Change>, Vec<Change>, usize) {
    let t0 = net.now();
    let at = |ms: u64| after(t0, Duration::from_millis(ms));
    let mut returned = Vec::new();
    let mut others = Vec::new();
    let mut live = 0;
    let Ok(mut engine) = Engine::open(store.clone(), config("device-a"), settings(), t0) else {
        return (returned, others, live);
    };
    let write =
        |engine: &mut Engine<Crashing>, changes: Vec<Change>, returned: &mut Vec<Change>| {
            if engine.write(changes.clone(), net.now()).is_ok() {
                returned.extend(changes);
            }
        };
    let other = config("other-writer");
    for round in 0..3u64 {
        if store.crashed() {
            return (returned, others, live);
        }
        write(
            &mut engine,
            vec![title(
                "tasks",
                &format!("t-{round}"),
                &format!("a{round}"),
                at(round * 10_000 + 1),
            )],
            &mut returned,
        );
        write(
            &mut engine,
            vec![
                title(
                    "tasks",
                    "shared",
                    &format!("a{round}"),
                    at(round * 10_000 + 2),
                ),
                Change::update("tags", "g-1").with_field("n", round, at(round * 10_000 + 3)),
            ],
            &mut returned,
        );
        if round == 1 {
            // The next push is stored, then its answer is lost.
            net.server()
                .fail_next_requests(1, mana_sync_testkit::Fault::StoreThenClose);
        }
        if store.crashed() {
            return (returned, others, live);
        }
        settle(&mut engine, net, at(round * 10_000 + 3_000));
        // Another client writes; the next round's catch-up folds it.
        let theirs = vec![title(
            "tasks",
            "shared",
            &format!("other{round}"),
            at(round * 10_000 + 4_000),
        )];
        let mut push = mana_sync_core::ops::Push::new(&other, APP, &theirs, &Cursor::EPOCH)
            .unwrap_or_else(|e| panic!("{e}"));
        if let Step::Send(request) = push.step(net.now()) {
            push.on_response(net.now(), Ok(net.server().handle(request)));
        }
        others.extend(theirs);
        // The live stream brings it at once.
        live += run_live(&mut engine, net, |_| false).unwrap_or(0);
        write(
            &mut engine,
            vec![Change::delete(
                "tasks",
                format!("t-{round}"),
                at(round * 10_000 + 5_000),
            )],
            &mut returned,
        );
        engine.on_connectivity(true, net.now());
        settle(&mut engine, net, at(round * 10_000 + 9_000));
    }
    (returned, others, live)
}

#[test]
fn crash_at_every_commit_of_a_session_loses_no_returned_write() {
    // How many commits the whole session makes.
    let total = {
        let net = world();
        let store = Crashing::new(None);
        let (_, _, live) = session(&net, store.clone());
        assert_eq!(
            live, 3,
            "each round's change of the other client is streamed"
        );
        store.commits()
    };
    assert!(total > 15, "the session commits {total} times");
    for k in 0..=total {
        let net = world();
        let store = Crashing::new(Some(k));
        let (returned, others, _) = session(&net, store.clone());
        // Reopen what survived, with nothing failing, and let it drain.
        let mut engine = Engine::open(store.surviving(), config("device-a"), settings(), net.now())
            .unwrap_or_else(|e| panic!("{e}"));
        engine.on_connectivity(true, net.now());
        settle(
            &mut engine,
            &net,
            after(net.now(), Duration::from_secs(120)),
        );
        assert_eq!(engine.status(net.now()).pending, 0, "crash at commit {k}");
        // Every returned write reached the server as written: the server's
        // fold equals a model of the returned writes and the other client's.
        let server = server_fold(&net);
        let mut model = Replica::new();
        let log = net.server().changes(USER, APP);
        for change in returned.iter().chain(&others) {
            model.apply(change, net.now());
        }
        let want = values(&replica_records(&model));
        assert_eq!(
            values(&replica_records(&server)),
            want,
            "server after a crash at commit {k}"
        );
        let mut store = engine.into_store();
        assert_eq!(
            values(&store_records(&mut store)),
            want,
            "local view after a crash at commit {k}"
        );
        // Nothing that changes the result was pushed that was not returned.
        for raw in &log {
            let mut change: Change =
                serde_json::from_value(raw.clone()).unwrap_or_else(|e| panic!("{e}"));
            change.event_id = None;
            change.schema_version = None;
            let mut with = model.clone();
            with.apply(&change, net.now());
            assert_eq!(
                values(&replica_records(&with)),
                want,
                "a pushed change outside the returned writes, crash at {k}: {raw}"
            );
        }
    }
}

/// The longest the outbox takes to drain once faults stop: the backoff's
/// cap (the next attempt is at most that far away) plus the debounce; the
/// pushes themselves take no time on the fake clock.
const DRAIN_BOUND: Duration = Duration::from_secs(31);

#[test]
fn under_faults_and_an_outage_the_outbox_drains_within_the_bound_once_they_stop() {
    for seed in 0..4u64 {
        let net = world();
        let mut net = net;
        let t0 = net.now();
        net.server()
            .set_fault_plan(Some(FaultPlan::seeded(seed).rate(0.2)));
        net.refuse = Some("poison");
        let mut engine = Engine::open(
            MemoryStore::new(),
            config("device-a"),
            settings().jitter(JitterRng::seeded(seed)),
            t0,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let mut written = Vec::new();
        for i in 0..300u64 {
            let at = after(t0, Duration::from_millis(i * 700));
            // The server is down for the last third of the writes.
            if i == 200 {
                net.down = true;
            }
            let mut changes = vec![title(
                "tasks",
                &format!("t-{}", i % 40),
                &format!("v{i}"),
                at,
            )];
            if i == 150 {
                changes.push(title("tasks", "bad", "poison", at));
            }
            engine
                .write(changes.clone(), net.now())
                .unwrap_or_else(|e| panic!("{e}"));
            written.extend(changes);
            settle(
                &mut engine,
                &net,
                after(net.now(), Duration::from_millis(700)),
            );
        }
        // Faults stop, the server is back; no write nudges the engine.
        net.server().set_fault_plan(None);
        net.down = false;
        let healed = net.now();
        assert!(
            engine.status(healed).pending > 0,
            "seed {seed}: something must still wait"
        );
        assert!(
            net.server().faults_injected().len() > 10,
            "seed {seed}: faults were injected"
        );
        settle(&mut engine, &net, after(healed, DRAIN_BOUND));
        let status = engine.status(net.now());
        assert_eq!(
            status.pending, 0,
            "seed {seed}: drained within {DRAIN_BOUND:?}: {status:?}"
        );
        assert_eq!(status.dead_letters, 1, "seed {seed}");
        let dead = engine.dead_letters().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(dead[0].entry.change.id, "bad");
        assert!(
            dead[0].reason.contains("poison is not allowed"),
            "{}",
            dead[0].reason
        );
        // The rest of its batch was stored: the server folds to every write
        // but the refused one.
        let mut model = Replica::new();
        for change in written.iter().filter(|c| c.id != "bad") {
            model.apply(change, t0);
        }
        assert_eq!(
            values(&replica_records(&server_fold(&net))),
            values(&replica_records(&model)),
            "seed {seed}"
        );
    }
}

#[test]
fn a_refused_change_is_isolated_and_the_rest_of_its_batch_goes_through() {
    let mut net = world();
    net.refuse = Some("poison");
    let t0 = net.now();
    let mut engine = Engine::open(MemoryStore::new(), config("device-a"), settings(), t0)
        .unwrap_or_else(|e| panic!("{e}"));
    let changes: Vec<Change> = (0..64)
        .map(|i| {
            title(
                "tasks",
                &format!("t-{i}"),
                if i == 37 { "poison" } else { "fine" },
                t0,
            )
        })
        .collect();
    engine.write(changes, t0).unwrap_or_else(|e| panic!("{e}"));
    let sent = settle(&mut engine, &net, after(t0, Duration::from_secs(5)));
    let status = engine.status(net.now());
    assert_eq!((status.pending, status.dead_letters), (0, 1), "{status:?}");
    assert_eq!(net.server().stored_count(USER), 63);
    // Bisecting 64 takes about 2·log2(64) requests, not 64.
    assert!(sent <= 20, "{sent} requests");
    // Put back after the server was fixed, it goes through.
    net.refuse = None;
    let seq = engine.dead_letters().unwrap_or_else(|e| panic!("{e}"))[0]
        .entry
        .seq;
    assert!(engine
        .retry_dead_letter(seq, net.now())
        .unwrap_or_else(|e| panic!("{e}")));
    settle(&mut engine, &net, after(net.now(), Duration::from_secs(5)));
    assert_eq!(engine.status(net.now()).dead_letters, 0);
    assert_eq!(net.server().stored_count(USER), 64);
}

#[test]
fn a_write_the_server_could_never_take_is_refused_before_anything_is_stored() {
    let net = world();
    let t0 = net.now();
    let mut engine = Engine::open(MemoryStore::new(), config("device-a"), settings(), t0)
        .unwrap_or_else(|e| panic!("{e}"));
    let bad = vec![
        title("tasks", "ok", "fine", t0),
        title("tasks", "", "no id", t0),
    ];
    let err = engine
        .write(bad, t0)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("must not be empty"), "{err}");
    assert_eq!(engine.status(t0).pending, 0);
    assert!(engine
        .record("tasks", "ok")
        .unwrap_or_else(|e| panic!("{e}"))
        .is_none());
}

#[test]
fn an_expired_token_asks_for_a_fresh_one_and_sync_goes_on() {
    let net = world();
    let t0 = net.now();
    let expired = token_with_claims(&json!({"sub": USER, "exp": 1_000_000}));
    let config =
        Config::new("http://sync.test", expired, "device-a").unwrap_or_else(|e| panic!("{e}"));
    let mut engine =
        Engine::open(MemoryStore::new(), config, settings(), t0).unwrap_or_else(|e| panic!("{e}"));
    engine
        .write(vec![title("tasks", "t-1", "x", t0)], t0)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut asked = 0;
    for _ in 0..100 {
        match engine.poll(net.now()) {
            Instruction::Send { request, .. } => {
                let r = net.send(request);
                engine.on_response(net.now(), r)
            }
            Instruction::NeedToken => {
                asked += 1;
                assert!(engine.status(net.now()).unauthorized);
                engine.on_token(fresh_token(), net.now());
            }
            Instruction::Wait { until: Some(t) } if engine.status(net.now()).pending > 0 => {
                net.clock().set(t.max(net.now()))
            }
            Instruction::Wait { .. } => break,
        }
    }
    assert_eq!(asked, 1);
    let status = engine.status(net.now());
    assert!(!status.unauthorized);
    assert_eq!(status.pending, 0);
    assert_eq!(net.server().stored_count(USER), 1);
}

#[test]
fn payment_required_pauses_says_so_and_resumes_later() {
    let net = world();
    let t0 = net.now();
    net.server().set_sync_active(USER, false);
    let mut engine = Engine::open(MemoryStore::new(), config("device-a"), settings(), t0)
        .unwrap_or_else(|e| panic!("{e}"));
    engine
        .write(vec![title("tasks", "t-1", "x", t0)], t0)
        .unwrap_or_else(|e| panic!("{e}"));
    settle(&mut engine, &net, after(t0, Duration::from_secs(10)));
    let status = engine.status(net.now());
    assert!(
        status
            .paused
            .as_deref()
            .is_some_and(|p| p.contains("sync_inactive")
                || p.contains("402")
                || p.contains("payment")),
        "{status:?}"
    );
    assert_eq!(status.pending, 1, "kept while paused");
    net.server().set_sync_active(USER, true);
    settle(&mut engine, &net, after(t0, Duration::from_secs(400)));
    let status = engine.status(net.now());
    assert_eq!(status.pending, 0, "{status:?}");
    assert!(status.paused.is_none());
}

#[test]
fn leftovers_are_pushed_at_start() {
    let net = world();
    let t0 = net.now();
    let mut first = Engine::open(MemoryStore::new(), config("device-a"), settings(), t0)
        .unwrap_or_else(|e| panic!("{e}"));
    first
        .write(vec![title("tasks", "t-1", "x", t0)], t0)
        .unwrap_or_else(|e| panic!("{e}"));
    let store = first.into_store();
    let mut again = Engine::open(store, config("another-id-is-ignored"), settings(), t0)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(again.client_id(), "device-a", "the store's client id wins");
    assert!(
        matches!(again.poll(t0), Instruction::Send { .. }),
        "pushed at once, no debounce"
    );
}

#[test]
fn two_engines_and_a_plain_writer_converge_to_a_fresh_full_fold_under_races_and_faults() {
    for seed in 0..3u64 {
        let net = world();
        net.server().set_races(
            Races::none()
                .equal_times(3)
                .late_commits(5, Duration::from_secs(2)),
        );
        net.server()
            .set_fault_plan(Some(FaultPlan::seeded(seed).rate(0.2)));
        let t0 = net.now();
        let open = |id: &str| {
            Engine::open(
                MemoryStore::new(),
                config(id),
                settings().jitter(JitterRng::seeded(seed)),
                t0,
            )
            .unwrap_or_else(|e| panic!("{e}"))
        };
        let (mut a, mut b) = (open("device-a"), open("device-b"));
        let plain = config("plain-writer");
        for i in 0..60u64 {
            let at = after(t0, Duration::from_millis(i * 300));
            let id = format!("t-{}", i % 12);
            let table = TABLES[(i % 2) as usize];
            a.write(vec![title(table, &id, &format!("a{i}"), at)], net.now())
                .unwrap_or_else(|e| panic!("{e}"));
            b.write(
                vec![Change::update(table, &id).with_field("n", i, at)],
                net.now(),
            )
            .unwrap_or_else(|e| panic!("{e}"));
            if i % 5 == 0 {
                let theirs = vec![title(
                    table,
                    &id,
                    &format!("p{i}"),
                    after(at, Duration::from_millis(1)),
                )];
                let mut push = mana_sync_core::ops::Push::new(&plain, APP, &theirs, &Cursor::EPOCH)
                    .unwrap_or_else(|e| panic!("{e}"));
                if let Step::Send(request) = push.step(net.now()) {
                    // The plain writer's request may fail like any other; it
                    // tries until it is stored.
                    let _ = net.server().handle(request);
                }
            }
            let until = after(net.now(), Duration::from_millis(300));
            settle(&mut a, &net, until);
            settle(&mut b, &net, until);
        }
        net.server().set_fault_plan(None);
        // Both run on, side by side, past the late commits' lag and the
        // next periodic round after the last push.
        let end = after(net.now(), Duration::from_secs(200));
        while net.now() < end {
            let until = after(net.now(), Duration::from_secs(5));
            settle(&mut a, &net, until);
            settle(&mut b, &net, until);
        }
        assert_eq!(
            (a.status(end).pending, b.status(end).pending),
            (0, 0),
            "seed {seed}"
        );

        let truth = values(&replica_records(&server_fold(&net)));
        assert!(!truth.is_empty());
        assert_eq!(
            values(&store_records(a.store_mut())),
            truth,
            "device a, seed {seed}"
        );
        assert_eq!(
            values(&store_records(b.store_mut())),
            truth,
            "device b, seed {seed}"
        );
    }
}

#[test]
fn the_live_stream_folds_another_devices_change_with_its_cursor_and_id_in_one_commit() {
    let net = world();
    let t0 = net.now();
    let settings = settings().repull_every(None);
    let mut engine = Engine::open(MemoryStore::new(), config("laptop"), settings, t0)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!engine.can_go_live(), "not before the first catch-up");
    assert!(engine
        .live_stream()
        .unwrap_or_else(|e| panic!("{e}"))
        .is_none());
    settle(&mut engine, &net, t0);
    assert!(engine.can_go_live());
    let before = engine
        .store_mut()
        .collection("tasks")
        .unwrap_or_else(|e| panic!("{e}"));

    net.clock().set(after(t0, Duration::from_secs(1)));
    let phone =
        BlockingClient::new(config("phone"), &net.transport).with_clock(net.clock().clone());
    let theirs = title(
        "tasks",
        "t-1",
        "from the phone",
        after(t0, Duration::from_secs(1)),
    );
    phone
        .push(APP, std::slice::from_ref(&theirs), &Cursor::EPOCH)
        .unwrap_or_else(|e| panic!("{e}"));
    let batches = run_live(&mut engine, &net, |e| shown(e, "tasks", "t-1").is_some());
    assert_eq!(batches, Some(1));
    assert_eq!(
        shown(&mut engine, "tasks", "t-1"),
        Some(json!("from the phone"))
    );
    let sets = engine.take_server_changes();
    assert!(
        sets.iter()
            .any(|s| s.source == Source::Server && s.records[0].id == "t-1"),
        "{sets:?}"
    );
    assert!(engine.status(net.now()).live);
    // The cursor moved and the change's id is remembered, in the same commit.
    let after_stream = engine
        .store_mut()
        .collection("tasks")
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        after_stream.cursor > before.cursor,
        "{:?}",
        after_stream.cursor
    );
    let stored = net.server().changes(USER, APP);
    let event_id = stored
        .iter()
        .find_map(|c| c.get("eventId").and_then(|v| v.as_str()).map(str::to_owned))
        .unwrap_or_else(|| panic!("the server gives every change an eventId: {stored:?}"));
    assert!(after_stream.seen.contains_event(&event_id));
    // A catch-up after it (on reconnect) brings nothing new.
    engine.on_connectivity(true, net.now());
    assert_eq!(
        settle(&mut engine, &net, net.now()),
        2,
        "one catch-up per table"
    );
    assert!(engine.take_server_changes().is_empty());
    // Nothing is streamed twice either: a new stream starts from the store.
    assert_eq!(run_live(&mut engine, &net, |_| false), Some(0));
}

#[test]
fn a_stream_refused_for_its_token_asks_for_a_fresh_one_then_goes_live_again() {
    let net = world();
    let t0 = net.now();
    let mut engine = Engine::open(MemoryStore::new(), config("laptop"), settings(), t0)
        .unwrap_or_else(|e| panic!("{e}"));
    settle(&mut engine, &net, t0);
    let refused = EngineError::Sync(Error::Unauthorized {
        status: 401,
        body: "token expired".into(),
    });
    let wait = engine.on_stream_end(&refused, t0);
    assert!(wait <= Duration::from_secs(30), "{wait:?}");
    assert!(!engine.can_go_live(), "no stream with a refused token");
    assert!(engine.status(t0).unauthorized);
    assert!(matches!(engine.poll(t0), Instruction::NeedToken));
    engine.on_token(fresh_token(), t0);
    assert!(engine.can_go_live());
    assert!(engine
        .live_stream()
        .unwrap_or_else(|e| panic!("{e}"))
        .is_some());
    // A 402 pauses, as a request's does.
    let paused = EngineError::Sync(Error::PaymentRequired {
        error: "sync_inactive".into(),
        message: "inactive".into(),
        body: String::new(),
    });
    engine.on_stream_end(&paused, t0);
    assert!(engine.status(t0).paused.is_some());
    assert!(!engine.can_go_live());
}

#[test]
fn live_sync_can_be_turned_off() {
    let net = world();
    let t0 = net.now();
    let mut engine = Engine::open(
        MemoryStore::new(),
        config("laptop"),
        settings().live(false),
        t0,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    settle(&mut engine, &net, t0);
    assert!(!engine.can_go_live());
    assert!(engine
        .live_stream()
        .unwrap_or_else(|e| panic!("{e}"))
        .is_none());
}

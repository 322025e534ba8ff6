//! Fault injection: each [`Fault`] acted out in process and on the loopback
//! server (ureq and hyper), what the server stored under it, and the
//! seeded [`FaultPlan`]: repeatable in process, at the rate asked.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use mana_sync_core::{Change, Config, Cursor, Error, RetryPolicy, TimeoutKind, TransportOptions};
use mana_sync_testkit::{
    start_time, token_for, Fault, FaultPlan, InProcess, LoopbackServer, MemoryServer,
};
use serde_json::json;

const USER: &str = "u-faults";
const APP: &str = "faults";
const TABLE: &str = "items";

fn config(base: &str, client: &str) -> Config {
    Config::new(base, token_for(USER), client).unwrap()
}

fn batch(n: usize) -> Vec<Change> {
    (0..n)
        .map(|i| Change::update(TABLE, format!("r-{i}")).with_field("n", json!(i), start_time()))
        .collect()
}

/// What a client sees of a fault, in a word.
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    Ok,
    Closed,
    Timeout,
    Status(u16),
}

fn seen<T>(result: &Result<T, Error>) -> Seen {
    let error = match result {
        Ok(_) => return Seen::Ok,
        Err(Error::PartialPush { cause, .. }) => cause.as_ref(),
        Err(e) => e,
    };
    match error {
        Error::Transport(_) => Seen::Closed,
        Error::Timeout { kind, .. } => {
            assert_eq!(*kind, TimeoutKind::Total, "{error:?}");
            Seen::Timeout
        }
        other => Seen::Status(
            other
                .status()
                .unwrap_or_else(|| panic!("neither a status nor a transport error: {other:?}")),
        ),
    }
}

/// Each fault, what a client without retries sees of it on a push of 5
/// changes, and how many of them the server stored.
fn cases() -> Vec<(Fault, Seen, usize)> {
    vec![
        (Fault::CloseBeforeAnswer, Seen::Closed, 0),
        (Fault::StoreThenClose, Seen::Closed, 5),
        (Fault::PushPartWay { stored: 2 }, Seen::Status(500), 2),
        (Fault::TruncateBody, Seen::Closed, 5),
        (Fault::Stall, Seen::Timeout, 5),
        (
            Fault::TooManyRequests {
                retry_after: "7".into(),
            },
            Seen::Status(429),
            0,
        ),
        (Fault::BadGatewayHtml, Seen::Status(502), 0),
        (Fault::Unavailable, Seen::Status(503), 0),
    ]
}

#[test]
fn each_fault_in_process() {
    for (fault, want, stored) in cases() {
        let options = TransportOptions::default().total_timeout(Duration::from_secs(9));
        let net = InProcess::default().with_options(options);
        let client = net
            .blocking_client(config("http://mana.test", "a"))
            .with_retry(RetryPolicy::none());
        net.server().fail_next_requests(1, fault.clone());
        let before = net.clock().now();
        let result = client.push(APP, &batch(5), &Cursor::EPOCH);
        assert_eq!(seen(&result), want, "{fault:?}: {result:?}");
        assert_eq!(net.server().stored_count(USER), stored, "{fault:?}");
        assert_eq!(net.server().faults_injected(), vec![fault.clone()]);
        let waited = net.clock().now().saturating_duration_since(before);
        let stalled = fault == Fault::Stall;
        assert_eq!(
            waited,
            if stalled {
                Duration::from_secs(9)
            } else {
                Duration::ZERO
            },
            "{fault:?}: a stall advances the clock by the total timeout"
        );
        // The fault is spent: the next request is answered.
        assert!(client.pull(APP, TABLE, &Cursor::EPOCH).is_ok(), "{fault:?}");
    }
}

#[test]
fn a_truncated_or_stalled_pull_in_process_is_a_transport_failure() {
    let net = InProcess::default();
    net.server().seed(
        USER,
        APP,
        "other",
        &[json!({"table": TABLE, "id": "1", "op": "insert", "data": {"a": 1}})],
    );
    let client = net
        .blocking_client(config("http://mana.test", "a"))
        .with_retry(RetryPolicy::none());
    for (fault, want) in [
        (Fault::TruncateBody, Seen::Closed),
        (Fault::Stall, Seen::Timeout),
        (Fault::StoreThenClose, Seen::Closed),
    ] {
        net.server().fail_next_requests(1, fault.clone());
        let result = client.pull(APP, TABLE, &Cursor::EPOCH);
        assert_eq!(seen(&result), want, "{fault:?}");
    }
    assert_eq!(
        client
            .pull(APP, TABLE, &Cursor::EPOCH)
            .unwrap()
            .server_changes
            .len(),
        1
    );
}

#[test]
fn a_push_part_way_keeps_the_rest_of_a_switch_and_a_short_push_is_unharmed() {
    let net = InProcess::default();
    let client = net
        .blocking_client(config("http://mana.test", "a"))
        .with_retry(RetryPolicy::none());
    // A push of no more than `stored` changes is answered normally.
    net.server()
        .fail_next_requests(1, Fault::PushPartWay { stored: 3 });
    assert!(client.push(APP, &batch(3), &Cursor::EPOCH).is_ok());
    assert_eq!(net.server().stored_count(USER), 3);
    // The planned failure does not consume a switch armed by the test.
    net.server().fail_next_push_after(4);
    net.server()
        .fail_next_requests(1, Fault::PushPartWay { stored: 1 });
    assert_eq!(
        seen(&client.push(APP, &batch(3), &Cursor::EPOCH)),
        Seen::Status(500)
    );
    assert_eq!(net.server().stored_count(USER), 4);
    assert_eq!(
        seen(&client.push(APP, &batch(6), &Cursor::EPOCH)),
        Seen::Status(500)
    );
    assert_eq!(net.server().stored_count(USER), 8, "the switch's 4 more");
}

#[test]
fn with_retries_every_fault_is_absorbed_in_process() {
    for (fault, _, _) in cases() {
        let net = InProcess::default();
        let client = net
            .blocking_client(config("http://mana.test", "a"))
            .with_retry(RetryPolicy::default().max_attempts(2));
        net.server().fail_next_requests(1, fault.clone());
        let before = net.clock().now();
        let out = client.push(APP, &batch(5), &Cursor::EPOCH);
        assert!(out.is_ok(), "{fault:?}: {out:?}");
        assert_eq!(net.server().request_count(), 2, "{fault:?}");
        let stored = net.server().stored_count(USER);
        assert!((5..=10).contains(&stored), "{fault:?}: {stored}");
        if let Fault::TooManyRequests { .. } = fault {
            let waited = net.clock().now().saturating_duration_since(before);
            assert_eq!(waited, Duration::from_secs(7), "Retry-After honoured");
        }
    }
}

fn loopback() -> LoopbackServer {
    LoopbackServer::start(MemoryServer::deterministic())
        .unwrap()
        .with_stall(Duration::from_secs(30))
}

/// A stall needs a client timeout shorter than the server's silence (30 s);
/// every other fault, the default timeout, so that a slow machine changes
/// nothing.
fn options_for(fault: &Fault) -> TransportOptions {
    match fault {
        Fault::Stall => TransportOptions::default().total_timeout(Duration::from_millis(500)),
        _ => TransportOptions::default(),
    }
}

#[test]
fn each_fault_over_ureq() {
    for (fault, want, stored) in cases() {
        let server = loopback();
        let client =
            mana_sync_ureq::client_with(config(&server.base_url(), "a"), options_for(&fault))
                .unwrap()
                .with_retry(RetryPolicy::none());
        server.server().fail_next_requests(1, fault.clone());
        let result = client.push(APP, &batch(5), &Cursor::EPOCH);
        assert_eq!(seen(&result), want, "{fault:?}: {result:?}");
        assert_eq!(server.server().stored_count(USER), stored, "{fault:?}");
        assert!(client.pull(APP, TABLE, &Cursor::EPOCH).is_ok(), "{fault:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_fault_over_hyper() {
    for (fault, want, stored) in cases() {
        let server = loopback();
        let client =
            mana_sync_hyper::client_with(config(&server.base_url(), "a"), options_for(&fault))
                .unwrap()
                .with_retry(RetryPolicy::none());
        server.server().fail_next_requests(1, fault.clone());
        let result = client.push(APP, &batch(5), &Cursor::EPOCH).await;
        assert_eq!(seen(&result), want, "{fault:?}: {result:?}");
        assert_eq!(server.server().stored_count(USER), stored, "{fault:?}");
        assert!(
            client.pull(APP, TABLE, &Cursor::EPOCH).await.is_ok(),
            "{fault:?}"
        );
        drop(client);
        tokio::task::spawn_blocking(move || drop(server))
            .await
            .unwrap();
    }
}

/// A fixed workload under a plan: what the server saw.
fn planned_run(seed: u64) -> (Vec<Fault>, Vec<String>, usize) {
    let net = InProcess::default();
    net.server()
        .set_fault_plan(Some(FaultPlan::seeded(seed).rate(0.3)));
    let client = net
        .blocking_client(config("http://mana.test", "a"))
        .with_retry(RetryPolicy::default().max_attempts(8))
        .with_jitter(mana_sync_core::retry::JitterRng::seeded(seed));
    for round in 0..20 {
        // Errors that survive the retries are part of the run.
        let _ = client.push(APP, &batch(round % 7 + 1), &Cursor::EPOCH);
        let _ = client.pull(APP, TABLE, &Cursor::EPOCH);
    }
    let uris = net.server().requests().into_iter().map(|r| r.uri).collect();
    (
        net.server().faults_injected(),
        uris,
        net.server().stored_count(USER),
    )
}

#[test]
fn a_plan_is_repeatable_in_process() {
    let (faults, uris, stored) = planned_run(42);
    assert!(faults.len() >= 5, "{faults:?}");
    assert_eq!(planned_run(42), (faults.clone(), uris, stored));
    let (other, _, _) = planned_run(43);
    assert_ne!(other, faults, "another seed, other faults");
}

#[test]
fn a_plan_faults_at_its_rate_with_every_kind() {
    let mut plan = FaultPlan::seeded(9).rate(0.2);
    let drawn: Vec<Fault> = (0..5000)
        .filter_map(|i| plan.next_fault((i % 2 == 0).then_some(10)))
        .collect();
    // Deterministic for the seed; the bounds say what the rate means.
    assert!((850..=1150).contains(&drawn.len()), "{}", drawn.len());
    for kind in FaultPlan::seeded(0).kinds() {
        assert!(
            drawn.iter().any(|d| d.name() == kind.name()),
            "{kind:?} never drawn"
        );
    }
    for d in &drawn {
        if let Fault::PushPartWay { stored } = d {
            assert!(*stored < 10);
        }
    }
    let mut none = FaultPlan::seeded(9).rate(0.0);
    assert!((0..1000).all(|_| none.next_fault(Some(3)).is_none()));
    let mut all = FaultPlan::seeded(9)
        .rate(1.0)
        .only([Fault::PushPartWay { stored: 0 }]);
    assert!((0..100).all(|_| all.next_fault(Some(3)).is_some()));
    assert!(
        (0..100).all(|_| all.next_fault(None).is_none()),
        "a part-way failure fits only a push"
    );
}

#[test]
fn a_plan_on_the_loopback_server_acts_on_the_wire() {
    let server = loopback();
    // Stalls are left out: they need a short timeout (see `each_fault_*`),
    // and a short timeout would make the other answers depend on speed.
    let kinds: Vec<Fault> = FaultPlan::seeded(0)
        .kinds()
        .iter()
        .filter(|k| **k != Fault::Stall)
        .cloned()
        .collect();
    server
        .server()
        .set_fault_plan(Some(FaultPlan::seeded(5).rate(1.0).only(kinds)));
    let client = mana_sync_ureq::client(config(&server.base_url(), "a"))
        .unwrap()
        .with_retry(RetryPolicy::none());
    let mut seen_kinds = std::collections::BTreeSet::new();
    for _ in 0..30 {
        let result = client.push(APP, &batch(4), &Cursor::EPOCH);
        let fault = server.server().faults_injected().pop().unwrap();
        let want = match fault {
            Fault::CloseBeforeAnswer | Fault::StoreThenClose | Fault::TruncateBody => Seen::Closed,
            Fault::Stall => Seen::Timeout,
            Fault::PushPartWay { .. } => Seen::Status(500),
            Fault::TooManyRequests { .. } => Seen::Status(429),
            Fault::BadGatewayHtml => Seen::Status(502),
            Fault::Unavailable => Seen::Status(503),
        };
        assert_eq!(seen(&result), want, "{fault:?}");
        seen_kinds.insert(fault.name());
    }
    assert_eq!(seen_kinds.len(), 6, "{seen_kinds:?}");
}

/// Faults aimed at one endpoint: two 503s for the push do not hit the vault
/// fetch before it; the push is retried through them; the pull after it is
/// untouched; a fault for any request still comes first.
#[test]
fn faults_aimed_at_one_endpoint_hit_only_it() {
    use mana_sync_core::crypto::MasterKey;
    use mana_sync_testkit::{Endpoint, Vault};

    let net = InProcess::default();
    let server = net.server();
    server.set_vault(
        USER,
        Vault::Standard(MasterKey::from_bytes(&[7; 32]).unwrap()),
    );
    let base = "http://mana.test";
    let client = net.blocking_client(config(base, "aimed").with_auth_url(base).unwrap());
    server.fail_next_requests_to(Endpoint::Push, 2, Fault::Unavailable);
    client.master_key().unwrap();
    assert!(
        server.faults_injected().is_empty(),
        "the vault fetch was not hit"
    );
    client.push(APP, &batch(3), &Cursor::EPOCH).unwrap();
    assert_eq!(
        server.faults_injected(),
        [Fault::Unavailable, Fault::Unavailable]
    );
    let pushes = server
        .requests()
        .iter()
        .filter(|r| r.method == http::Method::POST)
        .count();
    assert_eq!(pushes, 3, "two refused, the third stored");
    assert_eq!(server.stored_count(USER), 3);
    client.pull(APP, TABLE, &Cursor::EPOCH).unwrap();
    assert_eq!(server.faults_injected().len(), 2);

    // Without retries, the aimed fault is what the push sees; a fault for
    // any request queued before it comes first, on whatever comes next.
    let once = client.clone().with_retry(RetryPolicy::none());
    server.fail_next_requests(1, Fault::BadGatewayHtml);
    server.fail_next_requests_to(Endpoint::Pull, 1, Fault::Unavailable);
    assert_eq!(
        seen(&once.push(APP, &batch(1), &Cursor::EPOCH)),
        Seen::Status(502)
    );
    assert_eq!(seen(&once.push(APP, &batch(1), &Cursor::EPOCH)), Seen::Ok);
    assert_eq!(
        seen(&once.pull(APP, TABLE, &Cursor::EPOCH)),
        Seen::Status(503)
    );
    assert_eq!(seen(&once.pull(APP, TABLE, &Cursor::EPOCH)), Seen::Ok);
}

/// Retries hide a transient failure of one request of a push: the push
/// succeeds with nothing lost; `PartialPush` comes only when a request's
/// attempts run out (here: without retries).
#[test]
fn partial_push_appears_only_once_retries_run_out() {
    for retries in [true, false] {
        let net = InProcess::default();
        let server = net.server();
        let mut client = net.blocking_client(config("http://mana.test", "partial"));
        if !retries {
            client = client.with_retry(RetryPolicy::none());
        }
        // 250 changes: two requests (200 + 50); the second one's first
        // attempt fails with the server's 500 after the first 200 stored.
        server.fail_next_push_after(200);
        let result = client.push(APP, &batch(250), &Cursor::EPOCH);
        if retries {
            assert_eq!(result.unwrap().requests, 2);
            assert_eq!(server.stored_count(USER), 250);
        } else {
            let Err(Error::PartialPush {
                stored_at_least,
                total,
                ..
            }) = result
            else {
                panic!("expected PartialPush, got {result:?}");
            };
            assert_eq!((stored_at_least, total), (200, 250));
            assert_eq!(server.stored_count(USER), 200);
        }
    }
}

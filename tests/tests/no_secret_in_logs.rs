//! No secret in logs. The crates of this workspace log nothing; their
//! dependencies do: ureq and rustls through `log`, hyper-util and h2 through
//! `tracing`. This test captures everything both emit, at every level,
//! while both clients push, pull, fetch the master key and meet failures
//! over the loopback server, and checks that neither the bearer token nor
//! the master key appears in any of it.

#![allow(clippy::unwrap_used)]

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use base64::Engine;
use mana_sync_core::crypto::MasterKey;
use mana_sync_core::{Change, Config, Cursor, RetryPolicy};
use mana_sync_testkit::{start_time, token_for, Fault, LoopbackServer, MemoryServer, Vault};
use serde_json::json;
use tracing_core::field::{Field, Visit};
use tracing_core::span::{Attributes, Id, Record};
use tracing_core::{Event, Metadata};

const USER: &str = "u-logs";

static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn keep(line: String) {
    LINES.lock().unwrap().push(line);
}

struct Logger;

impl log::Log for Logger {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        keep(format!(
            "log {} {}: {}",
            record.level(),
            record.target(),
            record.args()
        ));
    }
    fn flush(&self) {}
}

static LOGGER: Logger = Logger;

#[derive(Default)]
struct Fields(String);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, "{}={value:?} ", field.name());
    }
}

struct Subscriber(AtomicU64);

impl tracing_core::Subscriber for Subscriber {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let mut fields = Fields::default();
        span.record(&mut fields);
        keep(format!("span {}: {}", span.metadata().name(), fields.0));
        Id::from_u64(self.0.fetch_add(1, Ordering::SeqCst))
    }
    fn record(&self, _: &Id, values: &Record<'_>) {
        let mut fields = Fields::default();
        values.record(&mut fields);
        keep(format!("record: {}", fields.0));
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        keep(format!("event {}: {}", event.metadata().target(), fields.0));
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

fn changes() -> Vec<Change> {
    (0..3)
        .map(|i| Change::update("items", format!("r-{i}")).with_field("n", json!(i), start_time()))
        .collect()
}

#[test]
fn neither_the_token_nor_the_key_is_logged() {
    log::set_logger(&LOGGER).unwrap();
    log::set_max_level(log::LevelFilter::Trace);
    tracing_core::dispatcher::set_global_default(tracing_core::Dispatch::new(Subscriber(
        AtomicU64::new(1),
    )))
    .unwrap();
    tracing_core::callsite::rebuild_interest_cache();

    let key = MasterKey::from_bytes(&[0x5a; 32]).unwrap();
    let key_b64 = base64::engine::general_purpose::STANDARD.encode(key.expose());
    let token = token_for(USER);
    let server = LoopbackServer::start(MemoryServer::deterministic()).unwrap();
    server
        .server()
        .set_vault(USER, Vault::Standard(key.clone()));
    let base = server.base_url();
    let config = |client: &str| {
        Config::new(&base, &token, client)
            .unwrap()
            .with_auth_url(&base)
            .unwrap()
    };
    let faults = || {
        server.server().fail_next_requests(1, Fault::BadGatewayHtml);
        server.server().fail_next_requests(1, Fault::StoreThenClose);
        server.server().fail_next_requests(1, Fault::TruncateBody);
    };

    let ureq = mana_sync_ureq::client(config("logs-ureq"))
        .unwrap()
        .with_retry(RetryPolicy::none());
    ureq.push("logs", &changes(), &Cursor::EPOCH).unwrap();
    assert_eq!(ureq.master_key().unwrap(), key);
    faults();
    for _ in 0..3 {
        assert!(ureq.push("logs", &changes(), &Cursor::EPOCH).is_err());
    }
    assert_eq!(
        ureq.pull("logs", "items", &Cursor::EPOCH)
            .unwrap()
            .server_changes
            .len(),
        0
    );

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let hyper = mana_sync_hyper::client(config("logs-hyper"))
            .unwrap()
            .with_retry(RetryPolicy::none());
        hyper
            .push("logs", &changes(), &Cursor::EPOCH)
            .await
            .unwrap();
        assert_eq!(hyper.master_key().await.unwrap(), key);
        faults();
        for _ in 0..3 {
            assert!(hyper
                .push("logs", &changes(), &Cursor::EPOCH)
                .await
                .is_err());
        }
        let page = hyper.pull("logs", "items", &Cursor::EPOCH).await.unwrap();
        assert!(!page.server_changes.is_empty());
    });

    let lines = LINES.lock().unwrap().clone();
    if std::env::var_os("SHOW_LOGS").is_some() {
        for l in &lines {
            eprintln!("{l}");
        }
    }
    let (dump, rest): (Vec<&String>, Vec<&String>) =
        lines.iter().partition(|l| l.starts_with(WIRE_DUMP));
    let from_log = rest.iter().filter(|l| l.starts_with("log ")).count();
    eprintln!(
        "captured {from_log} log records, {} tracing events and spans, {} rows of ureq-proto's \
         wire dump",
        rest.len() - from_log,
        dump.len()
    );
    // The capture works: ureq logs its requests at debug level.
    assert!(from_log > 0, "nothing captured from `log`");
    let secrets = [
        ("the token", token.as_bytes()),
        ("the master key", key_b64.as_bytes()),
    ];
    for line in &rest {
        for (what, secret) in secrets {
            let secret = std::str::from_utf8(secret).unwrap();
            assert!(!line.contains(secret), "{what} is logged: {line}");
        }
        let signature = token.rsplit('.').next().unwrap();
        assert!(
            !line.contains(signature),
            "the token's signature is logged: {line}"
        );
    }
    // The one known exception, documented in mana-sync-ureq: at TRACE
    // level ureq-proto dumps every byte on the wire in hex, the
    // `Authorization` header and the vault's answer included. Pinned here
    // so that the documentation is revisited when that changes.
    let wire = wire_bytes(&dump);
    for (what, secret) in secrets {
        assert!(
            wire.windows(secret.len()).any(|w| w == secret),
            "{what} is no longer in ureq-proto's TRACE wire dump: update mana-sync-ureq's docs"
        );
    }
}

/// How ureq-proto's wire dump rows begin.
const WIRE_DUMP: &str = "log TRACE ureq_proto::util: ";

/// The bytes of ureq-proto's dump rows (16 bytes a row, in hex first: "3937
/// 3731 0d0a ...", "--" past the end), in order.
fn wire_bytes(rows: &[&String]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for row in rows {
        let hex: String = row[WIRE_DUMP.len()..]
            .chars()
            .take(40)
            .filter(|c| *c != ' ')
            .collect();
        for pair in hex.as_bytes().chunks(2) {
            let pair = std::str::from_utf8(pair).unwrap();
            if let Ok(b) = u8::from_str_radix(pair, 16) {
                bytes.push(b);
            }
        }
    }
    bytes
}

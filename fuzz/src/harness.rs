//! The bodies of the fuzz targets, shared with the stable test that replays
//! the checked-in corpus (`core/tests/fuzz_corpus.rs` includes this file).
//!
//! Each takes any bytes and must never panic; each also checks what must
//! hold of what it accepts.

use mana_sync_core::crypto::{decrypt_value, MasterKey};
use mana_sync_core::ops::{Pull, PullAll, Push, VaultKey};
use mana_sync_core::sse::{SseDecoder, SseError, SseEvent};
use mana_sync_core::wire::StreamMessage;
use mana_sync_core::{Config, Cursor, Error, Operation, Stamp, Step, Timestamp};

/// The statuses a response input can carry, chosen by its first byte.
pub const STATUSES: [u16; 16] = [
    200, 200, 200, 201, 204, 301, 400, 401, 402, 403, 404, 405, 429, 500, 502, 999,
];

/// Most characters an error may show.
const MAX_SHOWN: usize = 6000;

fn now() -> Timestamp {
    Timestamp::UNIX_EPOCH
}

fn config() -> Option<Config> {
    Config::new("https://sync.example.com", "FUZZ-TOKEN", "fuzz")
        .and_then(|c| c.with_auth_url("https://auth.example.com"))
        .ok()
}

fn response(status: u16, body: &[u8]) -> Option<http::Response<Vec<u8>>> {
    http::Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("location", "https://elsewhere.example.com/")
        .body(body.to_vec())
        .ok()
}

fn check_error(e: &Error) {
    let shown = format!("{e} {e:?}");
    assert!(
        shown.chars().count() <= MAX_SHOWN,
        "{} chars shown",
        shown.chars().count()
    );
    assert!(!shown.contains("FUZZ-TOKEN"), "the token is shown: {shown}");
}

/// Drives `op`, answering every request with the same response, for at most
/// a few steps.
fn drive<O: Operation>(mut op: O, status: u16, body: &[u8]) -> Option<Result<O::Output, Error>> {
    for _ in 0..8 {
        match op.step(now()) {
            Step::Send(_) => op.on_response(now(), Ok(response(status, body)?)),
            Step::Wait(_) => {}
            Step::Done(r) => {
                if let Err(e) = &r {
                    check_error(e);
                }
                return Some(r);
            }
        }
    }
    None
}

/// A response to a pull, a paged pull, a push and a vault fetch: the first
/// byte picks the status, the rest is the body.
pub fn responses(data: &[u8]) {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let status = STATUSES[usize::from(selector) % STATUSES.len()];
    let Some(config) = config() else { return };
    if let Ok(op) = Pull::new(&config, "todo", "tasks", &Cursor::EPOCH) {
        if let Some(Ok(page)) = drive(op, status, body) {
            // Whatever was kept is well formed, and reads back.
            for view in &page.server_changes {
                // The view and the copy agree.
                let change = view.to_change();
                assert!(!change.table.is_empty() && !change.id.is_empty());
                assert_eq!(
                    (
                        &*view.table(),
                        &*view.id(),
                        view.op(),
                        view.event_id().as_deref()
                    ),
                    (
                        change.table.as_str(),
                        change.id.as_str(),
                        change.op.clone(),
                        change.event_id.as_deref()
                    )
                );
                assert_eq!(view.deleted_at(), change.deleted_at);
                assert_eq!(view.schema_version(), change.schema_version);
                let text = serde_json::to_string(&change).unwrap_or_default();
                assert!(
                    serde_json::from_str::<mana_sync_core::Change>(&text).is_ok(),
                    "{text}"
                );
            }
            assert!(Cursor::parse(page.synced_until.as_str()).is_ok());
            for s in &page.skipped {
                assert!(s.reason.chars().count() <= 500);
            }
        }
    }
    if let Ok(op) = PullAll::new(&config, "todo", "tasks", &Cursor::EPOCH) {
        // The same page again and again: it must end (done, or refused for
        // not moving), never loop.
        let _ = drive(op, status, body);
    }
    if let Ok(op) = Push::new(&config, "todo", &[], &Cursor::EPOCH) {
        let _ = drive(op, status, body);
    }
    if let Ok(op) = VaultKey::new(&config) {
        if let Some(Err(e)) = drive(op, status, body) {
            let shown = format!("{e:?}");
            // A key in the body must never be echoed: the value of
            // `"masterKey":"…"`, when it is long enough to be told apart
            // from the rest of the text.
            if let Some(key) = master_key_value(body).filter(|k| k.len() >= 16) {
                assert!(!shown.contains(key), "{shown}");
            }
        }
    }
}

/// The text of a body's first `"masterKey":"…"` value, if any.
fn master_key_value(body: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(body).ok()?;
    let (_, rest) = text.split_once("\"masterKey\":\"")?;
    rest.split('"').next()
}

/// An `enc:1:` value: the first 32 bytes are the key (a fixed one when the
/// input is shorter), the rest the wire text.
pub fn enc(data: &[u8]) {
    let (key, rest) = if data.len() >= 32 {
        data.split_at(32)
    } else {
        (&[7u8; 32][..], data)
    };
    let Ok(key) = MasterKey::from_bytes(key) else {
        return;
    };
    let text = String::from_utf8_lossy(rest).into_owned();
    match decrypt_value(&key, &serde_json::Value::String(text.clone())) {
        Ok(value) => {
            if !text.starts_with("enc:1:") {
                assert_eq!(
                    value,
                    serde_json::Value::String(text),
                    "not encrypted: passed through"
                );
            }
        }
        Err(e) => {
            let shown = format!("{e} {e:?}");
            assert!(shown.chars().count() <= MAX_SHOWN);
        }
    }
}

/// A timestamp or cursor text.
pub fn timestamps(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = Timestamp::parse(text);
    let cursor = Cursor::parse(text);
    assert_eq!(parsed.is_ok(), cursor.is_ok());
    if let Err(e) = &parsed {
        assert!(e.to_string().chars().count() <= 400);
    }
    if let (Ok(t), Ok(c)) = (parsed, cursor) {
        // Go's time.Parse(RFC3339Nano) form: fixed shape, upper case.
        let b = text.as_bytes();
        assert!((20..=35).contains(&b.len()), "{text}");
        assert_eq!(
            (b[4], b[7], b[10], b[13], b[16]),
            (b'-', b'-', b'T', b':', b':'),
            "{text}"
        );
        assert!(
            b.last().is_some_and(|l| *l == b'Z' || l.is_ascii_digit()),
            "{text}"
        );
        assert_eq!(c.as_str(), text);
        assert_eq!(c.timestamp(), t);
        // What this client writes, it reads back at the same instant; an
        // instant before year 0 (a year-0000 text with a positive offset)
        // is written as the start of year 0, as documented: the server
        // holds nothing earlier.
        let year_zero = Timestamp::parse("0000-01-01T00:00:00Z").unwrap_or(Timestamp::UNIX_EPOCH);
        let precise = Cursor::from(t);
        let back = Cursor::parse(precise.as_str()).unwrap_or(Cursor::EPOCH);
        assert_eq!(back.timestamp(), t.max(year_zero), "{text} -> {precise}");
        if t >= year_zero {
            assert!(Timestamp::parse(&t.to_string()).is_ok(), "{t}");
        }
        assert_eq!(Stamp::from_wire(text), Stamp::At(t));
    }
}

/// Everything a decoder makes of `stream` fed in chunks of `sizes` (cycled),
/// the end included, and the id and retry it is left with.
type Decoded = (
    Vec<Result<SseEvent, SseError>>,
    Option<String>,
    Option<std::time::Duration>,
);

fn decode(stream: &[u8], sizes: &[usize], mut decoder: SseDecoder) -> Decoded {
    let mut out = Vec::new();
    let mut rest = stream;
    let mut k = 0;
    while !rest.is_empty() {
        let size = sizes
            .get(k % sizes.len().max(1))
            .copied()
            .unwrap_or(1)
            .max(1);
        let (chunk, tail) = rest.split_at(size.min(rest.len()));
        decoder.feed(chunk);
        out.extend(std::iter::from_fn(|| decoder.next_event()));
        rest = tail;
        k += 1;
    }
    out.extend(std::iter::from_fn(|| decoder.finish()));
    let id = decoder.last_event_id().map(str::to_owned);
    (out, id, decoder.retry())
}

fn check_message(event: &SseEvent) {
    match StreamMessage::from_event(event) {
        Ok(StreamMessage::Changes(batch)) => {
            assert!(Cursor::parse(batch.synced_until.as_str()).is_ok());
            for change in &batch.changes {
                assert!(!change.table.is_empty() && !change.id.is_empty());
                let text = serde_json::to_string(change).unwrap_or_default();
                assert!(
                    serde_json::from_str::<mana_sync_core::Change>(&text).is_ok(),
                    "{text}"
                );
            }
            for s in &batch.skipped {
                assert!(s.reason.chars().count() <= 500);
            }
        }
        Ok(StreamMessage::Heartbeat) => assert_eq!(event.event, "heartbeat"),
        Ok(StreamMessage::Other { event: name }) => assert_eq!(name, event.event),
        Err(e) => check_error(&e),
    }
}

/// A server-sent event stream: the first byte picks how it is cut into
/// chunks, the rest is the stream. However it is cut, the decoder makes the
/// same events of it; under a small bound no event it hands out is over the
/// bound; every event reads as a stream message or fails cleanly. The
/// stream's bytes are also read as the data of one `changes` event.
pub fn sse(data: &[u8]) {
    const SMALL: usize = 64;
    let Some((&seed, stream)) = data.split_first() else {
        return;
    };
    let mut state = u32::from(seed) | 0x100;
    let sizes: Vec<usize> = (0..16)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            usize::try_from(state % 9).unwrap_or(0) + 1
        })
        .collect();
    let whole = decode(stream, &[usize::MAX], SseDecoder::new());
    let chunked = decode(stream, &sizes, SseDecoder::new());
    assert_eq!(whole, chunked, "chunks {sizes:?}");
    for event in whole.0.iter().flatten() {
        check_message(event);
    }
    let small = decode(stream, &sizes, SseDecoder::with_max_event_bytes(SMALL));
    let small_whole = decode(
        stream,
        &[usize::MAX],
        SseDecoder::with_max_event_bytes(SMALL),
    );
    assert_eq!(small, small_whole, "chunks {sizes:?}");
    for event in small.0.iter().flatten() {
        assert!(event.data.len() <= SMALL, "{event:?}");
        check_message(event);
    }
    check_message(&SseEvent {
        event: "changes".into(),
        data: String::from_utf8_lossy(stream).into_owned(),
        id: None,
    });
}

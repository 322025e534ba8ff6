//! [`Push`]: `POST {base}/sync/{appId}`, split to fit the server's limits.

use std::ops::Range;

use http::{Method, Response};
use serde_json::Value;

use crate::endpoint::{authed, check_segment, uri};
use crate::limits::{MAX_CHANGES_PER_PUSH, MAX_REQUEST_BODY_BYTES, PUSH_RESPONSE_CAP};
use crate::response::{decode_page, received};
use crate::{
    Change, Config, Conflict, Cursor, Error, Op, Operation, SkippedChange, Step, SyncResponse,
    Timestamp, TransportError,
};

/// What [`Push`] returns.
#[derive(Debug, Clone, PartialEq)]
pub struct PushOutcome {
    /// Other clients' changes after `since`, oldest first, gathered from
    /// every request of the push.
    pub server_changes: Vec<Change>,
    /// Conflicts the server reported (always none today).
    pub conflicts: Vec<Conflict>,
    /// The last response's `syncedUntil`.
    pub synced_until: Cursor,
    /// How many requests the batch took.
    pub requests: usize,
    /// A response held exactly 5000 changes, the server's cap: there may be
    /// more. Fall back to [`super::PullAll`] per collection.
    pub maybe_truncated: bool,
    /// Changes of the responses dropped as malformed, each with its index in
    /// its response.
    pub skipped: Vec<SkippedChange>,
}

/// Room left in a body for the envelope around the changes: the client id
/// (counted separately), a cursor of up to 64 characters and the punctuation.
const ENVELOPE_BYTES: usize = 160;

enum State {
    Next,
    Awaiting,
    Done(Result<PushOutcome, Error>),
    Finished,
}

/// Pushes a batch of changes, split into requests of at most 200 changes and
/// under 10 MiB of body each, sent one after the other.
///
/// The first request asks for other clients' changes after `since`; each
/// later one after the previous response's `syncedUntil`, so that nothing is
/// returned twice. A failure after some requests were stored is reported as
/// [`Error::PartialPush`], with the range of changes that may be stored: the
/// server stores each change in its own transaction, so a failed request can
/// leave a prefix of its changes stored (a failure in the first request is
/// returned as it is, and may likewise have stored a prefix of it). Push is
/// at-least-once: sending the batch again, or re-sending a request, is safe,
/// since the fold is idempotent and duplicates change no record.
///
/// With the config's plaintext guard on ([`Config::with_guard`]), a change
/// carrying an encrypted field in plaintext is refused the same way
/// ([`Error::PlaintextField`]).
///
/// Every string of every change (table, id, op, field names, values at any
/// depth, stamps, space, actor, origin) is checked for the NUL character,
/// which the server's database refuses with a 500 after storing the changes
/// before it: such a change is refused before anything is sent, naming its
/// index and the path of the string.
///
/// Driven by hand (the facades' `push` does the same):
///
/// ```
/// # use mana_sync_core::surface as mana_sync_ureq;
/// use mana_sync_ureq::ops::Push;
/// use mana_sync_ureq::{Change, Config, Cursor, Operation, Step, Timestamp};
///
/// let config = Config::new("http://localhost:3050", "token", "my-app")?;
/// let now = Timestamp::parse("2026-04-23T11:18:35Z")?;
/// let changes: Vec<Change> = (0..250).map(|i| Change::delete("tasks", format!("t-{i}"), now)).collect();
/// let mut push = Push::new(&config, "todo", &changes, &Cursor::EPOCH)?;
///
/// let mut requests = 0;
/// let outcome = loop {
///     match push.step(now) {
///         Step::Send(request) => {
///             requests += 1;
///             assert_eq!(request.uri().path(), "/sync/todo");
///             let body = r#"{"serverChanges":[],"conflicts":[],"syncedUntil":"2026-04-23T11:18:36.5Z"}"#;
///             let response = http::Response::builder().status(200).body(body.as_bytes().to_vec())?;
///             push.on_response(now, Ok(response));
///         }
///         Step::Wait(_) => unreachable!("no retries here"),
///         Step::Done(result) => break result?,
///     }
/// };
/// assert_eq!((requests, outcome.requests), (2, 2)); // 200 + 50
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Push {
    config: Config,
    app_id: String,
    /// Each change, serialised once.
    encoded: Vec<Vec<u8>>,
    batches: Vec<Range<usize>>,
    next: usize,
    /// The next request's `since`: the last response's `syncedUntil`.
    since: Cursor,
    server_changes: Vec<Change>,
    conflicts: Vec<Conflict>,
    skipped: Vec<SkippedChange>,
    maybe_truncated: bool,
    state: State,
}

impl Push {
    /// A push of `changes` to app `app_id`, asking for others' changes after
    /// `since`. Checks every change first: nothing is sent if one is invalid.
    pub fn new(
        config: &Config,
        app_id: &str,
        changes: &[Change],
        since: &Cursor,
    ) -> Result<Push, Error> {
        check_segment("app id", app_id)?;
        if let Some(guard) = config.guard() {
            crate::guard::check_plaintext(guard, app_id, changes)?;
        }
        let encoded = changes
            .iter()
            .enumerate()
            .map(|(i, change)| encode(i, change))
            .collect::<Result<Vec<_>, _>>()?;
        let room = MAX_REQUEST_BODY_BYTES
            .checked_sub(ENVELOPE_BYTES.saturating_add(json_len(config.client_id())))
            .ok_or_else(|| Error::InvalidConfig {
                reason: "the client id leaves no room in a request body".into(),
            })?;
        let batches = split(&encoded, room, MAX_CHANGES_PER_PUSH)?;
        Ok(Push {
            config: config.clone(),
            app_id: app_id.to_owned(),
            encoded,
            batches,
            next: 0,
            since: since.clone(),
            server_changes: Vec::new(),
            conflicts: Vec::new(),
            skipped: Vec::new(),
            maybe_truncated: false,
            state: State::Next,
        })
    }

    /// How many requests the batch will take.
    pub fn request_count(&self) -> usize {
        self.batches.len()
    }

    fn request(&self, batch: &Range<usize>) -> Result<http::Request<Vec<u8>>, Error> {
        let size: usize = self.encoded[batch.clone()]
            .iter()
            .map(|c| c.len() + 1)
            .sum();
        let mut body =
            Vec::with_capacity(size + ENVELOPE_BYTES + self.config.client_id().len() * 2);
        body.extend_from_slice(b"{\"clientId\":");
        write_json_str(&mut body, self.config.client_id());
        body.extend_from_slice(b",\"since\":");
        write_json_str(&mut body, self.since.as_str());
        body.extend_from_slice(b",\"schemaVersion\":1,\"changes\":[");
        for (i, change) in self.encoded[batch.clone()].iter().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            body.extend_from_slice(change);
        }
        body.extend_from_slice(b"]}");
        let uri = uri(self.config.sync_url(), &["sync", &self.app_id], &[])?;
        authed(&self.config, Method::POST, uri, Some(body))
    }

    /// Changes of the requests the server answered.
    fn stored(&self) -> usize {
        self.batches
            .get(..self.next)
            .unwrap_or_default()
            .iter()
            .map(|b| b.len())
            .sum()
    }

    fn on_ok(&mut self, response: SyncResponse) -> State {
        self.next += 1;
        self.maybe_truncated |= response.server_changes.len() == PUSH_RESPONSE_CAP;
        self.server_changes.extend(response.server_changes);

        self.conflicts.extend(response.conflicts);
        self.skipped.extend(response.skipped);
        self.since = response.synced_until;
        if self.next < self.batches.len() {
            return State::Next;
        }
        State::Done(Ok(PushOutcome {
            server_changes: std::mem::take(&mut self.server_changes),
            conflicts: std::mem::take(&mut self.conflicts),
            synced_until: self.since.clone(),
            requests: self.next,
            maybe_truncated: self.maybe_truncated,
            skipped: std::mem::take(&mut self.skipped),
        }))
    }

    fn on_err(&self, error: Error) -> State {
        let stored_at_least = self.stored();
        if stored_at_least == 0 {
            return State::Done(Err(error));
        }
        let failed = self.batches.get(self.next).map_or(0, |b| b.len());
        let stored_at_most = stored_at_least.saturating_add(perhaps_stored(&error, failed));
        State::Done(Err(Error::PartialPush {
            stored_at_least,
            stored_at_most,
            total: self.encoded.len(),
            cause: Box::new(error),
        }))
    }
}

/// How many of a failed request's `sent` changes the server may have stored,
/// each in its own transaction: none when it refused the request (a 4xx
/// comes before any change is stored), all but one when it says a change
/// failed, all of them when the answer was lost.
fn perhaps_stored(error: &Error, sent: usize) -> usize {
    match error {
        e if e.status().is_some_and(|s| (400..500).contains(&s)) => 0,
        Error::Server { body, .. } if body.starts_with("failed to record change") => {
            sent.saturating_sub(1)
        }
        _ => sent,
    }
}

impl Operation for Push {
    type Output = PushOutcome;

    fn step(&mut self, _now: Timestamp) -> Step<PushOutcome> {
        match std::mem::replace(&mut self.state, State::Finished) {
            State::Next => match self.batches.get(self.next).map(|b| self.request(b)) {
                Some(Ok(request)) => {
                    self.state = State::Awaiting;
                    Step::Send(request)
                }
                Some(Err(e)) => Step::Done(Err(e)),
                None => Step::Done(Err(Error::Misuse {
                    reason: "no batch left to send",
                })),
            },
            State::Awaiting => {
                self.state = State::Awaiting;
                Step::Done(Err(Error::Misuse {
                    reason: "step called before the response to the last request was delivered",
                }))
            }
            State::Done(result) => Step::Done(result),
            State::Finished => Step::Done(Err(Error::Misuse {
                reason: "step called after the operation finished",
            })),
        }
    }

    fn on_response(
        &mut self,
        _now: Timestamp,
        response: Result<Response<Vec<u8>>, TransportError>,
    ) {
        self.state = match self.state {
            State::Awaiting => {
                match received(response).and_then(|r| decode_page(r, "push response")) {
                    Ok(r) => self.on_ok(r),
                    Err(e) => self.on_err(e),
                }
            }
            _ => State::Done(Err(Error::Misuse {
                reason: "a response was delivered but no request was outstanding",
            })),
        };
    }
}

/// Checks a change as the server would, and serialises it.
fn encode(index: usize, change: &Change) -> Result<Vec<u8>, Error> {
    let invalid = |why: String| Error::InvalidRequest {
        reason: format!(
            "change {index} ({:?}/{:?}): {why}",
            shown(&change.table),
            shown(&change.id)
        ),
    };
    if change.table.is_empty() || change.id.is_empty() {
        return Err(invalid("the table and the id must not be empty".into()));
    }
    if let Op::Other(op) = &change.op {
        return Err(invalid(format!(
            "op {:?} is not insert, update or delete",
            shown(op)
        )));
    }
    if matches!(change.schema_version, Some(v) if v > 1) {
        return Err(invalid("the server accepts schemaVersion 1 at most".into()));
    }
    // At most MAX_DEPTH levels, the change counted: what the server sends
    // back of it must read.
    let value = crate::depth::to_value_within(change)
        .map_err(|e| invalid(format!("cannot be written as JSON: {e}")))?;
    if let Some(path) = nul_path(&value) {
        return Err(invalid(format!(
            "a NUL character (\\u0000) in `{}`; the server cannot store it",
            shown(&path)
        )));
    }
    serde_json::to_vec(&value).map_err(|e| invalid(format!("cannot be written as JSON: {e}")))
}

/// A text as it may be shown in an error: at most 100 characters.
fn shown(text: &str) -> String {
    text.chars().take(100).collect()
}

/// The path of the first string (a value or a member name) holding a NUL
/// character, e.g. `data.notes[2].text`, or `data.a\u0000b (the name)`.
///
/// Depth first with an explicit stack; each element costs one small entry
/// (a link to its parent), and the path is written only for the string
/// found: time and memory linear in the value, whatever its depth.
fn nul_path(value: &Value) -> Option<String> {
    enum Step<'v> {
        Root,
        Index(usize),
        Name(&'v str),
    }
    // Each element seen: its parent's entry and its step from there.
    let mut steps: Vec<(usize, Step<'_>)> = vec![(0, Step::Root)];
    let mut todo: Vec<(usize, &Value)> = vec![(0, value)];
    let path_of = |steps: &[(usize, Step<'_>)], mut at: usize| {
        let mut chain = Vec::new();
        while at != 0 {
            let Some((parent, step)) = steps.get(at) else {
                break;
            };
            chain.push(step);
            at = *parent;
        }
        let mut path = String::new();
        for step in chain.into_iter().rev() {
            match step {
                Step::Index(i) => path.push_str(&format!("[{i}]")),
                Step::Name(name) => {
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(&name.replace('\0', "\\u0000"));
                }
                Step::Root => {}
            }
        }
        path
    };
    while let Some((at, v)) = todo.pop() {
        if let Some((_, Step::Name(name))) = steps.get(at) {
            if name.contains('\0') {
                return Some(format!("{} (the name)", path_of(&steps, at)));
            }
        }
        match v {
            Value::String(s) if s.contains('\0') => {
                return Some(if at == 0 {
                    "(the value)".into()
                } else {
                    path_of(&steps, at)
                });
            }
            Value::Array(items) => {
                let first = steps.len();
                steps.extend((0..items.len()).map(|i| (at, Step::Index(i))));
                todo.extend(
                    items
                        .iter()
                        .enumerate()
                        .rev()
                        .map(|(i, item)| (first.saturating_add(i), item)),
                );
            }
            Value::Object(members) => {
                let first = steps.len();
                steps.extend(members.keys().map(|name| (at, Step::Name(name.as_str()))));
                todo.extend(
                    members
                        .values()
                        .enumerate()
                        .rev()
                        .map(|(i, item)| (first.saturating_add(i), item)),
                );
            }
            _ => {}
        }
    }
    None
}

/// Packs changes, in order, into as few batches as the limits allow.
fn split(encoded: &[Vec<u8>], room: usize, max_changes: usize) -> Result<Vec<Range<usize>>, Error> {
    let mut batches = Vec::new();
    let mut start = 0;
    let mut size = 0;
    for (i, change) in encoded.iter().enumerate() {
        let len = change.len() + 1; // the comma
        if len > room {
            return Err(Error::InvalidRequest {
                reason: format!(
                    "change {i} is {} bytes of JSON; the server takes at most {MAX_REQUEST_BODY_BYTES} \
                     bytes a request, so it can never be pushed",
                    change.len()
                ),
            });
        }
        if i > start && (i - start == max_changes || size + len > room) {
            batches.push(start..i);
            start = i;
            size = 0;
        }
        size += len;
    }
    // An empty batch still makes one request: it fetches others' changes.
    batches.push(start..encoded.len());
    Ok(batches)
}

fn json_len(s: &str) -> usize {
    let mut v = Vec::new();
    write_json_str(&mut v, s);
    v.len()
}

fn write_json_str(out: &mut Vec<u8>, s: &str) {
    // Writing a str to a Vec cannot fail.
    let _ = serde_json::to_writer(out, s);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_is_refused_with_its_path() {
        let nul = "a\u{0}b";
        let mut data = serde_json::Map::new();
        data.insert("ok".into(), Value::from("fine"));
        data.insert(
            "notes".into(),
            serde_json::json!([{"text": "x"}, {"text": nul}]),
        );
        let cases: Vec<(Change, &str)> = vec![
            (Change::insert("tasks", "t-1", data), "data.notes[1].text"),
            (Change::insert("tasks", nul, serde_json::Map::new()), "id"),
            (Change::insert(nul, "t-1", serde_json::Map::new()), "table"),
            (
                Change::update("tasks", "t-1").with_field(nul, 1, Timestamp::UNIX_EPOCH),
                "fields.a\\u0000b (the name)",
            ),
            (
                Change::update("tasks", "t-1").with_field("x", nul, Timestamp::UNIX_EPOCH),
                "fields.x.value",
            ),
            (
                Change::hard_delete("tasks", "t-1").with_space(nul),
                "spaceId",
            ),
            (
                Change::hard_delete("tasks", "t-1").with_actor(serde_json::json!({"k": [nul]})),
                "actor.k[0]",
            ),
            (
                Change::hard_delete("tasks", "t-1").with_origin(crate::Origin::Other(nul.into())),
                "origin",
            ),
        ];
        for (i, (change, path)) in cases.into_iter().enumerate() {
            let err = encode(i, &change).unwrap_err().to_string();
            assert!(err.contains(&format!("change {i} ")), "{err}");
            assert!(err.contains(&format!("`{path}`")), "{path}: {err}");
            assert!(!err.contains('\0'), "{err}");
        }
        assert!(encode(0, &Change::hard_delete("tasks", "t-1")).is_ok());
    }

    #[test]
    fn what_a_failed_request_may_have_stored() {
        let server = |body: &str| Error::Server {
            status: 500,
            body: body.into(),
        };
        assert_eq!(
            perhaps_stored(&server("failed to record change: x"), 200),
            199
        );
        assert_eq!(perhaps_stored(&server("internal error"), 200), 200);
        assert_eq!(
            perhaps_stored(
                &Error::BadRequest {
                    message: "x".into()
                },
                200
            ),
            0
        );
        assert_eq!(
            perhaps_stored(&Error::Transport(TransportError::message("reset")), 200),
            200
        );
        assert_eq!(perhaps_stored(&server("failed to record change: x"), 0), 0);
    }

    #[test]
    fn split_respects_both_limits() {
        let changes: Vec<Vec<u8>> = (0..450).map(|_| vec![b'x'; 10]).collect();
        let b = split(&changes, 1_000_000, 200).unwrap();
        assert_eq!(b, vec![0..200, 200..400, 400..450]);
        let b = split(&changes, 55, 200).unwrap();
        assert!(b.iter().all(|r| r.len() == 5));
        assert_eq!(split(&[], 10, 200).unwrap(), vec![0..0]);
        assert!(split(&[vec![b'x'; 100]], 50, 200).is_err());
    }
}

//! [`Push`]: `POST {base}/sync/{appId}`, split to fit the server's limits.

use std::ops::Range;

use http::{Method, Response};

use crate::endpoint::{authed, check_segment, uri};
use crate::limits::{MAX_CHANGES_PER_PUSH, MAX_REQUEST_BODY_BYTES, PUSH_RESPONSE_CAP};
use crate::response::{decode, received};
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
/// [`Error::PartialPush`] (push is at-least-once; sending the batch again is
/// safe).
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

    fn stored(&self) -> usize {
        self.batches[..self.next].iter().map(|b| b.len()).sum()
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
        let stored = self.stored();
        if stored == 0 {
            return State::Done(Err(error));
        }
        State::Done(Err(Error::PartialPush {
            stored,
            total: self.encoded.len(),
            source: Box::new(error),
        }))
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
            State::Awaiting => match received(response).and_then(|r| decode(&r, "push response")) {
                Ok(r) => self.on_ok(r),
                Err(e) => self.on_err(e),
            },
            _ => State::Done(Err(Error::Misuse {
                reason: "a response was delivered but no request was outstanding",
            })),
        };
    }
}

/// Checks a change as the server would, and serialises it.
fn encode(index: usize, change: &Change) -> Result<Vec<u8>, Error> {
    let invalid = |why: String| Error::InvalidRequest {
        reason: format!("change {index} ({}/{}): {why}", change.table, change.id),
    };
    if change.table.is_empty() || change.id.is_empty() {
        return Err(invalid("the table and the id must not be empty".into()));
    }
    if let Op::Other(op) = &change.op {
        return Err(invalid(format!(
            "op {op:?} is not insert, update or delete"
        )));
    }
    if matches!(change.schema_version, Some(v) if v > 1) {
        return Err(invalid("the server accepts schemaVersion 1 at most".into()));
    }
    serde_json::to_vec(change).map_err(|e| invalid(format!("cannot be written as JSON: {e}")))
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

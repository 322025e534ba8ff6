//! Server-Sent Events, decoded incrementally: bytes in any chunking in,
//! [`SseEvent`]s out ([`SseDecoder`]).
//!
//! The decoder follows the WHATWG "event stream" parsing rules: `\r\n`, `\r`
//! and `\n` end lines (a `\r\n` split across two chunks included), a leading
//! UTF-8 byte order mark is skipped, `:` lines are comments, `field: value`
//! loses one optional space after the colon, `data` lines are joined with
//! `\n`, and a blank line dispatches the event (an event whose data is empty
//! is not dispatched). Two departures, both for a client that must not be
//! fooled:
//!
//! * the bytes held for one event (its `data` and `event` so far plus the
//!   line being read) are bounded: an event over the bound is skipped with
//!   [`SseError::EventTooLarge`], and decoding resumes after the next blank
//!   line. A server sending an endless line never makes the decoder hold
//!   more than the bound (plus the chunk being read);
//! * a `data`, `event` or `id` value that is not UTF-8 makes its event
//!   [`SseError::InvalidUtf8`] (skipped the same way) instead of being
//!   silently replaced with U+FFFD, which would corrupt the JSON it carries.
//!
//! And one extension: [`SseDecoder::finish`] delivers a final event that the
//! stream ended without its blank line (the spec drops it).

use std::collections::VecDeque;
use std::time::Duration;

/// The default bound on one event: 16 MiB.
const DEFAULT_MAX_EVENT_BYTES: usize = 16 * 1024 * 1024;

/// The UTF-8 byte order mark, skipped once at the start of a stream.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The event type: the last `event:` value of the event, or `"message"`
    /// when there was none (or it was empty).
    pub event: String,
    /// The `data:` values joined with `\n`.
    pub data: String,
    /// The stream's last event id when the event was dispatched (as the
    /// browser's `lastEventId`: an `id:` stays in force for later events
    /// until another `id:` changes it); `None` while it is empty.
    pub id: Option<String>,
}

/// Why an event was skipped. Decoding goes on after the next blank line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SseError {
    /// The event (its data and type so far, plus the line being read) grew
    /// past the bound; its bytes were dropped.
    #[error("a server-sent event is larger than the {limit}-byte bound; it was skipped")]
    EventTooLarge {
        /// The bound, in bytes.
        limit: usize,
    },
    /// A `data`, `event` or `id` value was not valid UTF-8.
    #[error("a server-sent event holds bytes that are not UTF-8; it was skipped")]
    InvalidUtf8,
}

/// Decodes a `text/event-stream` body incrementally, with no I/O.
///
/// Feed it the body's chunks as they arrive, whatever their size, and after
/// each [`feed`](Self::feed) take events with [`next_event`](Self::next_event)
/// until it answers `None`; at the end of the body call
/// [`finish`](Self::finish) until it answers `None`. Any chunking of the same
/// bytes gives the same events. Each byte is looked at a bounded number of
/// times, so the time is linear in the bytes fed; the memory held is the
/// bytes fed and not yet drained plus at most the event bound. No input makes
/// it panic.
///
/// ```
/// # use mana_sync_core::surface as mana_sync_ureq;
/// use mana_sync_ureq::sse::SseDecoder;
///
/// let mut decoder = SseDecoder::new();
/// let mut events = Vec::new();
/// for chunk in ["event: chan", "ges\r", "\ndata: {\"a\":1}\r\n\r\n: keep-alive\n", "data: tail"] {
///     decoder.feed(chunk.as_bytes());
///     while let Some(event) = decoder.next_event() {
///         events.push(event?);
///     }
/// }
/// while let Some(event) = decoder.finish() {
///     events.push(event?);
/// }
/// assert_eq!(events.len(), 2);
/// assert_eq!((events[0].event.as_str(), events[0].data.as_str()), ("changes", "{\"a\":1}"));
/// assert_eq!((events[1].event.as_str(), events[1].data.as_str()), ("message", "tail"));
/// # Ok::<(), mana_sync_ureq::sse::SseError>(())
/// ```
///
/// After `finish` has answered `None`, the next `feed` starts a new stream
/// (a reconnection): [`last_event_id`](Self::last_event_id) and
/// [`retry`](Self::retry) carry over, as in a browser's `EventSource` (a
/// `feed` before that drops what `finish` had not handed out yet).
#[derive(Debug, Clone)]
pub struct SseDecoder {
    /// Bytes fed and not yet decoded: `input[pos..]`.
    input: Vec<u8>,
    pos: usize,
    /// The start of a line whose end has not arrived yet (bounded).
    line: Vec<u8>,
    /// The last line ended with `\r`: a `\n` right after it belongs to it.
    after_cr: bool,
    /// Whether the start of the stream was checked for a byte order mark.
    bom_checked: bool,
    /// Skipping the rest of an event that failed, up to the next blank line.
    skipping: bool,
    /// The line being read had bytes that were dropped (while skipping), so
    /// its end is not a blank line.
    line_dropped: bool,
    /// The stream ended ([`finish`](Self::finish) was called).
    ended: bool,
    /// After the end, the last event was flushed.
    flushed: bool,
    fields: Fields,
    max_event_bytes: usize,
}

/// What the lines of the current event have set so far.
#[derive(Debug, Clone, Default)]
struct Fields {
    data: String,
    event: String,
    /// The last event id buffer (kept from event to event).
    id_buffer: String,
    /// The last event id, committed at each blank line.
    last_event_id: String,
    retry: Option<Duration>,
    /// Events (or errors) ready to hand out: a step of decoding queues at
    /// most one, and `next_event` stops decoding as soon as there is one.
    ready: VecDeque<Result<SseEvent, SseError>>,
}

impl Default for SseDecoder {
    fn default() -> Self {
        SseDecoder::new()
    }
}

impl SseDecoder {
    /// A decoder at the start of a stream, bounding one event to 16 MiB.
    pub fn new() -> Self {
        SseDecoder::with_max_event_bytes(DEFAULT_MAX_EVENT_BYTES)
    }

    /// A decoder bounding one event (its data and type, plus the line being
    /// read) to `max` bytes.
    pub fn with_max_event_bytes(max: usize) -> Self {
        SseDecoder {
            input: Vec::new(),
            pos: 0,
            line: Vec::new(),
            after_cr: false,
            bom_checked: false,
            skipping: false,
            line_dropped: false,
            ended: false,
            flushed: false,
            fields: Fields::default(),
            max_event_bytes: max,
        }
    }

    /// Takes the next chunk of the body. Drain [`next_event`](Self::next_event)
    /// after each call: the decoder keeps the chunk until then.
    pub fn feed(&mut self, chunk: &[u8]) {
        if self.ended {
            self.restart();
        }
        // Decoded bytes are dropped; when the caller did not drain, the
        // rest moves only once it is at most half the buffer (amortised
        // linear).
        if self.pos >= self.input.len() {
            self.input.clear();
            self.pos = 0;
        } else if self.pos >= self.input.len() / 2 {
            self.input.drain(..self.pos);
            self.pos = 0;
        }
        self.input.extend_from_slice(chunk);
    }

    /// The next event the bytes fed so far complete, or an error for an
    /// event that was skipped; `None` when more bytes are needed.
    pub fn next_event(&mut self) -> Option<Result<SseEvent, SseError>> {
        loop {
            if let Some(ready) = self.fields.ready.pop_front() {
                return Some(ready);
            }
            if !self.step() {
                return None;
            }
        }
    }

    /// Ends the stream: decodes what is left, then delivers a last event the
    /// stream ended without its blank line. Call it until it answers `None`
    /// (after draining [`next_event`](Self::next_event), it answers at most
    /// one event).
    pub fn finish(&mut self) -> Option<Result<SseEvent, SseError>> {
        self.ended = true;
        self.next_event()
    }

    /// The last event id the stream set (committed at the end of each
    /// event), to send back as `Last-Event-ID`; `None` when empty.
    pub fn last_event_id(&self) -> Option<&str> {
        Some(self.fields.last_event_id.as_str()).filter(|id| !id.is_empty())
    }

    /// The reconnection time of the last valid `retry:` line, if any.
    pub fn retry(&self) -> Option<Duration> {
        self.fields.retry
    }

    /// The bound on one event, in bytes.
    pub fn max_event_bytes(&self) -> usize {
        self.max_event_bytes
    }

    /// Forgets the stream that ended, keeping the last event id and retry.
    fn restart(&mut self) {
        let fields = std::mem::take(&mut self.fields);
        *self = SseDecoder::with_max_event_bytes(self.max_event_bytes);
        self.fields.id_buffer = fields.last_event_id.clone();
        self.fields.last_event_id = fields.last_event_id;
        self.fields.retry = fields.retry;
    }

    /// Decodes one line (or the rest of the input, when it holds no line
    /// end). Returns `false` when there is nothing more to do for now.
    fn step(&mut self) -> bool {
        if self.flushed {
            return false;
        }
        let rest = self.input.get(self.pos..).unwrap_or_default();
        if !self.bom_checked {
            let n = rest.len().min(BOM.len());
            if n < BOM.len() && rest.get(..n) == BOM.get(..n) && !self.ended {
                return false; // perhaps a byte order mark: wait for more
            }
            self.bom_checked = true;
            if rest.starts_with(BOM) {
                self.pos = self.pos.saturating_add(BOM.len());
            }
            return true;
        }
        if self.after_cr {
            match rest.first() {
                Some(b'\n') => self.pos = self.pos.saturating_add(1),
                Some(_) => {}
                None if self.ended => {}
                None => return false,
            }
            self.after_cr = false;
            return true;
        }
        let (part, line_end) = match rest.iter().position(|&b| b == b'\n' || b == b'\r') {
            Some(end) => (rest.get(..end).unwrap_or_default(), rest.get(end).copied()),
            None if self.ended => (rest, None),
            None => {
                if self.skipping {
                    self.line_dropped |= !rest.is_empty();
                } else if self.fits(rest.len()) {
                    self.line.extend_from_slice(rest);
                } else {
                    self.overflow();
                    self.line_dropped = true;
                }
                self.pos = self.input.len();
                return false;
            }
        };
        let consumed = part.len().saturating_add(usize::from(line_end.is_some()));
        if line_end.is_none() && part.is_empty() && self.line.is_empty() && !self.line_dropped {
            // The stream ended after a line end: the event so far is
            // complete, as if a blank line followed.
            self.flushed = true;
            if std::mem::take(&mut self.skipping) {
                commit_id(&mut self.fields);
            } else {
                dispatch(&mut self.fields);
            }
            return true;
        }
        if self.line.is_empty() {
            line_ended(
                &mut self.fields,
                &mut self.skipping,
                self.line_dropped,
                part,
                self.max_event_bytes,
            );
        } else if self.fits(part.len()) {
            self.line.extend_from_slice(part);
            line_ended(
                &mut self.fields,
                &mut self.skipping,
                false,
                &self.line,
                self.max_event_bytes,
            );
        } else {
            self.overflow();
        }
        self.line.clear();
        self.line_dropped = false;
        self.after_cr = line_end == Some(b'\r');
        self.pos = self.pos.saturating_add(consumed);
        true
    }

    /// Whether `more` bytes of the current line keep the event within the
    /// bound.
    fn fits(&self, more: usize) -> bool {
        self.line
            .len()
            .saturating_add(more)
            .saturating_add(self.fields.pending_len())
            <= self.max_event_bytes
    }

    /// The event grew past the bound: report it, drop it, skip to the next
    /// blank line.
    fn overflow(&mut self) {
        self.line = Vec::new();
        self.fields.fail(SseError::EventTooLarge {
            limit: self.max_event_bytes,
        });
        self.skipping = true;
    }
}

impl Fields {
    /// The bytes the current event holds.
    fn pending_len(&self) -> usize {
        self.data.len().saturating_add(self.event.len())
    }

    /// Skips the current event, reporting why.
    fn fail(&mut self, error: SseError) {
        self.data = String::new();
        self.event = String::new();
        self.ready.push_back(Err(error));
    }
}

/// A complete line (without its end) was read.
fn line_ended(fields: &mut Fields, skipping: &mut bool, dropped: bool, line: &[u8], max: usize) {
    if line.is_empty() && !dropped {
        if std::mem::take(skipping) {
            commit_id(fields); // the end of a failed event: nothing to deliver
        } else {
            dispatch(fields);
        }
        return;
    }
    if *skipping {
        return;
    }
    if line.len().saturating_add(fields.pending_len()) > max {
        fields.fail(SseError::EventTooLarge { limit: max });
        *skipping = true;
        return;
    }
    if let Err(e) = apply(fields, line) {
        fields.fail(e);
        *skipping = true;
    }
}

/// Applies one non-blank line to the event.
fn apply(fields: &mut Fields, line: &[u8]) -> Result<(), SseError> {
    if line.first() == Some(&b':') {
        return Ok(()); // a comment
    }
    let (name, value) = match line.iter().position(|&b| b == b':') {
        Some(colon) => {
            let value = line.get(colon.saturating_add(1)..).unwrap_or_default();
            let value = value.strip_prefix(b" ").unwrap_or(value);
            (line.get(..colon).unwrap_or_default(), value)
        }
        None => (line, &[][..]),
    };
    let text = || std::str::from_utf8(value).map_err(|_| SseError::InvalidUtf8);
    match name {
        b"data" => {
            fields.data.push_str(text()?);
            fields.data.push('\n');
        }
        b"event" => {
            let event = text()?;
            fields.event.clear();
            fields.event.push_str(event);
        }
        b"id" if !value.contains(&0) => {
            let id = text()?;
            fields.id_buffer.clear();
            fields.id_buffer.push_str(id);
        }
        b"retry" => {
            fields.retry = retry_millis(value)
                .map(Duration::from_millis)
                .or(fields.retry)
        }
        _ => {} // an unknown field is ignored
    }
    Ok(())
}

/// A `retry:` value: ASCII digits only, else (or when too large for u64)
/// `None`, and the line is ignored.
fn retry_millis(value: &[u8]) -> Option<u64> {
    if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(value).ok()?.parse().ok()
}

/// The end of an event makes its last event id the stream's.
fn commit_id(fields: &mut Fields) {
    fields.last_event_id.clone_from(&fields.id_buffer);
}

/// A blank line: the event is complete.
fn dispatch(fields: &mut Fields) {
    commit_id(fields);
    let mut data = std::mem::take(&mut fields.data);
    let event = std::mem::take(&mut fields.event);
    if data.is_empty() {
        return;
    }
    data.pop(); // the `\n` after the last data line
    fields.ready.push_back(Ok(SseEvent {
        event: if event.is_empty() {
            "message".to_owned()
        } else {
            event
        },
        data,
        id: Some(fields.last_event_id.clone()).filter(|id| !id.is_empty()),
    }));
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use proptest::prelude::*;

    use super::*;

    type Out = Vec<Result<SseEvent, SseError>>;

    /// Feeds `chunks` in order, draining after each, then finishes.
    fn decode_with(decoder: &mut SseDecoder, chunks: &[&[u8]]) -> Out {
        let mut out = Vec::new();
        for chunk in chunks {
            decoder.feed(chunk);
            while let Some(e) = decoder.next_event() {
                out.push(e);
            }
            assert!(decoder.line.len() <= decoder.max_event_bytes);
            assert!(decoder.fields.pending_len() <= decoder.max_event_bytes);
        }
        while let Some(e) = decoder.finish() {
            out.push(e);
        }
        assert!(decoder.finish().is_none());
        out
    }

    fn decode(chunks: &[&[u8]]) -> Out {
        decode_with(&mut SseDecoder::new(), chunks)
    }

    fn whole(stream: &str) -> Out {
        decode(&[stream.as_bytes()])
    }

    fn bytewise(stream: &[u8], max: usize) -> Out {
        let chunks: Vec<&[u8]> = stream.chunks(1).collect();
        decode_with(&mut SseDecoder::with_max_event_bytes(max), &chunks)
    }

    fn ev(event: &str, data: &str, id: Option<&str>) -> Result<SseEvent, SseError> {
        Ok(SseEvent {
            event: event.into(),
            data: data.into(),
            id: id.map(Into::into),
        })
    }

    fn msg(data: &str) -> Result<SseEvent, SseError> {
        ev("message", data, None)
    }

    #[test]
    fn every_line_end_ends_a_line() {
        let want = vec![ev("a", "1", None), ev("b", "2", None), ev("c", "3", None)];
        for end in ["\n", "\r", "\r\n"] {
            let s = format!("event: a{end}data: 1{end}{end}event: b{end}data: 2{end}{end}event: c{end}data: 3{end}{end}");
            assert_eq!(whole(&s), want, "{end:?}");
            assert_eq!(bytewise(s.as_bytes(), 100), want, "{end:?}");
        }
        let mixed = "event: a\r\ndata: 1\r\revent: b\ndata: 2\n\r\nevent: c\rdata: 3\n\n";
        assert_eq!(whole(mixed), want);
        assert_eq!(bytewise(mixed.as_bytes(), 100), want);
    }

    #[test]
    fn a_crlf_split_across_chunks_is_one_line_end() {
        let chunks: [&[u8]; 4] = [b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"];
        assert_eq!(decode(&chunks), vec![msg("a\nb")]);
        // A `\r` then a `\r` in the next chunk is two line ends: a blank line.
        let chunks: [&[u8]; 3] = [b"data: a\r", b"\rdata: b\r", b"\r"];
        assert_eq!(decode(&chunks), vec![msg("a"), msg("b")]);
        // A `\r` at the very end of a chunk and then nothing more.
        let chunks: [&[u8]; 2] = [b"data: a\r\r", b""];
        assert_eq!(decode(&chunks), vec![msg("a")]);
    }

    #[test]
    fn one_leading_byte_order_mark_is_skipped() {
        let s = "\u{feff}data: x\n\n";
        assert_eq!(whole(s), vec![msg("x")]);
        assert_eq!(bytewise(s.as_bytes(), 100), vec![msg("x")]);
        // Only at the start: a second one is part of the field name.
        let s = "\u{feff}\u{feff}data: x\n\ndata: y\n\n";
        assert_eq!(whole(s), vec![msg("y")]);
        // Part of a byte order mark is not one: its bytes stay.
        assert_eq!(decode(&[b"\xEF\xBB", b"data: x\n\n"]), vec![]);
        assert_eq!(decode(&[b"\xEF", b"\n", b"data: x\n\n"]), vec![msg("x")]);
        // A stream that is only part of one.
        assert_eq!(decode(&[b"\xEF\xBB"]), vec![]);
    }

    #[test]
    fn comments_and_unknown_fields_are_ignored() {
        let s = ": hello\n:\ndata: a\nfoo: bar\n: data: b\nDATA: c\ndata : d\n\n";
        assert_eq!(whole(s), vec![msg("a")]);
        // A comment alone is no event.
        assert_eq!(whole(": keep-alive\n\n"), vec![]);
    }

    #[test]
    fn one_space_after_the_colon_is_removed() {
        let s = "data:a\n\ndata: b\n\ndata:  c\n\ndata\n\ndata:\n\ndata: x:y\n\n";
        assert_eq!(
            whole(s),
            vec![msg("a"), msg("b"), msg(" c"), msg(""), msg(""), msg("x:y")]
        );
    }

    #[test]
    fn data_lines_join_with_newlines() {
        let s = "data: one\ndata\ndata: three\n\ndata\ndata\n\n";
        assert_eq!(whole(s), vec![msg("one\n\nthree"), msg("\n")]);
    }

    #[test]
    fn event_types_last_one_event_only() {
        let s = "event: a\nevent: changes\ndata: 1\n\ndata: 2\n\nevent:\ndata: 3\n\nevent: gone\n\ndata: 4\n\n";
        assert_eq!(
            whole(s),
            vec![ev("changes", "1", None), msg("2"), msg("3"), msg("4")]
        );
    }

    #[test]
    fn ids_stay_until_changed_and_commit_at_the_blank_line() {
        let mut d = SseDecoder::new();
        d.feed(b"id: 1\ndata: a\n\ndata: b\n\nid: 2\n");
        assert_eq!(d.next_event(), Some(ev("message", "a", Some("1"))));
        assert_eq!(d.next_event(), Some(ev("message", "b", Some("1"))));
        assert_eq!(d.next_event(), None);
        assert_eq!(d.last_event_id(), Some("1"), "committed at the blank line");
        d.feed(b"\n");
        assert_eq!(d.next_event(), None, "no data: no event");
        assert_eq!(d.last_event_id(), Some("2"));
        d.feed(b"id: x\0y\ndata: c\n\nid\ndata: d\n\n");
        assert_eq!(
            d.next_event(),
            Some(ev("message", "c", Some("2"))),
            "NUL: ignored"
        );
        assert_eq!(
            d.next_event(),
            Some(ev("message", "d", None)),
            "empty id resets"
        );
        assert_eq!(d.last_event_id(), None);
    }

    #[test]
    fn retry_takes_digits_only() {
        let mut d = SseDecoder::new();
        assert_eq!(d.retry(), None);
        for (line, want) in [
            ("retry: 3000\n", Some(3000)),
            ("retry: 12a\n", Some(3000)),
            ("retry:\n", Some(3000)),
            ("retry: -5\n", Some(3000)),
            ("retry:  5\n", Some(3000)),
            ("retry: 99999999999999999999999\n", Some(3000)),
            ("retry:0\n", Some(0)),
            ("retry: 0042\n", Some(42)),
        ] {
            d.feed(line.as_bytes());
            assert_eq!(d.next_event(), None);
            assert_eq!(d.retry(), want.map(Duration::from_millis), "{line:?}");
        }
    }

    #[test]
    fn finish_delivers_an_event_without_its_blank_line() {
        for tail in ["", "\n", "\r", "\r\n"] {
            let s = format!("data: a\n\nevent: e\ndata: b{tail}");
            assert_eq!(whole(&s), vec![msg("a"), ev("e", "b", None)], "{tail:?}");
            assert_eq!(
                bytewise(s.as_bytes(), 100),
                vec![msg("a"), ev("e", "b", None)]
            );
        }
        assert_eq!(whole(""), vec![]);
        assert_eq!(whole("data: a\n\n"), vec![msg("a")]);
        assert_eq!(whole("event: a\n"), vec![]);
        assert_eq!(whole(": comment"), vec![]);
        let mut d = SseDecoder::new();
        d.feed(b"data: a\n\ndata: b\n\ndata: c");
        // Not drained: finish hands out everything, in order.
        assert_eq!(d.finish(), Some(msg("a")));
        assert_eq!(d.finish(), Some(msg("b")));
        assert_eq!(d.finish(), Some(msg("c")));
        assert_eq!(d.finish(), None);
        assert_eq!(d.next_event(), None);
    }

    #[test]
    fn a_new_stream_after_finish_keeps_the_id_and_retry() {
        let mut d = SseDecoder::new();
        d.feed(b"retry: 10\nid: 7\ndata: a\n\ndata: cut");
        assert_eq!(d.next_event(), Some(ev("message", "a", Some("7"))));
        assert_eq!(d.finish(), Some(ev("message", "cut", Some("7"))));
        assert_eq!(d.finish(), None);
        d.feed(b"\xEF\xBB\xBFdata: b\n\n");
        assert_eq!(d.next_event(), Some(ev("message", "b", Some("7"))));
        assert_eq!(d.retry(), Some(Duration::from_millis(10)));
        assert_eq!(d.last_event_id(), Some("7"));
    }

    #[test]
    fn an_endless_line_fails_within_the_bound_and_decoding_recovers() {
        let max = 1000;
        let mut d = SseDecoder::with_max_event_bytes(max);
        d.feed(b"data: ok\n\nid: 5\ndata: ");
        assert_eq!(d.next_event(), Some(msg("ok")));
        let mut errors = 0;
        for _ in 0..10_000 {
            d.feed(&[b'x'; 100]);
            while let Some(e) = d.next_event() {
                assert_eq!(e, Err(SseError::EventTooLarge { limit: max }));
                errors += 1;
            }
            assert!(d.line.capacity() <= 2 * max && d.input.capacity() <= 2 * max);
        }
        assert_eq!(errors, 1, "one error per event");
        // The end of the line is not a blank line; the next blank line is.
        d.feed(b"\ndata: lost\n\ndata: next\n\n");
        assert_eq!(d.next_event(), Some(ev("message", "next", Some("5"))));
        assert_eq!(d.next_event(), None);
    }

    #[test]
    fn the_bound_covers_data_type_and_line_exactly() {
        // "data: " + 10 bytes: the line is 16 bytes; the data 11 ("x"*10 + "\n").
        let event = format!("data: {}\n\n", "x".repeat(10));
        for max in [15, 16] {
            let want = if max >= 16 {
                vec![msg(&"x".repeat(10))]
            } else {
                vec![Err(SseError::EventTooLarge { limit: max })]
            };
            assert_eq!(
                decode_with(
                    &mut SseDecoder::with_max_event_bytes(max),
                    &[event.as_bytes()]
                ),
                want
            );
            assert_eq!(bytewise(event.as_bytes(), max), want);
        }
        // Many small data lines add up.
        let many = "data: abcdefgh\n".repeat(100) + "\ndata: after\n\n";
        let want = vec![Err(SseError::EventTooLarge { limit: 500 }), msg("after")];
        assert_eq!(
            decode_with(
                &mut SseDecoder::with_max_event_bytes(500),
                &[many.as_bytes()]
            ),
            want
        );
        assert_eq!(bytewise(many.as_bytes(), 500), want);
        // At the end of the stream too.
        let cut = format!("data: ok\n\ndata: {}", "y".repeat(600));
        let want = vec![msg("ok"), Err(SseError::EventTooLarge { limit: 500 })];
        assert_eq!(bytewise(cut.as_bytes(), 500), want);
        // A bound of zero refuses every line but still sees blank lines.
        let want = vec![Err(SseError::EventTooLarge { limit: 0 })];
        assert_eq!(bytewise(b"data: a\n\n\n", 0), want);
        assert_eq!(SseDecoder::new().max_event_bytes(), 16 * 1024 * 1024);
    }

    #[test]
    fn bytes_that_are_not_utf8_fail_their_event_only() {
        let s: &[u8] = b"data: a\xFFb\ndata: more\n\ndata: next\n\n";
        let want = vec![Err(SseError::InvalidUtf8), msg("next")];
        assert_eq!(decode(&[s]), want);
        assert_eq!(bytewise(s, 100), want);
        assert_eq!(
            decode(&[b"event: \xC3\ndata: x\n\n"]),
            vec![Err(SseError::InvalidUtf8)]
        );
        assert_eq!(
            decode(&[b"id: \xC3\ndata: x\n\n"]),
            vec![Err(SseError::InvalidUtf8)]
        );
        // Where the value is never read as text, it does not matter.
        assert_eq!(
            decode(&[b": \xFF\n\xFF: x\nretry: \xFF\ndata: ok\n\n"]),
            vec![msg("ok")]
        );
        // A multi-byte character split across chunks is fine.
        let s = "data: Grüße — 👋\n\n".as_bytes();
        assert_eq!(bytewise(s, 100), vec![msg("Grüße — 👋")]);
    }

    #[test]
    fn ten_megabytes_in_one_byte_chunks() {
        // Linear time: a decoder that re-scanned its buffer on every feed
        // would take hours here (this test asserts no time, only results).
        let line = format!("data: {}\n", "z".repeat(10 * 1024 * 1024));
        let mut events = "event: changes\ndata: {}\n\n".repeat(100_000);
        events.push_str(&line);
        let out = bytewise(events.as_bytes(), 16 * 1024 * 1024);
        assert_eq!(out.len(), 100_001);
        assert_eq!(out.first(), Some(&ev("changes", "{}", None)));
        let last = out.last().unwrap().as_ref().unwrap();
        assert_eq!(last.data.len(), 10 * 1024 * 1024);
    }

    #[test]
    fn feeding_without_draining_loses_nothing() {
        let mut d = SseDecoder::new();
        for chunk in ["data: a\n", "\ndata: b\n\nda", "ta: c\n\n"] {
            d.feed(chunk.as_bytes());
        }
        assert_eq!(d.next_event(), Some(msg("a")));
        d.feed(b"data: d\n\n");
        let rest: Out = std::iter::from_fn(|| d.next_event()).collect();
        assert_eq!(rest, vec![msg("b"), msg("c"), msg("d")]);
    }

    /// One event of a generated stream.
    #[derive(Debug, Clone)]
    struct Spec {
        event: Option<String>,
        data: Vec<String>,
        id: Option<String>,
        retry: Option<u32>,
        comment: Option<String>,
    }

    fn spec() -> impl Strategy<Value = Spec> {
        (
            proptest::option::of("[a-z]{1,8}"),
            proptest::collection::vec("[^\r\n]{0,12}", 1..4),
            proptest::option::of("[^\r\n\0]{0,6}"),
            proptest::option::of(any::<u32>()),
            proptest::option::of("[^\r\n]{0,8}"),
        )
            .prop_map(|(event, data, id, retry, comment)| Spec {
                event,
                data,
                id,
                retry,
                comment,
            })
    }

    /// Writes the events as a stream (line ends picked by `ends`), and the
    /// events a decoder must make of it.
    fn write(specs: &[Spec], ends: &[u8], bom: bool, last_blank: bool) -> (Vec<u8>, Out) {
        let mut s = String::new();
        if bom {
            s.push('\u{feff}');
        }
        let mut k = 0usize;
        let mut end = |s: &mut String| {
            let mut pick = ["\n", "\r", "\r\n"][usize::from(ends[k % ends.len()] % 3)];
            if pick == "\n" && s.ends_with('\r') {
                pick = "\r\n"; // "\r" then "\n" would be one line end
            }
            s.push_str(pick);
            k += 1;
        };
        let field = |s: &mut String, name: &str, value: &str, spaced: bool| {
            s.push_str(name);
            s.push(':');
            if spaced || value.starts_with(' ') {
                s.push(' ');
            }
            s.push_str(value);
        };
        let mut want = Vec::new();
        let mut last_id: Option<String> = None;
        for (i, spec) in specs.iter().enumerate() {
            if let Some(c) = &spec.comment {
                s.push(':');
                s.push_str(c);
                end(&mut s);
            }
            if let Some(e) = &spec.event {
                field(&mut s, "event", e, i % 2 == 0);
                end(&mut s);
            }
            if let Some(id) = &spec.id {
                field(&mut s, "id", id, i % 3 == 0);
                end(&mut s);
                last_id = Some(id.clone()).filter(|id| !id.is_empty());
            }
            if let Some(r) = spec.retry {
                field(&mut s, "retry", &r.to_string(), true);
                end(&mut s);
            }
            for d in &spec.data {
                field(&mut s, "data", d, i % 2 == 1);
                end(&mut s);
            }
            if i + 1 < specs.len() || last_blank {
                end(&mut s);
            }
            want.push(Ok(SseEvent {
                event: spec.event.clone().unwrap_or_else(|| "message".into()),
                data: spec.data.join("\n"),
                id: last_id.clone(),
            }));
        }
        (s.into_bytes(), want)
    }

    /// Cuts `bytes` at the given points (taken modulo its length).
    fn split(bytes: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
        cuts.sort_unstable();
        let mut chunks = Vec::new();
        let mut from = 0;
        for cut in cuts.into_iter().chain([bytes.len()]) {
            chunks.push(bytes[from..cut].to_vec());
            from = cut;
        }
        chunks
    }

    proptest! {
        #[test]
        fn any_chunking_of_a_valid_stream_gives_its_events(
            specs in proptest::collection::vec(spec(), 0..6),
            ends in proptest::collection::vec(any::<u8>(), 1..8),
            bom in any::<bool>(),
            last_blank in any::<bool>(),
            cuts in proptest::collection::vec(any::<usize>(), 0..12),
        ) {
            let (bytes, want) = write(&specs, &ends, bom, last_blank);
            prop_assert_eq!(&decode(&[&bytes]), &want);
            let chunks = split(&bytes, &cuts);
            let chunks: Vec<&[u8]> = chunks.iter().map(Vec::as_slice).collect();
            prop_assert_eq!(&decode(&chunks), &want);
        }

        #[test]
        fn any_bytes_in_any_chunking_decode_alike_without_panic(
            bytes in proptest::collection::vec(
                prop_oneof![
                    Just(b'\n'), Just(b'\r'), Just(b':'), Just(b' '), Just(0u8), Just(0xEF),
                    Just(0xBB), Just(0xBF), Just(0xFF), b'a'..=b'z',
                    Just(b'd'), Just(b'a'), Just(b't'),
                ],
                0..200,
            ),
            prefix in prop_oneof![
                Just(&b""[..]), Just(&b"data:"[..]), Just(&b"event: "[..]), Just(&b"\xEF\xBB\xBF"[..]),
                Just(&b"id:"[..]), Just(&b"retry:"[..]),
            ],
            max in 0usize..64,
            cuts in proptest::collection::vec(any::<usize>(), 0..12),
        ) {
            let bytes = [prefix, &bytes].concat();
            let one = decode_with(&mut SseDecoder::with_max_event_bytes(max), &[&bytes]);
            let chunks = split(&bytes, &cuts);
            let chunks: Vec<&[u8]> = chunks.iter().map(Vec::as_slice).collect();
            prop_assert_eq!(&decode_with(&mut SseDecoder::with_max_event_bytes(max), &chunks), &one);
            prop_assert_eq!(&bytewise(&bytes, max), &one);
        }
    }
}

//! The one-pass reading of a page's bytes: a validating JSON scanner that
//! checks the syntax exactly as `serde_json` does, finds each change's
//! members, and tells whether a change is plainly well formed (it then
//! needs no other reading) or must be decided by the reference reading of
//! [`super::lenient`].
//!
//! A change is *clean* when every reading `serde_json` can make of it
//! succeeds: nesting of at most [`MAX_DEPTH`] containers (the change
//! counted), numbers without an exponent and with at most 300 integer
//! digits (so never beyond `f64`), no `\u` escape anywhere (lone surrogates
//! fail a parse), no escaped member name and no known member given twice.
//! A clean change that passes the browser's guard ([`ChangeScan::passes`])
//! is one the reference reading keeps; anything else is handed to it.
//!
//! No recursion beyond three fixed levels (change, `fields`, one field):
//! values of any depth are scanned with an explicit stack. Positions never
//! overflow: they stay within the input, and reading past its end yields 0,
//! which no JSON token starts with.

use crate::depth::MAX_DEPTH;

/// The input is not JSON as `serde_json` reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Syntax;

type Scan<T> = Result<T, Syntax>;

/// The JSON type of a member's value (`Absent` when the member is missing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Kind {
    #[default]
    Absent,
    Null,
    Bool,
    Number,
    String,
    Array,
    Object,
}

/// Where a member's value is: for a string, the text between its quotes;
/// for anything else, the value's text.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Member {
    pub(crate) kind: Kind,
    pub(crate) start: usize,
    pub(crate) end: usize,
    /// A string holding a backslash escape (its text is not its value).
    pub(crate) escaped: bool,
}

pub(crate) const EVENT_ID: usize = 0;
pub(crate) const SCHEMA_VERSION: usize = 1;
pub(crate) const TABLE: usize = 2;
pub(crate) const ID: usize = 3;
pub(crate) const OP: usize = 4;
pub(crate) const DATA: usize = 5;
pub(crate) const FIELDS: usize = 6;
pub(crate) const DELETED_AT: usize = 7;
pub(crate) const SPACE_ID: usize = 8;
pub(crate) const ACTOR: usize = 9;
pub(crate) const ORIGIN: usize = 10;
const MEMBERS: usize = 11;

/// A name and its closing quote as a little-endian word: the bytes, the
/// mask of their length, and the length.
const fn name_word(name: &[u8]) -> (u128, u128, usize) {
    let mut value = 0u128;
    let mut mask = 0u128;
    let mut k = 0;
    while k < name.len() && k < 15 {
        value |= (name[k] as u128) << (8 * k);
        mask |= 0xff << (8 * k);
        k += 1;
    }
    value |= (b'"' as u128) << (8 * k);
    mask |= 0xff << (8 * k);
    (value, mask, k + 1)
}

/// The known member names, by slot, as words.
const NAMES: [(u128, u128, usize); MEMBERS] = [
    name_word(b"eventId"),
    name_word(b"schemaVersion"),
    name_word(b"table"),
    name_word(b"id"),
    name_word(b"op"),
    name_word(b"data"),
    name_word(b"fields"),
    name_word(b"deletedAt"),
    name_word(b"spaceId"),
    name_word(b"actor"),
    name_word(b"origin"),
];

pub(crate) fn slot_of(name: &[u8]) -> Option<usize> {
    Some(match name {
        b"eventId" => EVENT_ID,
        b"schemaVersion" => SCHEMA_VERSION,
        b"table" => TABLE,
        b"id" => ID,
        b"op" => OP,
        b"data" => DATA,
        b"fields" => FIELDS,
        b"deletedAt" => DELETED_AT,
        b"spaceId" => SPACE_ID,
        b"actor" => ACTOR,
        b"origin" => ORIGIN,
        _ => return None,
    })
}

/// One change object as scanned: its known members (the last of each
/// name, as a parse into a map keeps), and what the guard needs.
#[derive(Debug, Clone)]
pub(crate) struct ChangeScan {
    pub(crate) members: [Member; MEMBERS],
    /// Every reading of the change succeeds (see the module docs).
    pub(crate) clean: bool,
    /// `fields`, if an object, holds only objects, each with a `value` and
    /// with `at`/`updatedAt` strings or `null`.
    fields_ok: bool,
}

impl ChangeScan {
    fn new() -> ChangeScan {
        ChangeScan {
            members: [Member::default(); MEMBERS],
            clean: true,
            fields_ok: true,
        }
    }

    /// The browser's guard (`isValidSyncChange`, as `lenient` writes it),
    /// on the members of `input` (the text the scan positions refer to).
    pub(crate) fn passes(&self, input: &[u8]) -> bool {
        let m = &self.members;
        let text = |k: usize| input.get(m[k].start..m[k].end).unwrap_or_default();
        let nonempty = |k: usize| m[k].kind == Kind::String && m[k].end > m[k].start;
        let string_or_null =
            |k: usize| matches!(m[k].kind, Kind::Absent | Kind::Null | Kind::String);
        let object_or_null =
            |k: usize| matches!(m[k].kind, Kind::Absent | Kind::Null | Kind::Object);
        let schema = match m[SCHEMA_VERSION].kind {
            Kind::Absent | Kind::Null => true,
            Kind::Number => {
                let digits = text(SCHEMA_VERSION);
                digits.iter().all(u8::is_ascii_digit)
                    && std::str::from_utf8(digits)
                        .ok()
                        .and_then(|d| d.parse::<u32>().ok())
                        .is_some()
            }
            _ => false,
        };
        nonempty(TABLE)
            && nonempty(ID)
            && m[OP].kind == Kind::String
            && !m[OP].escaped
            && matches!(text(OP), b"insert" | b"update" | b"delete")
            && match m[FIELDS].kind {
                Kind::Absent | Kind::Null => true,
                Kind::Object => self.fields_ok,
                _ => false,
            }
            && object_or_null(DATA)
            && string_or_null(DELETED_AT)
            && string_or_null(EVENT_ID)
            && string_or_null(SPACE_ID)
            && object_or_null(ACTOR)
            && string_or_null(ORIGIN)
            && schema
    }
}

/// One element of a JSON array of changes.
pub(crate) struct Element<'s> {
    pub(crate) start: usize,
    pub(crate) end: usize,
    /// The scan, if the element is an object.
    pub(crate) scan: Option<&'s ChangeScan>,
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// The bytes of `x` (little-endian) that are `"`, `\` or below 0x20, as
/// their high bits. The lowest bit set is always such a byte (the higher
/// ones may not be): the first stop is exact.
#[inline]
fn stops(x: u64) -> u64 {
    let zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    let quote = zero(x ^ (ONES * u64::from(b'"')));
    let backslash = zero(x ^ (ONES * u64::from(b'\\')));
    let control = x.wrapping_sub(ONES * 0x20) & !x & HIGH;
    quote | backslash | control
}

/// A string's escapes: any at all, and `\u` ones.
const ESCAPED: u8 = 1;
const UNICODE: u8 = 2;

/// The scanner over one input.
pub(crate) struct Scanner<'b> {
    b: &'b [u8],
    /// Open containers beyond the 128 a `u128` holds (true: an object).
    deep: Vec<bool>,
}

impl<'b> Scanner<'b> {
    pub(crate) fn new(b: &'b [u8]) -> Scanner<'b> {
        Scanner {
            b,
            deep: Vec::new(),
        }
    }

    /// The byte at `i`, or 0 past the end.
    #[inline(always)]
    pub(crate) fn at(&self, i: usize) -> u8 {
        self.b.get(i).copied().unwrap_or(0)
    }

    #[inline(always)]
    pub(crate) fn ws(&self, mut i: usize) -> usize {
        while matches!(self.at(i), b' ' | b'\n' | b'\r' | b'\t') {
            i = i.saturating_add(1);
        }
        i
    }

    pub(crate) fn slice(&self, start: usize, end: usize) -> &'b [u8] {
        self.b.get(start..end).unwrap_or_default()
    }

    /// A string whose opening quote is just before `i`: the end of its
    /// text, the position after its closing quote, and its escapes.
    #[inline(always)]
    pub(crate) fn string(&self, mut i: usize) -> Scan<(usize, usize, u8)> {
        let mut flags = 0;
        loop {
            // To the first `"`, `\` or control byte, 16 bytes a step.
            loop {
                match self.b.get(i..).and_then(<[u8]>::first_chunk::<16>) {
                    Some(chunk) => {
                        let (low, high) = chunk.split_at(8);
                        let word = |half: &[u8]| {
                            <[u8; 8]>::try_from(half).map_or(u64::MAX, u64::from_le_bytes)
                        };
                        let low = stops(word(low));
                        let high = stops(word(high));
                        if low | high != 0 {
                            let bits = if low != 0 {
                                low.trailing_zeros()
                            } else {
                                high.trailing_zeros().saturating_add(64)
                            };
                            i = i.saturating_add((bits / 8) as usize);
                            break;
                        }
                        i = i.saturating_add(16);
                    }
                    None => {
                        while !matches!(self.at(i), b'"' | b'\\' | 0..=0x1f) {
                            i = i.saturating_add(1);
                        }
                        break;
                    }
                }
            }
            match self.at(i) {
                b'"' => return Ok((i, i.saturating_add(1), flags)),
                b'\\' => {
                    flags |= ESCAPED;
                    match self.at(i.saturating_add(1)) {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {
                            i = i.saturating_add(2);
                        }
                        b'u' => {
                            let hex = self.slice(i.saturating_add(2), i.saturating_add(6));
                            if hex.len() != 4 || !hex.iter().all(u8::is_ascii_hexdigit) {
                                return Err(Syntax);
                            }
                            flags |= UNICODE;
                            i = i.saturating_add(6);
                        }
                        _ => return Err(Syntax),
                    }
                }
                0..=0x1f => return Err(Syntax),
                _ => i = i.saturating_add(1),
            }
        }
    }

    /// A number starting at `i`: its end, and whether it is plainly within
    /// `f64` (no exponent, at most 300 integer digits).
    fn number(&self, mut i: usize) -> Scan<(usize, bool)> {
        if self.at(i) == b'-' {
            i = i.saturating_add(1);
        }
        let int_start = i;
        match self.at(i) {
            b'0' => {
                i = i.saturating_add(1);
                if self.at(i).is_ascii_digit() {
                    return Err(Syntax);
                }
            }
            b'1'..=b'9' => {
                while self.at(i).is_ascii_digit() {
                    i = i.saturating_add(1);
                }
            }
            _ => return Err(Syntax),
        }
        let mut plain = i.saturating_sub(int_start) <= 300;
        if self.at(i) == b'.' {
            i = i.saturating_add(1);
            if !self.at(i).is_ascii_digit() {
                return Err(Syntax);
            }
            while self.at(i).is_ascii_digit() {
                i = i.saturating_add(1);
            }
        }
        if matches!(self.at(i), b'e' | b'E') {
            plain = false;
            i = i.saturating_add(1);
            if matches!(self.at(i), b'+' | b'-') {
                i = i.saturating_add(1);
            }
            if !self.at(i).is_ascii_digit() {
                return Err(Syntax);
            }
            while self.at(i).is_ascii_digit() {
                i = i.saturating_add(1);
            }
        }
        Ok((i, plain))
    }

    fn literal(&self, i: usize, word: &[u8]) -> Scan<usize> {
        let end = i.saturating_add(word.len());
        if self.b.get(i..end) == Some(word) {
            Ok(end)
        } else {
            Err(Syntax)
        }
    }

    /// A value that is not an array or an object, at `i`.
    #[inline(always)]
    pub(crate) fn scalar(&self, i: usize, clean: &mut bool) -> Scan<usize> {
        match self.at(i) {
            b'"' => {
                let (_, end, flags) = self.string(i.saturating_add(1))?;
                if flags & UNICODE != 0 {
                    *clean = false;
                }
                Ok(end)
            }
            b'-' | b'0'..=b'9' => {
                let (end, plain) = self.number(i)?;
                *clean &= plain;
                Ok(end)
            }
            b't' => self.literal(i, b"true"),
            b'f' => self.literal(i, b"false"),
            b'n' => self.literal(i, b"null"),
            _ => Err(Syntax),
        }
    }

    /// A member name at `i` (its opening quote), the `:` and the space
    /// after it: the position of the value; clears `clean` for a `\u`.
    #[inline(always)]
    fn key(&self, i: usize, clean: &mut bool) -> Scan<usize> {
        if self.at(i) != b'"' {
            return Err(Syntax);
        }
        let (_, after, flags) = self.string(i.saturating_add(1))?;
        if flags & UNICODE != 0 {
            *clean = false;
        }
        let i = self.ws(after);
        if self.at(i) != b':' {
            return Err(Syntax);
        }
        Ok(self.ws(i.saturating_add(1)))
    }

    /// Any value at `i`, inside `outer` open containers: its end, and
    /// whether it is clean (see the module docs).
    pub(crate) fn value(&mut self, mut i: usize, outer: usize) -> Scan<(usize, bool)> {
        let mut clean = true;
        // Open containers: the innermost in bit 0 (1: an object); those
        // beyond 128 in `deep`.
        let mut bits: u128 = 0;
        let mut open: usize = 0;
        self.deep.clear();
        loop {
            // A value starts at `i`.
            let mut closed_empty = false;
            match self.at(i) {
                c @ (b'{' | b'[') => {
                    let object = c == b'{';
                    if open >= 128 {
                        self.deep.push(bits >> 127 == 1);
                    }
                    bits = (bits << 1) | u128::from(object);
                    open = open.saturating_add(1);
                    if outer.saturating_add(open) > MAX_DEPTH {
                        clean = false;
                    }
                    i = self.ws(i.saturating_add(1));
                    let close = if object { b'}' } else { b']' };
                    if self.at(i) == close {
                        i = i.saturating_add(1);
                        closed_empty = true;
                    } else if object {
                        i = self.key(i, &mut clean)?;
                        continue;
                    } else {
                        continue;
                    }
                }
                _ => i = self.scalar(i, &mut clean)?,
            }
            if closed_empty {
                Self::pop(&mut bits, &mut open, &mut self.deep);
            }
            // After a value: close containers until one goes on.
            loop {
                if open == 0 {
                    return Ok((i, clean));
                }
                i = self.ws(i);
                let object = bits & 1 == 1;
                match self.at(i) {
                    b',' => {
                        i = self.ws(i.saturating_add(1));
                        if object {
                            i = self.key(i, &mut clean)?;
                        }
                        break;
                    }
                    b'}' if object => {
                        i = i.saturating_add(1);
                        Self::pop(&mut bits, &mut open, &mut self.deep);
                    }
                    b']' if !object => {
                        i = i.saturating_add(1);
                        Self::pop(&mut bits, &mut open, &mut self.deep);
                    }
                    _ => return Err(Syntax),
                }
            }
        }
    }

    fn pop(bits: &mut u128, open: &mut usize, deep: &mut Vec<bool>) {
        *bits >>= 1;
        if *open > 128 {
            if let Some(object) = deep.pop() {
                *bits |= u128::from(object) << 127;
            }
        }
        *open = open.saturating_sub(1);
    }

    /// A known member name spelled plainly at `i` (its opening quote): its
    /// slot and the position after its closing quote.
    #[inline(always)]
    fn known_name(&self, i: usize) -> Option<(usize, usize)> {
        let start = i.saturating_add(1);
        let chunk = self.b.get(start..)?.first_chunk::<16>()?;
        let word = u128::from_le_bytes(*chunk);
        let second = chunk[1];
        let (slot, (value, mask, len)) = match chunk[0] {
            b'e' => (EVENT_ID, NAMES[EVENT_ID]),
            b's' if second == b'c' => (SCHEMA_VERSION, NAMES[SCHEMA_VERSION]),
            b's' => (SPACE_ID, NAMES[SPACE_ID]),
            b't' => (TABLE, NAMES[TABLE]),
            b'i' => (ID, NAMES[ID]),
            b'o' if second == b'p' => (OP, NAMES[OP]),
            b'o' => (ORIGIN, NAMES[ORIGIN]),
            b'd' if second == b'a' => (DATA, NAMES[DATA]),
            b'd' => (DELETED_AT, NAMES[DELETED_AT]),
            b'f' => (FIELDS, NAMES[FIELDS]),
            b'a' => (ACTOR, NAMES[ACTOR]),
            _ => return None,
        };
        (word & mask == value).then(|| (slot, start.saturating_add(len)))
    }

    /// The change object whose `{` is at `i`: its end and its scan.
    pub(crate) fn change(&mut self, i: usize) -> Scan<(usize, ChangeScan)> {
        let mut s = ChangeScan::new();
        let end = self.change_into(i, &mut s)?;
        Ok((end, s))
    }

    /// [`Scanner::change`], into `s` (which it resets).
    fn change_into(&mut self, i: usize, s: &mut ChangeScan) -> Scan<usize> {
        *s = ChangeScan::new();
        let mut i = self.ws(i.saturating_add(1));
        if self.at(i) == b'}' {
            return Ok(i.saturating_add(1));
        }
        loop {
            if self.at(i) != b'"' {
                return Err(Syntax);
            }
            let (slot, after) = match self.known_name(i) {
                Some((slot, after)) => (Some(slot), after),
                None => {
                    let (key_end, after, flags) = self.string(i.saturating_add(1))?;
                    let slot = if flags == 0 {
                        slot_of(self.slice(i.saturating_add(1), key_end))
                    } else {
                        s.clean = false;
                        serde_json::from_slice::<String>(self.slice(i, after))
                            .ok()
                            .and_then(|name| slot_of(name.as_bytes()))
                    };
                    (slot, after)
                }
            };
            i = self.ws(after);
            if self.at(i) != b':' {
                return Err(Syntax);
            }
            i = self.ws(i.saturating_add(1));
            let start = i;
            let (end, member) = match self.at(i) {
                b'"' => {
                    let (text_end, end, flags) = self.string(i.saturating_add(1))?;
                    if flags & UNICODE != 0 {
                        s.clean = false;
                    }
                    let member = Member {
                        kind: Kind::String,
                        start: i.saturating_add(1),
                        end: text_end,
                        escaped: flags != 0,
                    };
                    (end, member)
                }
                b'{' if slot == Some(FIELDS) => {
                    let end = self.fields(i, s)?;
                    (
                        end,
                        Member {
                            kind: Kind::Object,
                            start,
                            end,
                            escaped: false,
                        },
                    )
                }
                c @ (b'{' | b'[') => {
                    let kind = if c == b'{' { Kind::Object } else { Kind::Array };
                    let (end, clean) = self.value(i, 1)?;
                    s.clean &= clean;
                    (
                        end,
                        Member {
                            kind,
                            start,
                            end,
                            escaped: false,
                        },
                    )
                }
                c => {
                    let kind = match c {
                        b'n' => Kind::Null,
                        b't' | b'f' => Kind::Bool,
                        _ => Kind::Number,
                    };
                    let end = self.scalar(i, &mut s.clean)?;
                    (
                        end,
                        Member {
                            kind,
                            start,
                            end,
                            escaped: false,
                        },
                    )
                }
            };
            if let Some(slot) = slot {
                if s.members[slot].kind != Kind::Absent {
                    s.clean = false;
                }
                s.members[slot] = member;
            }
            i = self.ws(end);
            match self.at(i) {
                b',' => i = self.ws(i.saturating_add(1)),
                b'}' => return Ok(i.saturating_add(1)),
                _ => return Err(Syntax),
            }
        }
    }

    /// The `fields` object whose `{` is at `i` (the change's second level).
    fn fields(&mut self, i: usize, s: &mut ChangeScan) -> Scan<usize> {
        let mut i = self.ws(i.saturating_add(1));
        if self.at(i) == b'}' {
            return Ok(i.saturating_add(1));
        }
        loop {
            i = self.key(i, &mut s.clean)?;
            if self.at(i) == b'{' {
                i = self.field(i, s)?;
            } else {
                s.fields_ok = false;
                let (end, clean) = self.value(i, 2)?;
                s.clean &= clean;
                i = end;
            }
            i = self.ws(i);
            match self.at(i) {
                b',' => i = self.ws(i.saturating_add(1)),
                b'}' => return Ok(i.saturating_add(1)),
                _ => return Err(Syntax),
            }
        }
    }

    /// One field `{value, at}` whose `{` is at `i` (the third level).
    fn field(&mut self, i: usize, s: &mut ChangeScan) -> Scan<usize> {
        let mut has_value = false;
        let mut i = self.ws(i.saturating_add(1));
        if self.at(i) != b'}' {
            loop {
                if self.at(i) != b'"' {
                    return Err(Syntax);
                }
                let (name_end, after, flags) = self.string(i.saturating_add(1))?;
                if flags != 0 {
                    s.clean = false;
                }
                let name = self.slice(i.saturating_add(1), name_end);
                i = self.ws(after);
                if self.at(i) != b':' {
                    return Err(Syntax);
                }
                i = self.ws(i.saturating_add(1));
                match name {
                    b"value" => has_value = true,
                    b"at" | b"updatedAt" if !matches!(self.at(i), b'"' | b'n') => {
                        s.fields_ok = false;
                    }
                    _ => {}
                }
                let (end, clean) = self.value(i, 3)?;
                s.clean &= clean;
                i = self.ws(end);
                match self.at(i) {
                    b',' => i = self.ws(i.saturating_add(1)),
                    b'}' => break,
                    _ => return Err(Syntax),
                }
            }
        }
        if !has_value {
            s.fields_ok = false;
        }
        Ok(i.saturating_add(1))
    }

    /// The array of changes whose `[` is at `i`: the position after its
    /// `]`, each element passed to `each` in order.
    pub(crate) fn changes(
        &mut self,
        i: usize,
        mut each: impl FnMut(Element<'_>) -> Scan<()>,
    ) -> Scan<usize> {
        let mut scan = ChangeScan::new();
        let mut i = self.ws(i.saturating_add(1));
        if self.at(i) == b']' {
            return Ok(i.saturating_add(1));
        }
        loop {
            let start = i;
            let (end, object) = if self.at(i) == b'{' {
                (self.change_into(i, &mut scan)?, true)
            } else {
                (self.value(i, 1)?.0, false)
            };
            let scan = object.then_some(&scan);
            each(Element { start, end, scan })?;
            i = self.ws(end);
            match self.at(i) {
                b',' => i = self.ws(i.saturating_add(1)),
                b']' => return Ok(i.saturating_add(1)),
                _ => return Err(Syntax),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn syntax_ok(text: &str) -> bool {
        let mut s = Scanner::new(text.as_bytes());
        let i = s.ws(0);
        match s.value(i, 0) {
            Ok((end, _)) => s.ws(end) == text.len(),
            Err(_) => false,
        }
    }

    #[test]
    fn syntax_agrees_with_serde_json() {
        let deep = format!("{}1{}", "[".repeat(1000), "]".repeat(1000));
        let deep_obj = format!("{}1{}", r#"{"a":"#.repeat(300), "}".repeat(300));
        for text in [
            "1",
            "-0",
            "0.5",
            "1e5",
            "1E+5",
            "-1.5e-7",
            "01",
            "1.",
            ".5",
            "-",
            "1e",
            "1e+",
            "\"a\"",
            "\"\\u00e9\"",
            "\"\\ud800\"",
            "\"\\x\"",
            "\"\\u12\"",
            "\"a\tb\"",
            "true",
            "tru",
            "nul",
            "null",
            "[]",
            "[1,]",
            "[,1]",
            "[1 2]",
            "{}",
            "{\"a\":1,}",
            "{\"a\" 1}",
            "{1:2}",
            "{\"a\":1}",
            "[[],[{}],{\"b\":[null,true,false]}]",
            " [ 1 , 2 ] ",
            "[1]]",
            "{\"a\":1}}",
            "[\"\u{10ffff}\"]",
            &deep,
            &deep_obj,
            "[1,[2,[3,[4]]],5]",
            "",
            "{\"a\":[1,{\"b\":2}],\"c\":{}}",
        ] {
            let want = serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok();
            assert_eq!(syntax_ok(text), want, "{text}");
        }
    }

    #[test]
    fn names_are_found_in_place_and_only_whole() {
        for (slot, name) in [
            "eventId",
            "schemaVersion",
            "table",
            "id",
            "op",
            "data",
            "fields",
            "deletedAt",
            "spaceId",
            "actor",
            "origin",
        ]
        .iter()
        .enumerate()
        {
            let text = format!("\"{name}\":1,\"padding padding\"");
            let s = Scanner::new(text.as_bytes());
            assert_eq!(s.known_name(0), Some((slot, name.len() + 2)), "{name}");
            assert_eq!(slot_of(name.as_bytes()), Some(slot));
            let longer = format!("\"{name}x\":1,\"padding padding\"");
            assert_eq!(
                Scanner::new(longer.as_bytes()).known_name(0),
                None,
                "{name}"
            );
            let shorter = format!("\"{}\":1,\"padding padding\"", &name[..name.len() - 1]);
            assert_eq!(
                Scanner::new(shorter.as_bytes()).known_name(0),
                None,
                "{name}"
            );
        }
    }

    #[test]
    fn the_first_stop_byte_is_found_exactly() {
        let others = [
            b'a', b' ', b'~', 0x7f, 0x80, 0xa0, 0xff, 0x21, 0x20, b'#', b']',
        ];
        for stop in [b'"', b'\\', 0, 0x1f, 0x0a] {
            for pos in 0..8 {
                for other in others {
                    for later in [other, stop, 0, b'"'] {
                        let mut bytes = [other; 8];
                        bytes[pos] = stop;
                        if pos < 7 {
                            bytes[7] = later;
                        }
                        let found = stops(u64::from_le_bytes(bytes));
                        assert_eq!(found.trailing_zeros() / 8, pos as u32, "{bytes:?}");
                    }
                }
            }
        }
        for other in others {
            assert_eq!(stops(u64::from_le_bytes([other; 8])), 0, "{other}");
        }
        assert_eq!(stops(u64::from_le_bytes(*b"abc\xc3\xa9 ~\x7f")), 0);
    }
}

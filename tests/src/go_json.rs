//! JSON read the way Go's `encoding/json` reads it and written the way its
//! encoder writes it, so that the server's answers match the real one's
//! texts: the decoder's error messages, `U+FFFD` for invalid UTF-8 and lone
//! surrogates, numbers kept as text until a Go type reads them, `float64`
//! for numbers inside `map[string]any`, and the encoder's HTML escaping.

use serde_json::{Map, Number, Value};

/// A JSON value as read, before any Go type is applied: numbers keep their
/// text, objects their members in order (duplicates included).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum J {
    Null,
    Bool(bool),
    Num(String),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

impl J {
    /// The word Go's `UnmarshalTypeError` uses for this kind of value.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            J::Null => "null",
            J::Bool(_) => "bool",
            J::Num(_) => "number",
            J::Str(_) => "string",
            J::Arr(_) => "array",
            J::Obj(_) => "object",
        }
    }
}

/// Go's scanner refuses documents nested deeper than this.
const MAX_DEPTH: usize = 10_000;

enum Fail {
    /// The input ended inside a value.
    Eof,
    /// A syntax error: Go's message.
    Syntax(String),
}

/// Reads the first JSON value of a request body as Go's `json.Decoder` does
/// behind an `http.MaxBytesReader` of `limit` bytes: only the first `limit`
/// bytes are read; a syntax error in them, or a complete value, wins over
/// the size error; bytes after the first value are never looked at. The
/// error is Go's text (`EOF`, `unexpected EOF`, `http: request body too
/// large`, `invalid character ...`).
pub(crate) fn decode_first(body: &[u8], limit: usize) -> Result<J, String> {
    let truncated = body.len() > limit;
    let input = &body[..body.len().min(limit)];
    let mut reader = Reader {
        input,
        pos: 0,
        truncated,
        depth: 0,
    };
    reader.skip_space();
    if reader.pos == input.len() {
        return Err(if truncated {
            "http: request body too large".into()
        } else {
            "EOF".into()
        });
    }
    match reader.value() {
        Ok(v) => Ok(v),
        Err(Fail::Syntax(msg)) => Err(msg),
        Err(Fail::Eof) if truncated => Err("http: request body too large".into()),
        Err(Fail::Eof) => Err("unexpected EOF".into()),
    }
}

/// Reads a whole document as Go's `json.Unmarshal` does (nothing but space
/// may follow the value).
pub(crate) fn unmarshal(input: &[u8]) -> Result<J, String> {
    let mut reader = Reader {
        input,
        pos: 0,
        truncated: false,
        depth: 0,
    };
    reader.skip_space();
    let value = match reader.value() {
        Ok(v) => v,
        Err(Fail::Syntax(msg)) => return Err(msg),
        Err(Fail::Eof) => return Err("unexpected end of JSON input".into()),
    };
    reader.skip_space();
    match reader.peek() {
        None => Ok(value),
        Some(c) => Err(format!(
            "invalid character {} after top-level value",
            quote_char(c)
        )),
    }
}

/// Go's `quoteChar`: how a byte appears in a syntax error.
fn quote_char(c: u8) -> String {
    match c {
        b'\'' => r"'\''".into(),
        b'"' => "'\"'".into(),
        _ => {
            // strconv.Quote(string(rune(c))) without its double quotes.
            let ch = char::from(c);
            let inner = match c {
                0x07 => r"\a".to_owned(),
                0x08 => r"\b".to_owned(),
                0x0c => r"\f".to_owned(),
                b'\n' => r"\n".to_owned(),
                b'\r' => r"\r".to_owned(),
                b'\t' => r"\t".to_owned(),
                0x0b => r"\v".to_owned(),
                b'\\' => r"\\".to_owned(),
                0x00..=0x1f | 0x7f => format!(r"\x{c:02x}"),
                // C1 controls, no-break space and soft hyphen are not
                // printable for strconv.
                0x80..=0xa0 | 0xad => format!(r"\u{:04x}", u32::from(c)),
                _ => ch.to_string(),
            };
            format!("'{inner}'")
        }
    }
}

struct Reader<'a> {
    input: &'a [u8],
    pos: usize,
    /// More bytes followed the input (a value that runs to its end is then
    /// incomplete, even a number).
    truncated: bool,
    depth: usize,
}

fn syntax(c: u8, context: &str) -> Fail {
    Fail::Syntax(format!("invalid character {} {context}", quote_char(c)))
}

impl Reader<'_> {
    fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    fn next(&mut self) -> Result<u8, Fail> {
        let c = self.peek().ok_or(Fail::Eof)?;
        self.pos += 1;
        Ok(c)
    }

    fn skip_space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            self.pos += 1;
        }
    }

    fn value(&mut self) -> Result<J, Fail> {
        let c = self.next()?;
        match c {
            b'{' => self.nested(c, Self::object),
            b'[' => self.nested(c, Self::array),
            b'"' => self.string().map(J::Str),
            b'-' | b'0'..=b'9' => self.number(c).map(J::Num),
            b't' => self.literal("true", J::Bool(true)),
            b'f' => self.literal("false", J::Bool(false)),
            b'n' => self.literal("null", J::Null),
            _ => Err(syntax(c, "looking for beginning of value")),
        }
    }

    fn nested(&mut self, c: u8, read: fn(&mut Self) -> Result<J, Fail>) -> Result<J, Fail> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(syntax(c, "exceeded max depth"));
        }
        let v = read(self);
        self.depth -= 1;
        v
    }

    fn literal(&mut self, word: &str, value: J) -> Result<J, Fail> {
        for expected in word.bytes().skip(1) {
            let c = self.next()?;
            if c != expected {
                return Err(syntax(
                    c,
                    &format!("in literal {word} (expecting {})", quote_char(expected)),
                ));
            }
        }
        Ok(value)
    }

    fn object(&mut self) -> Result<J, Fail> {
        let mut members = Vec::new();
        self.skip_space();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(J::Obj(members));
        }
        loop {
            let c = self.next()?;
            if c != b'"' {
                return Err(syntax(c, "looking for beginning of object key string"));
            }
            let key = self.string()?;
            self.skip_space();
            let c = self.next()?;
            if c != b':' {
                return Err(syntax(c, "after object key"));
            }
            self.skip_space();
            let value = self.value()?;
            members.push((key, value));
            self.skip_space();
            match self.next()? {
                b',' => self.skip_space(),
                b'}' => return Ok(J::Obj(members)),
                c => return Err(syntax(c, "after object key:value pair")),
            }
        }
    }

    fn array(&mut self) -> Result<J, Fail> {
        let mut items = Vec::new();
        self.skip_space();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(J::Arr(items));
        }
        loop {
            items.push(self.value()?);
            self.skip_space();
            match self.next()? {
                b',' => self.skip_space(),
                b']' => return Ok(J::Arr(items)),
                c => return Err(syntax(c, "after array element")),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, Fail> {
        let mut v = 0u32;
        for _ in 0..4 {
            let c = self.next()?;
            let d = char::from(c)
                .to_digit(16)
                .ok_or_else(|| syntax(c, "in \\u hexadecimal character escape"))?;
            v = v * 16 + d;
        }
        Ok(v)
    }

    /// A string after its opening quote. Invalid UTF-8 becomes U+FFFD byte
    /// by byte; a lone surrogate escape becomes U+FFFD (as Go does).
    fn string(&mut self) -> Result<String, Fail> {
        let mut out: Vec<u8> = Vec::new();
        loop {
            // Copy the run of plain bytes at once.
            let run = plain_run(&self.input[self.pos..]);
            out.extend_from_slice(&self.input[self.pos..self.pos + run]);
            self.pos += run;
            let c = self.next()?;
            match c {
                b'"' => return Ok(go_utf8(&out)),
                b'\\' => {
                    let e = self.next()?;
                    match e {
                        b'"' | b'\\' | b'/' => out.push(e),
                        b'b' => out.push(0x08),
                        b'f' => out.push(0x0c),
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'u' => {
                            let r = self.hex4()?;
                            let ch = if (0xd800..0xdc00).contains(&r) {
                                self.low_surrogate(r)?
                            } else {
                                char::from_u32(r).unwrap_or('\u{fffd}')
                            };
                            let mut buf = [0u8; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                        }
                        _ => return Err(syntax(e, "in string escape code")),
                    }
                }
                0x00..=0x1f => return Err(syntax(c, "in string literal")),
                _ => out.push(c),
            }
        }
    }

    /// After a high surrogate escape: a following `\uDC00`-`\uDFFF` pairs
    /// with it; anything else leaves it alone as U+FFFD (and is read on its
    /// own).
    fn low_surrogate(&mut self, high: u32) -> Result<char, Fail> {
        let rest = &self.input[self.pos..];
        if rest.len() >= 6 && rest[0] == b'\\' && rest[1] == b'u' {
            let hex = std::str::from_utf8(&rest[2..6]).ok();
            if let Some(low) = hex.and_then(|h| u32::from_str_radix(h, 16).ok()) {
                if (0xdc00..0xe000).contains(&low) {
                    self.pos += 6;
                    let code = 0x10000 + ((high - 0xd800) << 10) + (low - 0xdc00);
                    return Ok(char::from_u32(code).unwrap_or('\u{fffd}'));
                }
            }
        }
        Ok('\u{fffd}')
    }

    /// A number whose first byte was `first`; its text, as written.
    fn number(&mut self, first: u8) -> Result<String, Fail> {
        let start = self.pos - 1;
        let mut c = first;
        if c == b'-' {
            c = self.next()?;
            if !c.is_ascii_digit() {
                return Err(syntax(c, "in numeric literal"));
            }
        }
        if c != b'0' {
            self.digits();
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            let d = self.next()?;
            if !d.is_ascii_digit() {
                return Err(syntax(d, "after decimal point in numeric literal"));
            }
            self.digits();
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            let mut d = self.next()?;
            if d == b'+' || d == b'-' {
                d = self.next()?;
            }
            if !d.is_ascii_digit() {
                return Err(syntax(d, "in exponent of numeric literal"));
            }
            self.digits();
        }
        if self.peek().is_none() && self.truncated {
            // More was sent than was read: the number may go on.
            return Err(Fail::Eof);
        }
        Ok(String::from_utf8_lossy(&self.input[start..self.pos]).into_owned())
    }

    fn digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
    }
}

/// How many bytes at the start of `s` need no attention inside a string
/// (not `"`, `\\` or a control character). Eight at a time where it can:
/// this runs unoptimised in debug builds, over bodies of megabytes.
fn plain_run(s: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS != 0;
    let mut i = 0;
    while let Some(chunk) = s.get(i..i + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let v = u64::from_le_bytes(word);
        // A byte below 0x20, a quote or a backslash stops the run.
        let special = v.wrapping_sub(ONES * 0x20) & !v & HIGHS != 0
            || has_zero(v ^ (ONES * u64::from(b'"')))
            || has_zero(v ^ (ONES * u64::from(b'\\')));
        if special {
            break;
        }
        i += 8;
    }
    while let Some(&c) = s.get(i) {
        if c == b'"' || c == b'\\' || c < 0x20 {
            break;
        }
        i += 1;
    }
    i
}

/// Bytes as a Go string converted to UTF-8 the way `encoding/json` does:
/// each byte of an invalid sequence becomes U+FFFD.
pub(crate) fn go_utf8(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    let mut rest = bytes;
    loop {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                out.push_str(s);
                return out;
            }
            Err(e) => {
                let (good, bad) = rest.split_at(e.valid_up_to());
                out.push_str(std::str::from_utf8(good).unwrap_or_default());
                out.push('\u{fffd}');
                rest = &bad[1..];
            }
        }
    }
}

/// A number's text read into Go's `float64` (as `map[string]any` holds it),
/// then as Go writes it back: integral values below 1e21 without a
/// fraction. `None` when Go refuses it (out of range).
pub(crate) fn go_float(text: &str) -> Option<Value> {
    let f: f64 = text.parse().ok()?;
    if !f.is_finite() {
        return None;
    }
    Some(float_value(f))
}

fn float_value(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() < 1e21 {
        // Rust's Display writes the shortest round-trip digits without an
        // exponent, as Go's 'f' format does in this range.
        let digits = format!("{f}");
        if let Ok(i) = digits.parse::<i64>() {
            return Value::Number(i.into());
        }
        if let Ok(u) = digits.parse::<u64>() {
            return Value::Number(u.into());
        }
    }
    Number::from_f64(f).map_or(Value::Null, Value::Number)
}

/// A number's text as exactly as `serde_json` can hold it (for JSON that
/// is stored, not read into a Go type).
fn exact_number(text: &str) -> Value {
    if let Ok(i) = text.parse::<i64>() {
        return Value::Number(i.into());
    }
    if let Ok(u) = text.parse::<u64>() {
        return Value::Number(u.into());
    }
    text.parse::<f64>()
        .ok()
        .and_then(Number::from_f64)
        .map_or(Value::Null, Value::Number)
}

/// A value read into Go's `any`: numbers become `float64` (an error, Go's
/// `number X`, when out of range), objects maps (the last duplicate wins).
pub(crate) fn to_any(j: &J) -> Result<Value, String> {
    Ok(match j {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(*b),
        J::Num(n) => go_float(n).ok_or_else(|| format!("number {n}"))?,
        J::Str(s) => Value::String(s.clone()),
        J::Arr(items) => Value::Array(items.iter().map(to_any).collect::<Result<_, _>>()?),
        J::Obj(members) => {
            let mut map = Map::new();
            for (k, v) in members {
                map.insert(k.clone(), to_any(v)?);
            }
            Value::Object(map)
        }
    })
}

/// A value stored as PostgreSQL `jsonb` and read back as raw JSON: object
/// keys in jsonb's order (shorter first, then bytewise), the last
/// duplicate kept, numbers as they were.
pub(crate) fn to_jsonb(j: &J) -> Value {
    match j {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(*b),
        J::Num(n) => exact_number(n),
        J::Str(s) => Value::String(s.clone()),
        J::Arr(items) => Value::Array(items.iter().map(to_jsonb).collect()),
        J::Obj(members) => {
            let mut map = Map::new();
            for (k, v) in members {
                map.insert(k.clone(), to_jsonb(v));
            }
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|(a, _), (b, _)| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
            Value::Object(entries.into_iter().collect())
        }
    }
}

/// `v` with every object's members sorted bytewise, recursively: how Go
/// writes a `map[string]any`.
pub(crate) fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut entries: Vec<(&String, &Value)> = m.iter().collect();
            entries.sort_by_key(|(k, _)| *k);
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.clone(), sorted(v)))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// Whether any string of `v` (keys included) holds U+0000, which
/// PostgreSQL's `jsonb` refuses.
pub(crate) fn has_nul(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains('\0'),
        Value::Array(a) => a.iter().any(has_nul),
        Value::Object(m) => m.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

/// `v` written as Go's `json.Encoder.Encode` writes it: compact, members in
/// the order given, `<`, `>`, `&`, U+2028 and U+2029 escaped, and a
/// trailing newline.
pub(crate) fn encode(v: &Value) -> String {
    let text = v.to_string();
    let mut out = String::with_capacity(text.len() + 1);
    // These characters can only occur inside strings of serde_json's
    // output, so replacing them everywhere is safe.
    for ch in text.chars() {
        match ch {
            '<' => out.push_str(r"\u003c"),
            '>' => out.push_str(r"\u003e"),
            '&' => out.push_str(r"\u0026"),
            '\u{2028}' => out.push_str(r"\u2028"),
            '\u{2029}' => out.push_str(r"\u2029"),
            c => out.push(c),
        }
    }
    out.push('\n');
    out
}

/// Whether Go's `strconv.IsPrint` holds for `c` (closely enough: controls,
/// format characters, spaces other than U+0020, private use and
/// noncharacters are not printable).
fn go_printable(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    !(c.is_control()
        || c.is_whitespace()
        || matches!(c,
            '\u{ad}' | '\u{600}'..='\u{605}' | '\u{61c}' | '\u{6dd}' | '\u{70f}'
            | '\u{180e}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{206f}' | '\u{feff}' | '\u{fff9}'..='\u{fffb}'
            | '\u{e000}'..='\u{f8ff}' | '\u{fffe}' | '\u{ffff}'
            | '\u{f0000}'..='\u{10ffff}'))
}

/// Go's `%q` (`strconv.Quote`) of a string.
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if go_printable(c) => out.push(c),
            c if u32::from(c) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", u32::from(c)));
            }
            c if u32::from(c) < 0x10000 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push_str(&format!("\\U{:08x}", u32::from(c))),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn err(body: &str) -> String {
        decode_first(body.as_bytes(), 1 << 20).unwrap_err()
    }

    #[test]
    fn go_decoder_errors() {
        assert_eq!(err(""), "EOF");
        assert_eq!(err("  \n"), "EOF");
        assert_eq!(err("{\"changes\": ["), "unexpected EOF");
        assert_eq!(err("{\"a\""), "unexpected EOF");
        assert_eq!(
            err("x"),
            "invalid character 'x' looking for beginning of value"
        );
        assert_eq!(
            err("{x"),
            "invalid character 'x' looking for beginning of object key string"
        );
        assert_eq!(err("{\"a\" 1"), "invalid character '1' after object key");
        assert_eq!(
            err("{\"a\":1 2"),
            "invalid character '2' after object key:value pair"
        );
        assert_eq!(err("[1 2"), "invalid character '2' after array element");
        assert_eq!(
            err("[1,]"),
            "invalid character ']' looking for beginning of value"
        );
        assert_eq!(
            err("\"\\x\""),
            "invalid character 'x' in string escape code"
        );
        assert_eq!(
            err("\"\\u12g4\""),
            "invalid character 'g' in \\u hexadecimal character escape"
        );
        assert_eq!(err("\"a\nb\""), "invalid character '\\n' in string literal");
        assert_eq!(err("-x"), "invalid character 'x' in numeric literal");
        assert_eq!(
            err("1.x"),
            "invalid character 'x' after decimal point in numeric literal"
        );
        assert_eq!(
            err("1ex"),
            "invalid character 'x' in exponent of numeric literal"
        );
        assert_eq!(
            err("tru "),
            "invalid character ' ' in literal true (expecting 'e')"
        );
        assert_eq!(err("nul"), "unexpected EOF");
        assert_eq!(
            err("'"),
            r"invalid character '\'' looking for beginning of value"
        );
        assert_eq!(
            err("\u{e9}"),
            "invalid character 'Ã' looking for beginning of value"
        );
        assert_eq!(
            err("\u{1}"),
            r"invalid character '\x01' looking for beginning of value"
        );
    }

    #[test]
    fn only_the_first_value_and_the_limit() {
        assert_eq!(
            decode_first(b"{} trailing junk", 100).unwrap(),
            J::Obj(vec![])
        );
        assert_eq!(decode_first(b"12", 100).unwrap(), J::Num("12".into()));
        // A number cut by the limit might go on.
        assert_eq!(
            decode_first(b"123", 2).unwrap_err(),
            "http: request body too large"
        );
        assert_eq!(
            decode_first(b"[1, 2]", 3).unwrap_err(),
            "http: request body too large"
        );
        // A syntax error within the limit wins, and so does a whole value.
        assert_eq!(
            decode_first(b"[x, 2, 3]", 3).unwrap_err(),
            "invalid character 'x' looking for beginning of value"
        );
        assert_eq!(decode_first(b"{}    ", 3).unwrap(), J::Obj(vec![]));
        assert_eq!(
            decode_first(b"      ", 3).unwrap_err(),
            "http: request body too large"
        );
    }

    #[test]
    fn strings_as_go_reads_them() {
        let s = |body: &[u8]| match decode_first(body, 100).unwrap() {
            J::Str(s) => s,
            other => panic!("{other:?}"),
        };
        assert_eq!(s(br#""\ud83d\udc4b""#), "\u{1f44b}");
        assert_eq!(s(br#""\ud83dx""#), "\u{fffd}x");
        assert_eq!(s(br#""\udc4b""#), "\u{fffd}");
        assert_eq!(s(b"\"a\xe2\x82(\""), "a\u{fffd}\u{fffd}(");
        assert_eq!(s(br#""\u00e9\/""#), "\u{e9}/");
    }

    #[test]
    fn unmarshal_refuses_trailing_data() {
        assert_eq!(
            unmarshal(b"{} x").unwrap_err(),
            "invalid character 'x' after top-level value"
        );
        assert_eq!(unmarshal(b"{").unwrap_err(), "unexpected end of JSON input");
    }

    #[test]
    fn go_numbers_and_orders() {
        assert_eq!(go_float("1.0").unwrap(), json!(1));
        assert_eq!(go_float("-2.50").unwrap(), json!(-2.5));
        assert_eq!(
            go_float("12345678901234567890").unwrap(),
            json!(12345678901234567000u64)
        );
        assert_eq!(go_float("1e400"), None);
        let j = unmarshal(br#"{"missionId":"m","kind":"ai","b":{"zz":1,"a":2}}"#).unwrap();
        assert_eq!(
            to_jsonb(&j).to_string(),
            r#"{"b":{"a":2,"zz":1},"kind":"ai","missionId":"m"}"#
        );
        assert_eq!(
            sorted(&to_any(&j).unwrap()).to_string(),
            r#"{"b":{"a":2,"zz":1},"kind":"ai","missionId":"m"}"#
        );
        assert_eq!(
            go_quote("up\"sert\u{1}\u{e9}\u{200b}"),
            "\"up\\\"sert\\x01\u{e9}\\u200b\""
        );
        assert_eq!(
            encode(&json!({"t": "<a&b>\u{2028}"})),
            "{\"t\":\"\\u003ca\\u0026b\\u003e\\u2028\"}\n"
        );
    }
}

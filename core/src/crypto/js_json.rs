//! [`to_js_json`]: the text JavaScript's `JSON.stringify` writes for a value.

use std::fmt::Write;

use serde_json::{Map, Number, Value};

/// The largest integer JavaScript holds exactly (2^53).
const MAX_SAFE: u64 = 1 << 53;

/// Writes `value` exactly as JavaScript's `JSON.stringify` would:
///
/// * an object's members in insertion order, except that keys which are
///   array indices (canonical decimal integers from 0 to 4294967294) come
///   first, in ascending numeric order;
/// * numbers as JavaScript prints them: `1e+21`, `1.23e-18`, `0.000001`,
///   `1e-7`; `-0` and `0.0` as `0`; `1.0` as `1`;
/// * strings with only `"`, `\` and control characters escaped (`\b \f \n
///   \r \t`, else `\u00xx`); `/`, U+007F, U+2028, U+2029 and non-ASCII as is.
///
/// Integers beyond 2^53 are written as JavaScript would after reading them
/// (rounded to the nearest double), since that is what the browser encrypts
/// and reads back: `9007199254740993` becomes `9007199254740992`.
///
/// ```
/// # use mana_sync_core::surface as mana_sync_ureq;
/// use mana_sync_ureq::crypto::to_js_json;
/// use serde_json::json;
///
/// assert_eq!(to_js_json(&json!({"b": 1, "2": 2, "1": 1e21})), r#"{"1":1e+21,"2":2,"b":1}"#);
/// ```
pub fn to_js_json(value: &Value) -> String {
    let mut out = String::with_capacity(match value {
        Value::String(s) => s.len().saturating_add(2),
        _ => 64,
    });
    write_value(&mut out, value);
    out
}

/// Appends the `JSON.stringify` text of `value` to `out` (see
/// [`to_js_json`]).
pub(crate) fn write_js_json(out: &mut String, value: &Value) {
    write_value(out, value);
}

/// Whether any byte is one a JSON string cannot hold as it is: `"`, `\` or
/// a control character (below 0x20). All three are ASCII, so never part of
/// a multi-byte character.
pub(crate) fn has_json_special(bytes: &[u8]) -> bool {
    // 32 bytes at a time without stopping early inside a block: each of
    // the three tests is a reduction the compiler turns into a few vector
    // instructions.
    let block_has = |block: &[u8]| {
        let lowest = block.iter().fold(u8::MAX, |m, &b| m.min(b));
        let quote = block.iter().fold(0u8, |a, &b| a | u8::from(b == b'"'));
        let backslash = block.iter().fold(0u8, |a, &b| a | u8::from(b == b'\\'));
        lowest < 0x20 || quote | backslash != 0
    };
    let mut blocks = bytes.chunks_exact(32);
    if blocks.any(block_has) {
        return true;
    }
    // The rest: as the last 32 bytes (overlapping what was checked), or
    // byte by byte in a text shorter than that.
    match bytes
        .len()
        .checked_sub(32)
        .and_then(|start| bytes.get(start..))
    {
        Some(last) => block_has(last),
        None => bytes.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\'),
    }
}

/// Writes `value` without recursion: the containers open are an explicit
/// stack (memory linear in the depth), so a value of any depth is written.
fn write_value(out: &mut String, value: &Value) {
    /// An open container: what is left of it, and whether any was written.
    enum Open<'v> {
        Items(std::slice::Iter<'v, Value>, bool),
        Members(std::vec::IntoIter<(&'v String, &'v Value)>, bool),
    }
    let mut open: Vec<Open<'_>> = Vec::new();
    let mut next = Some(value);
    loop {
        match next.take() {
            Some(Value::Null) => out.push_str("null"),
            Some(Value::Bool(true)) => out.push_str("true"),
            Some(Value::Bool(false)) => out.push_str("false"),
            Some(Value::Number(n)) => write_number(out, n),
            Some(Value::String(s)) => write_string(out, s),
            Some(Value::Array(items)) => {
                out.push('[');
                open.push(Open::Items(items.iter(), false));
            }
            Some(Value::Object(members)) => {
                out.push('{');
                open.push(Open::Members(ordered(members).into_iter(), false));
            }
            None => {}
        }
        let Some(top) = open.last_mut() else {
            return;
        };
        match top {
            Open::Items(items, any) => match items.next() {
                Some(item) => {
                    if std::mem::replace(any, true) {
                        out.push(',');
                    }
                    next = Some(item);
                }
                None => {
                    out.push(']');
                    open.pop();
                }
            },
            Open::Members(members, any) => match members.next() {
                Some((k, v)) => {
                    if std::mem::replace(any, true) {
                        out.push(',');
                    }
                    write_string(out, k);
                    out.push(':');
                    next = Some(v);
                }
                None => {
                    out.push('}');
                    open.pop();
                }
            },
        }
    }
}

/// An array index, as ECMAScript orders own property keys: a canonical
/// decimal integer below 2^32 - 1.
fn array_index(key: &str) -> Option<u32> {
    if key.is_empty() || key.len() > 10 || (key.len() > 1 && key.starts_with('0')) {
        return None;
    }
    if !key.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    key.parse::<u64>()
        .ok()
        .filter(|&n| n < u64::from(u32::MAX))
        .map(|n| n as u32)
}

/// An object's members in the order `JSON.stringify` writes them: array
/// indices ascending, then the other names in insertion order.
fn ordered(members: &Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut indices: Vec<(u32, &String, &Value)> = Vec::new();
    let mut others: Vec<(&String, &Value)> = Vec::new();
    for (k, v) in members {
        match array_index(k) {
            Some(i) => indices.push((i, k, v)),
            None => others.push((k, v)),
        }
    }
    indices.sort_by_key(|(i, _, _)| *i);
    indices
        .into_iter()
        .map(|(_, k, v)| (k, v))
        .chain(others)
        .collect()
}

fn write_number(out: &mut String, n: &Number) {
    if let Some(u) = n.as_u64() {
        if u <= MAX_SAFE {
            let _ = write!(out, "{u}");
            return;
        }
    } else if let Some(i) = n.as_i64() {
        if i.unsigned_abs() <= MAX_SAFE {
            let _ = write!(out, "{i}");
            return;
        }
    }
    match n.as_f64() {
        Some(f) if f.is_finite() => out.push_str(ryu_js::Buffer::new().format_finite(f)),
        // JSON.stringify writes non-finite numbers as null.
        _ => out.push_str("null"),
    }
}

fn write_string(out: &mut String, s: &str) {
    if !has_json_special(s.as_bytes()) {
        out.reserve(s.len().saturating_add(2));
        out.push('"');
        out.push_str(s);
        out.push('"');
        return;
    }
    // Room for the escaped text at once, so the buffer is not moved (and
    // a copy of part of the text left behind) while it is written.
    let extra: usize = s
        .bytes()
        .map(|b| match b {
            b'"' | b'\\' | 0x08 | 0x0c | b'\n' | b'\r' | b'\t' => 1,
            0..0x20 => 5,
            _ => 0,
        })
        .fold(0, usize::saturating_add);
    out.reserve(s.len().saturating_add(2).saturating_add(extra));
    out.push('"');
    // Runs of characters written as they are are copied whole; only `"`,
    // `\` and control characters (all ASCII, so never inside a multi-byte
    // character) break a run.
    let mut run = 0;
    for (i, b) in s.bytes().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0x08 => "\\b",
            0x0c => "\\f",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..0x20 => "",
            _ => continue,
        };
        out.push_str(s.get(run..i).unwrap_or_default());
        if escape.is_empty() {
            let _ = write!(out, "\\u{b:04x}");
        } else {
            out.push_str(escape);
        }
        run = i.saturating_add(1);
    }
    out.push_str(s.get(run..).unwrap_or_default());
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn js(text: &str) -> String {
        to_js_json(&serde_json::from_str(text).unwrap())
    }

    #[test]
    fn strings_escape_as_json_stringify_does() {
        // JSON.stringify and serde_json escape strings alike: `"`, `\\`,
        // the five short forms, other controls as lowercase \u00xx.
        let mut text: String = (0u8..0x80).map(char::from).collect();
        text.push_str("é\u{2028}\u{2029}😀 end\"");
        for s in [text.as_str(), "", "plain", "\"", "a\u{1f}"] {
            let want = serde_json::to_string(s).unwrap();
            assert_eq!(to_js_json(&Value::String(s.into())), want, "{s:?}");
        }
        assert_eq!(
            to_js_json(&serde_json::json!({"a\n": ["\t"]})),
            r#"{"a\n":["\t"]}"#
        );
    }

    #[test]
    fn numbers_as_javascript_prints_them() {
        for (input, want) in [
            ("0", "0"),
            ("-0", "0"),
            ("-0.0", "0"),
            ("1.0", "1"),
            ("1.5", "1.5"),
            ("0.1", "0.1"),
            ("1e21", "1e+21"),
            ("1e20", "100000000000000000000"),
            ("123e-20", "1.23e-18"),
            ("0.000001", "0.000001"),
            ("1e-7", "1e-7"),
            ("9007199254740992", "9007199254740992"),
            ("9007199254740993", "9007199254740992"),
            ("-9007199254740993", "-9007199254740992"),
            ("18446744073709551615", "18446744073709552000"),
            ("123456789012345680000", "123456789012345680000"),
            ("-123456789", "-123456789"),
        ] {
            assert_eq!(js(input), want, "{input}");
        }
    }

    #[test]
    fn index_keys_first() {
        assert_eq!(
            js(r#"{"b":1,"2":2,"1":3,"10":4,"-1":5,"01":6,"4294967295":7,"4294967294":8,"1.5":9}"#),
            r#"{"1":3,"2":2,"10":4,"4294967294":8,"b":1,"-1":5,"01":6,"4294967295":7,"1.5":9}"#
        );
    }

    proptest::proptest! {
        #[test]
        fn special_bytes_are_found_wherever_they_are(
            bytes in proptest::collection::vec(0x1eu8..0x60, 0..100),
            at in 0usize..100,
            special in proptest::sample::select(vec![0u8, 0x1f, b'"', b'\\', b'\n']),
        ) {
            let naive = |b: &[u8]| b.iter().any(|&c| c < 0x20 || c == b'"' || c == b'\\');
            proptest::prop_assert_eq!(has_json_special(&bytes), naive(&bytes));
            let mut with = bytes.clone();
            with.insert(at.min(with.len()), special);
            proptest::prop_assert!(has_json_special(&with));
            let clean: Vec<u8> = bytes.iter().map(|&c| if naive(&[c]) { b'a' } else { c }).collect();
            proptest::prop_assert!(!has_json_special(&clean));
        }
    }

    #[test]
    fn string_escapes() {
        assert_eq!(
            to_js_json(&Value::from("a\"\\\u{0}\u{1f}\u{7f}\u{2028}/é\n")),
            "\"a\\\"\\\\\\u0000\\u001f\u{7f}\u{2028}/é\\n\""
        );
    }
}

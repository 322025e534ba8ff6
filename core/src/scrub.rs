//! Scrubbing secrets out of text kept in an error.
//!
//! A proxy that echoes the request (or a server's debug page) can put the
//! `Authorization` header, the bearer token or a key in a response body, and
//! a body's start is kept in errors. Before it is kept, this removes:
//!
//! * whatever follows `Bearer ` (any case), up to white space or a quote;
//! * anything shaped like a JWT (`eyJ` and at least 8 more base64url
//!   characters, with its dots and later segments);
//! * the string value of any JSON member whose name holds `key`, `token`,
//!   `secret` or `password` (any case), e.g. `"masterKey":"…"`.
//!
//! Then every other occurrence of a secret so found (of 8 characters or
//! more) goes too. It works on a prefix too: a secret cut by the end of the
//! text is still recognised by its start.

/// What a removed secret is replaced with.
pub(crate) const REDACTED: &str = "[redacted]";

/// Secrets at least this long are also removed wherever else they occur in
/// the text; shorter ones would take ordinary words with them.
const ECHOED_MIN: usize = 8;

/// `text` with every secret it recognises replaced by `[redacted]`, and
/// every other occurrence of such a secret too (a key echoed in a message,
/// or inside a member's name).
pub(crate) fn scrub(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut found: Vec<&str> = Vec::new();
    let mut i = 0;
    let mut copied = 0;
    while i < bytes.len() {
        let skip_to = bearer_at(bytes, i)
            .or_else(|| jwt_at(bytes, i).map(|end| (i, end)))
            .or_else(|| secret_member_at(bytes, i));
        match skip_to {
            Some((from, to)) => {
                out.push_str(text.get(copied..from).unwrap_or_default());
                out.push_str(REDACTED);
                found.extend(text.get(from..to));
                copied = to;
                i = to;
            }
            None => i += 1,
        }
    }
    out.push_str(text.get(copied..).unwrap_or_default());
    found.retain(|s| s.len() >= ECHOED_MIN && !REDACTED.contains(*s));
    // Longest first, so that a secret holding another goes whole.
    found.sort_by_key(|s| std::cmp::Reverse(s.len()));
    found.dedup();
    for secret in found {
        if out.contains(secret) {
            out = out.replace(secret, REDACTED);
        }
    }
    out
}

fn is_token_char(b: u8) -> bool {
    !b.is_ascii_whitespace()
        && !matches!(b, b'"' | b'\'' | b',' | b';' | b'<' | b'>')
        && b.is_ascii_graphic()
}

fn is_b64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'=' | b'+' | b'/')
}

/// `Bearer <secret>` at `i`: the range of the secret.
fn bearer_at(bytes: &[u8], i: usize) -> Option<(usize, usize)> {
    let word = bytes.get(i..i.checked_add(6)?)?;
    if !word.eq_ignore_ascii_case(b"bearer") {
        return None;
    }
    if i > 0 && bytes.get(i - 1).is_some_and(u8::is_ascii_alphanumeric) {
        return None;
    }
    let mut start = i + 6;
    let spaces = bytes[start..]
        .iter()
        .take_while(|b| matches!(b, b' ' | b'\t' | b'+') || **b == b'%')
        .count();
    if spaces == 0 {
        return None;
    }
    start += spaces;
    let len = bytes[start..]
        .iter()
        .take_while(|b| is_token_char(**b))
        .count();
    (len > 0).then_some((start, start + len))
}

/// A JWT-shaped run at `i`: where it ends.
fn jwt_at(bytes: &[u8], i: usize) -> Option<usize> {
    if !bytes[i..].starts_with(b"eyJ") {
        return None;
    }
    if i > 0 && bytes.get(i - 1).is_some_and(|b| is_b64url(*b)) {
        return None;
    }
    let len = bytes[i..]
        .iter()
        .take_while(|b| is_b64url(**b) || **b == b'.')
        .count();
    (len >= 11).then_some(i + len)
}

/// `"…key…": "<secret>"` at `i` (at the opening quote of the name): the
/// range of the value's characters.
fn secret_member_at(bytes: &[u8], i: usize) -> Option<(usize, usize)> {
    if bytes[i] != b'"' {
        return None;
    }
    let name_len = bytes[i + 1..].iter().take_while(|b| **b != b'"').count();
    if name_len == 0 || name_len > 64 {
        return None;
    }
    let name = bytes[i + 1..i + 1 + name_len].to_ascii_lowercase();
    let secret = [
        &b"key"[..],
        b"token",
        b"secret",
        b"password",
        b"authorization",
    ]
    .iter()
    .any(|w| name.windows(w.len()).any(|x| x == *w));
    if !secret {
        return None;
    }
    let mut j = i + 1 + name_len + 1;
    while bytes.get(j).is_some_and(u8::is_ascii_whitespace) {
        j += 1;
    }
    if bytes.get(j) != Some(&b':') {
        return None;
    }
    j += 1;
    while bytes.get(j).is_some_and(u8::is_ascii_whitespace) {
        j += 1;
    }
    if bytes.get(j) != Some(&b'"') {
        return None;
    }
    let start = j + 1;
    let mut k = start;
    while let Some(&b) = bytes.get(k) {
        match b {
            b'\\' => k += 2,
            b'"' => break,
            _ => k += 1,
        }
    }
    Some((start, k.min(bytes.len())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_bearer_tokens_jwts_and_key_members() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1LTEifQ.c2lnbmF0dXJl";
        let echo =
            format!("GET /sync HTTP/1.1\r\nAuthorization: Bearer SENTINEL-opaque\r\nX: {jwt}\r\n");
        let s = scrub(&echo);
        assert!(!s.contains("SENTINEL"), "{s}");
        assert!(!s.contains("eyJzdWIi"), "{s}");
        assert!(s.contains("Authorization: Bearer [redacted]"), "{s}");
        let s = scrub(r#"{"masterKey": "AAAAsecretBBBB", "note":"ok", "api_token":"x\"y"}"#);
        assert_eq!(
            s,
            r#"{"masterKey": "[redacted]", "note":"ok", "api_token":"[redacted]"}"#
        );
        // Cut in the middle: still recognised by its start.
        let s = scrub("authorization: bearer eyJhbGciOiJIUz");
        assert_eq!(s, "authorization: bearer [redacted]");
        let s = scrub(r#"{"key":"abc"#);
        assert_eq!(s, r#"{"key":"[redacted]"#);
        // A secret found once goes wherever else it is: echoed in a message,
        // or (found by fuzzing) the start of a member's name, which the
        // member check skips over.
        let s = scrub(r#"{"masterKey":"Zm9vYmFyYmF6cXV4","message":"bad key Zm9vYmFyYmF6cXV4"}"#);
        assert!(!s.contains("Zm9vYmFyYmF6cXV4"), "{s}");
        let s = scrub(r#"{"masterKey":"eyJCAwQFBgLCAwQFc":"eyJCAwQFBgLCAwQFcA0ODsterKey":"x"}"#);
        assert!(!s.contains("eyJCAwQFBgLCAwQFc"), "{s}");
        // A short one does not take ordinary words with it.
        let s = scrub(r#"{"key":"ok","status":"ok"}"#);
        assert_eq!(s, r#"{"key":"[redacted]","status":"ok"}"#);
        // Ordinary text is untouched, multi-byte included.
        assert_eq!(scrub("Grüße: internal error"), "Grüße: internal error");
    }
}

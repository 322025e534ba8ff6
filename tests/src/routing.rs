//! Request targets as Go's `net/http` reads them: the request-line check,
//! `ServeMux`'s path cleaning (with its 301 redirect) and its
//! segment-by-segment unescaping, and `url.ParseQuery`.

use http::{header, Method, Response, StatusCode};

fn hex(c: u8) -> Option<u8> {
    char::from(c)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// Percent-decodes `s`; `plus` turns `+` into a space (query form). `None`
/// for a malformed escape, as Go's `url.PathUnescape` / `QueryUnescape`.
pub(crate) fn unescape(s: &str, plus: bool) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hi = hex(*b.get(i + 1)?)?;
                let lo = hex(*b.get(i + 2)?)?;
                out.push(hi * 16 + lo);
                i += 3;
            }
            b'+' if plus => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Some(out)
}

/// Go's `path.Clean` followed by `ServeMux`'s `cleanPath` (a trailing slash
/// is kept).
pub(crate) fn clean_path(p: &str) -> String {
    if p.is_empty() {
        return "/".into();
    }
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    let mut cleaned = format!("/{}", parts.join("/"));
    if p.ends_with('/') && cleaned != "/" {
        cleaned.push('/');
    }
    cleaned
}

/// The response Go's server writes itself for a request line it cannot
/// parse (a malformed escape in the path): `400 Bad Request`, no newline.
pub(crate) fn bad_request_line() -> Response<Vec<u8>> {
    Response::builder()
        .status(StatusCode::BAD_REQUEST)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .header(header::CONNECTION, "close")
        .body(b"400 Bad Request".to_vec())
        .unwrap_or_default()
}

/// `http.Redirect(w, r, location, 301)`: a short HTML body for GET and
/// HEAD, none otherwise.
pub(crate) fn redirect(method: &Method, location: &str) -> Response<Vec<u8>> {
    let mut b = Response::builder()
        .status(StatusCode::MOVED_PERMANENTLY)
        .header(header::LOCATION, location);
    let body = if method == Method::GET || method == Method::HEAD {
        b = b.header(header::CONTENT_TYPE, "text/html; charset=utf-8");
        let escaped = location
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&#34;")
            .replace('\'', "&#39;");
        format!("<a href=\"{escaped}\">Moved Permanently</a>.\n\n").into_bytes()
    } else {
        Vec::new()
    };
    b.body(body).unwrap_or_default()
}

/// The first value of `name` in a raw query, as Go's `r.URL.Query().Get`:
/// pairs split on `&`; a pair holding `;` or a malformed escape is
/// skipped; `+` is a space. Bytes, as Go strings are.
pub(crate) fn query_get(query: &str, name: &str) -> Option<Vec<u8>> {
    for pair in query.split('&') {
        if pair.is_empty() || pair.contains(';') {
            continue;
        }
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (Some(k), Some(v)) = (unescape(k, true), unescape(v, true)) else {
            continue;
        };
        if k == name.as_bytes() {
            return Some(v);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn paths_as_servemux_cleans_them() {
        for (raw, clean) in [
            ("/sync/todo", "/sync/todo"),
            ("/sync/todo/", "/sync/todo/"),
            ("/sync//todo", "/sync/todo"),
            ("/sync/../health", "/health"),
            ("/sync/./todo/pull", "/sync/todo/pull"),
            ("/..", "/"),
            ("/sync/..%2Fadmin", "/sync/..%2Fadmin"),
            ("/sync/x/..", "/sync"),
            ("/sync/x/../", "/sync/"),
            ("", "/"),
        ] {
            assert_eq!(clean_path(raw), clean, "{raw}");
        }
    }

    #[test]
    fn queries_as_go_parses_them() {
        let q = "collection=tasks&since=2026-01-01T00%3A00%3A00Z&x=a+b&bad=%zz&semi=1;2&collection=other";
        assert_eq!(query_get(q, "collection").unwrap(), b"tasks");
        assert_eq!(query_get(q, "since").unwrap(), b"2026-01-01T00:00:00Z");
        assert_eq!(query_get(q, "x").unwrap(), b"a b");
        assert_eq!(query_get(q, "bad"), None);
        assert_eq!(query_get(q, "semi"), None);
        assert_eq!(query_get("since", "since").unwrap(), b"");
        assert_eq!(unescape("a%2Fb", false).unwrap(), b"a/b");
        assert_eq!(unescape("a%2", false), None);
    }
}

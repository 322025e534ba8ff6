//! Building request URIs and requests: path segments and query values are
//! percent-encoded, so no app id or collection can change the target.

use http::{header, Method, Request, Uri};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::{BaseUrl, Config, Error};

/// Everything but RFC 3986's unreserved characters is encoded.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The `User-Agent` every request carries.
pub(crate) const USER_AGENT: &str = concat!("mana-sync-rs/", env!("CARGO_PKG_VERSION"));

/// Checks a value that becomes one path segment (an app id, say).
pub(crate) fn check_segment(what: &str, value: &str) -> Result<(), Error> {
    if value.is_empty() {
        return Err(Error::InvalidRequest {
            reason: format!("the {what} is empty"),
        });
    }
    if value == "." || value == ".." {
        return Err(Error::InvalidRequest {
            reason: format!("the {what} {value:?} would be read as a relative path"),
        });
    }
    Ok(())
}

/// `{base}/{segments…}?{query…}`, each part encoded.
pub(crate) fn uri(base: &BaseUrl, segments: &[&str], query: &[(&str, &str)]) -> Result<Uri, Error> {
    let mut s = String::from(base.as_str());
    for seg in segments {
        s.push('/');
        s.extend(utf8_percent_encode(seg, COMPONENT));
    }
    for (i, (k, v)) in query.iter().enumerate() {
        s.push(if i == 0 { '?' } else { '&' });
        s.extend(utf8_percent_encode(k, COMPONENT));
        s.push('=');
        s.extend(utf8_percent_encode(v, COMPONENT));
    }
    s.parse().map_err(|e| Error::InvalidRequest {
        reason: format!("could not build a request URI: {e}"),
    })
}

/// A request with the headers every authenticated call carries.
pub(crate) fn authed(
    config: &Config,
    method: Method,
    uri: Uri,
    body: Option<Vec<u8>>,
) -> Result<Request<Vec<u8>>, Error> {
    let mut builder = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::AUTHORIZATION, config.token().header_value())
        .header("x-client-id", config.client_id_header().clone())
        .header(header::ACCEPT, "application/json")
        .header(header::USER_AGENT, USER_AGENT);
    if body.is_some() {
        builder = builder.header(header::CONTENT_TYPE, "application/json");
    }
    finish(builder, body.unwrap_or_default())
}

/// A request with no credentials (health).
pub(crate) fn anonymous(uri: Uri) -> Result<Request<Vec<u8>>, Error> {
    let builder = Request::builder()
        .method(Method::GET)
        .uri(uri)
        .header(header::ACCEPT, "application/json")
        .header(header::USER_AGENT, USER_AGENT);
    finish(builder, Vec::new())
}

fn finish(builder: http::request::Builder, body: Vec<u8>) -> Result<Request<Vec<u8>>, Error> {
    // Every part was checked when it was made (URI parsed, header values
    // validated), so this does not fail in practice.
    builder.body(body).map_err(|e| Error::InvalidRequest {
        reason: format!("could not build the request: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_and_query_are_encoded() {
        let base = BaseUrl::parse("https://h.example/pre/").unwrap();
        let u = uri(
            &base,
            &["sync", "../admin?x=#y", "pull"],
            &[
                ("collection", "a b&c"),
                ("since", "2026-01-01T00:00:00+02:00"),
            ],
        )
        .unwrap();
        assert_eq!(
            u.to_string(),
            "https://h.example/pre/sync/..%2Fadmin%3Fx%3D%23y/pull?collection=a%20b%26c&since=2026-01-01T00%3A00%3A00%2B02%3A00"
        );
        let u = uri(&base, &["sync", "Grüße"], &[]).unwrap();
        assert_eq!(u.path(), "/pre/sync/Gr%C3%BC%C3%9Fe");
    }

    #[test]
    fn dot_segments_are_refused() {
        assert!(check_segment("app id", "..").is_err());
        assert!(check_segment("app id", ".").is_err());
        assert!(check_segment("app id", "").is_err());
        assert!(check_segment("app id", "...").is_ok());
    }
}

//! [`Cors`]: answers browsers' CORS preflights and marks responses for the
//! allowed origins, so that a web app can be developed against the server.
//!
//! docs/PROTOCOL.md does not specify CORS; this follows the common middleware
//! (`rs/cors`) the Go server's kind uses: a preflight (`OPTIONS` with an
//! `Origin` and an `Access-Control-Request-Method`) is answered `204` by
//! the middleware itself, with the `Allow-*` headers only when the origin,
//! the method and every requested header are allowed; every other request
//! goes to the server and, from an allowed origin, gets
//! `Access-Control-Allow-Origin`.

use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Request, Response, StatusCode};

/// The methods a browser may use.
pub const CORS_METHODS: [&str; 3] = ["GET", "POST", "OPTIONS"];
/// The request headers a browser may send.
pub const CORS_HEADERS: [&str; 3] = ["Authorization", "Content-Type", "X-Client-Id"];

/// Which origins may call the server from a browser.
///
/// ```
/// use mana_sync_testkit::{Cors, MemoryServer};
///
/// let server = MemoryServer::new().with_cors(Cors::origins(["http://localhost:5173"]));
/// let preflight = http::Request::builder()
///     .method("OPTIONS")
///     .uri("/sync/todo")
///     .header("origin", "http://localhost:5173")
///     .header("access-control-request-method", "POST")
///     .header("access-control-request-headers", "authorization, content-type")
///     .body(Vec::new())?;
/// let response = server.handle(preflight);
/// assert_eq!(response.status(), 204);
/// assert_eq!(response.headers()["access-control-allow-origin"], "http://localhost:5173");
/// # Ok::<(), http::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cors {
    /// Allowed origins, compared exactly (scheme, host, port); `None`: any.
    origins: Option<Vec<String>>,
}

impl Cors {
    /// Any origin may call.
    pub fn any() -> Cors {
        Cors { origins: None }
    }

    /// Only these origins (e.g. `http://localhost:5173`) may call; `*`
    /// among them allows any.
    pub fn origins<I, S>(origins: I) -> Cors
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let origins: Vec<String> = origins
            .into_iter()
            .map(|o| o.into().trim_end_matches('/').to_owned())
            .collect();
        if origins.iter().any(|o| o == "*") {
            Cors::any()
        } else {
            Cors {
                origins: Some(origins),
            }
        }
    }

    fn allows_origin(&self, origin: &str) -> bool {
        match &self.origins {
            None => true,
            Some(list) => list.iter().any(|o| o.eq_ignore_ascii_case(origin)),
        }
    }

    /// The middleware's own answer to a preflight; `None` for any other
    /// request.
    pub(crate) fn preflight(&self, request: &Request<Vec<u8>>) -> Option<Response<Vec<u8>>> {
        let headers = request.headers();
        let wanted = headers.get(header::ACCESS_CONTROL_REQUEST_METHOD)?;
        if request.method() != Method::OPTIONS {
            return None;
        }
        let mut response = Response::builder()
            .status(StatusCode::NO_CONTENT)
            .header(
                header::VARY,
                "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
            )
            .body(Vec::new())
            .unwrap_or_default();
        let Some(origin) = allowed_origin(self, headers) else {
            return Some(response);
        };
        let method_ok = wanted
            .to_str()
            .is_ok_and(|m| CORS_METHODS.iter().any(|a| a.eq_ignore_ascii_case(m)));
        let asked = headers
            .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let headers_ok = asked
            .split(',')
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .all(|h| CORS_HEADERS.iter().any(|a| a.eq_ignore_ascii_case(h)));
        if method_ok && headers_ok {
            let out = response.headers_mut();
            out.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
            out.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                wanted
                    .to_str()
                    .map_or(HeaderValue::from_static("GET"), |m| {
                        HeaderValue::from_str(&m.to_ascii_uppercase())
                            .unwrap_or(HeaderValue::from_static("GET"))
                    }),
            );
            if !asked.trim().is_empty() {
                if let Ok(v) = HeaderValue::from_str(asked) {
                    out.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, v);
                }
            }
        }
        Some(response)
    }

    /// Marks the server's answer to a request from an allowed origin.
    pub(crate) fn decorate(&self, request: &HeaderMap, response: &mut Response<Vec<u8>>) {
        response
            .headers_mut()
            .append(header::VARY, HeaderValue::from_static("Origin"));
        if let Some(origin) = allowed_origin(self, request) {
            response
                .headers_mut()
                .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        }
    }
}

/// The request's `Origin`, if present and allowed.
fn allowed_origin(cors: &Cors, headers: &HeaderMap) -> Option<HeaderValue> {
    let origin = headers.get(header::ORIGIN)?;
    let text = origin.to_str().ok()?;
    cors.allows_origin(text).then(|| origin.clone())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn preflight(origin: &str, method: &str, headers: &str) -> Request<Vec<u8>> {
        Request::builder()
            .method("OPTIONS")
            .uri("/sync/todo")
            .header("origin", origin)
            .header("access-control-request-method", method)
            .header("access-control-request-headers", headers)
            .body(Vec::new())
            .unwrap()
    }

    #[test]
    fn allowed_origin_method_and_headers_get_the_allow_headers() {
        let cors = Cors::origins(["http://localhost:5173/"]);
        let r = cors
            .preflight(&preflight(
                "http://localhost:5173",
                "post",
                "Authorization, X-Client-Id",
            ))
            .unwrap();
        assert_eq!(r.status(), 204);
        assert_eq!(
            r.headers()["access-control-allow-origin"],
            "http://localhost:5173"
        );
        assert_eq!(r.headers()["access-control-allow-methods"], "POST");
        assert_eq!(
            r.headers()["access-control-allow-headers"],
            "Authorization, X-Client-Id"
        );
    }

    #[test]
    fn refused_preflights_are_204_without_allow_headers() {
        let cors = Cors::origins(["http://localhost:5173"]);
        for request in [
            preflight("http://evil.example", "POST", "authorization"),
            preflight("http://localhost:5173", "DELETE", "authorization"),
            preflight("http://localhost:5173", "POST", "x-other"),
        ] {
            let r = cors.preflight(&request).unwrap();
            assert_eq!(r.status(), 204);
            assert!(r.headers().get("access-control-allow-origin").is_none());
            assert!(r.headers().get("access-control-allow-methods").is_none());
        }
    }

    #[test]
    fn plain_options_and_other_methods_are_not_preflights() {
        let cors = Cors::any();
        let plain = Request::builder()
            .method("OPTIONS")
            .uri("/health")
            .body(Vec::new())
            .unwrap();
        assert!(cors.preflight(&plain).is_none());
        let get = Request::builder()
            .uri("/health")
            .header("access-control-request-method", "GET")
            .body(Vec::new())
            .unwrap();
        assert!(cors.preflight(&get).is_none());
    }

    #[test]
    fn answers_are_marked_for_allowed_origins_only() {
        let cors = Cors::origins(["http://a.test"]);
        let mut headers = HeaderMap::new();
        headers.insert(header::ORIGIN, HeaderValue::from_static("http://a.test"));
        let mut r = Response::new(Vec::new());
        cors.decorate(&headers, &mut r);
        assert_eq!(r.headers()["access-control-allow-origin"], "http://a.test");
        headers.insert(header::ORIGIN, HeaderValue::from_static("http://b.test"));
        let mut r = Response::new(Vec::new());
        cors.decorate(&headers, &mut r);
        assert!(r.headers().get("access-control-allow-origin").is_none());
        assert_eq!(r.headers()["vary"], "Origin");
        assert!(Cors::origins(["*"]).allows_origin("http://any.test"));
    }
}

//! Reading responses: the status table of docs/PROTOCOL.md, and JSON decoding that
//! says where it failed.

use http::{header, Response};
use serde::de::DeserializeOwned;

use crate::error::{bound_text, trim_body};
use crate::{Error, SyncResponse, TransportError};

/// Turns a transport's result into the response, or the error it means.
pub(crate) fn received(
    result: Result<Response<Vec<u8>>, TransportError>,
) -> Result<Response<Vec<u8>>, Error> {
    result.map_err(Error::from)
}

/// Checks the status: `Ok` for 2xx, else the error the status means.
pub(crate) fn check_status(response: &Response<Vec<u8>>) -> Result<(), Error> {
    let status = response.status().as_u16();
    let body = response.body();
    match status {
        200..=299 => Ok(()),
        401 | 403 => Err(Error::Unauthorized {
            status,
            body: trim_body(body),
        }),
        402 => {
            #[derive(serde::Deserialize, Default)]
            struct Payment {
                #[serde(default)]
                error: String,
                #[serde(default)]
                message: String,
            }
            let mut json = serde_json::Deserializer::from_slice(body);
            let parsed: Payment = crate::wire::map_only(&mut json, "a payment error object")
                .and_then(|p| json.end().map(|()| p))
                .unwrap_or_default();
            let raw = trim_body(body);
            Err(Error::PaymentRequired {
                error: if parsed.error.is_empty() {
                    "payment_required".into()
                } else {
                    bound_text(&parsed.error)
                },
                message: if parsed.message.is_empty() {
                    raw.clone()
                } else {
                    bound_text(&parsed.message)
                },
                body: raw,
            })
        }
        400 => Err(Error::BadRequest {
            message: trim_body(body),
        }),
        405 => Err(Error::MethodNotAllowed {
            body: trim_body(body),
        }),
        500..=599 => Err(Error::Server {
            status,
            body: trim_body(body),
        }),
        _ => {
            let mut text = trim_body(body);
            if let Some(location) = response.headers().get(header::LOCATION) {
                let location = bound_text(&String::from_utf8_lossy(location.as_bytes()));
                text = format!(
                    "redirect to {location:?}; set the base URL to the final address. {text}"
                );
            }
            Err(Error::Rejected { status, body: text })
        }
    }
}

/// Checks the status, then reads the body as JSON of type `T`.
pub(crate) fn decode<T: DeserializeOwned>(
    response: &Response<Vec<u8>>,
    what: &'static str,
) -> Result<T, Error> {
    check_status(response)?;
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).to_ascii_lowercase());
    decode_json(response.body(), content_type.as_deref(), what)
}

/// Checks the status, then reads the body as a [`SyncResponse`]: in one
/// pass over the bytes, which it keeps (no copy), when it is the usual
/// page; else as [`decode`] does, which names what is wrong.
pub(crate) fn decode_page(
    response: Response<Vec<u8>>,
    what: &'static str,
) -> Result<SyncResponse, Error> {
    check_status(&response)?;
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).to_ascii_lowercase());
    match SyncResponse::read_fast(response.into_body()) {
        Ok(page) => Ok(page),
        Err(body) => decode_json(&body, content_type.as_deref(), what),
    }
}

/// Reads `body` as JSON of type `T`; a failure says where, what was being
/// read, and (when `content_type` is given and is not JSON) what came instead.
pub(crate) fn decode_json<T: DeserializeOwned>(
    body: &[u8],
    content_type: Option<&str>,
    what: &'static str,
) -> Result<T, Error> {
    let fail = |path: String, message: String| Error::Decode {
        what,
        path: bound_text(&path),
        message: bound_text(&message),
        body: trim_body(body),
    };
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(fail(".".into(), "the body is empty".into()));
    }
    // Decode once without tracking the path (it costs about half again as
    // much); only a body that fails is read again, to name where.
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = match T::deserialize(&mut de) {
        Ok(value) => value,
        Err(_) => return Err(explain::<T>(body, content_type, fail)),
    };
    de.end()
        .map_err(|e| fail(".".into(), format!("trailing data after the JSON: {e}")))?;
    Ok(value)
}

/// The error of a body that failed to decode as `T`: decoded again, this
/// time tracking the path to the failure.
fn explain<T: DeserializeOwned>(
    body: &[u8],
    content_type: Option<&str>,
    fail: impl Fn(String, String) -> Error,
) -> Error {
    let mut de = serde_json::Deserializer::from_slice(body);
    let (path, mut message) = match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Err(e) => (e.path().to_string(), e.into_inner().to_string()),
        // Cannot happen (the same bytes failed a moment ago); said plainly
        // rather than panicking.
        Ok(_) => (".".into(), "the body failed to decode once only".into()),
    };
    if let Some(ct) = content_type.filter(|ct| !ct.contains("json")) {
        message = format!("expected JSON but the content type is {ct:?} ({message})");
    }
    fail(path, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, ct: &str, body: &str) -> Response<Vec<u8>> {
        Response::builder()
            .status(status)
            .header("content-type", ct)
            .body(body.as_bytes().to_vec())
            .unwrap()
    }

    #[test]
    fn statuses_map_to_errors() {
        let e = check_status(&resp(
            402,
            "application/json",
            r#"{"error":"sync_inactive","message":"Sync ist aus"}"#,
        ))
        .unwrap_err();
        match e {
            Error::PaymentRequired { error, message, .. } => {
                assert_eq!(error, "sync_inactive");
                assert_eq!(message, "Sync ist aus");
            }
            other => panic!("{other:?}"),
        }
        let e = check_status(&resp(402, "text/plain", "nope")).unwrap_err();
        assert!(matches!(e, Error::PaymentRequired { ref message, .. } if message == "nope"));
        assert!(matches!(
            check_status(&resp(403, "text/plain", "x")),
            Err(Error::Unauthorized { status: 403, .. })
        ));
        assert!(matches!(
            check_status(&resp(429, "text/plain", "x")),
            Err(Error::Rejected { status: 429, .. })
        ));
        assert!(matches!(
            check_status(&resp(503, "text/html", "<html>")),
            Err(Error::Server { status: 503, .. })
        ));
        let e = check_status(
            &Response::builder()
                .status(301)
                .header("location", "https://other/")
                .body(Vec::new())
                .unwrap(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("https://other/"), "{e}");
    }

    #[test]
    fn decode_errors_say_where() {
        // A malformed change is skipped, not a decode error.
        let body = r#"{"serverChanges":[{"table":"t","id":"1","op":5}],"syncedUntil":"2026-11-24T22:21:44Z"}"#;
        let page =
            decode::<SyncResponse>(&resp(200, "application/json", body), "pull response").unwrap();
        assert!(page.server_changes.is_empty());
        assert_eq!(page.skipped.len(), 1);
        // Envelope-level garbage is, with its path.
        for (body, want) in [
            (
                r#"{"serverChanges":{},"syncedUntil":"2026-11-24T22:21:44Z"}"#,
                "serverChanges",
            ),
            (
                r#"{"serverChanges":[],"conflicts":[5],"syncedUntil":"2026-11-24T22:21:44Z"}"#,
                "conflicts[0]",
            ),
            (r#"{"serverChanges":[]}"#, "."),
            (r#"{"serverChanges":[],"syncedUntil":5}"#, "syncedUntil"),
            (
                r#"{"serverChanges":[],"syncedUntil":"2026-11-24T22:21:44Z","hasMore":"yes"}"#,
                "hasMore",
            ),
            (r#"[[],[],"2026-11-24T22:21:44Z",true]"#, "."),
            (r#"{"serverChanges":[{"table":"t"}"#, "serverChanges"),
        ] {
            let e = decode::<SyncResponse>(&resp(200, "application/json", body), "pull response")
                .unwrap_err();
            match e {
                Error::Decode { path, what, .. } => {
                    assert_eq!(path, want, "{body}");
                    assert_eq!(what, "pull response");
                }
                other => panic!("{other:?}"),
            }
        }
        let e = decode::<SyncResponse>(&resp(200, "application/json", ""), "pull response")
            .unwrap_err();
        assert!(e.to_string().contains("empty"), "{e}");
        let e = decode::<SyncResponse>(&resp(200, "text/html", "<html>hi</html>"), "pull response")
            .unwrap_err();
        assert!(e.to_string().contains("text/html"), "{e}");
        let e = decode::<SyncResponse>(
            &resp(200, "application/json", r#"{"syncedUntil":"yesterday"}"#),
            "pull response",
        )
        .unwrap_err();
        assert!(
            matches!(e, Error::Decode { ref path, .. } if path == "syncedUntil"),
            "{e}"
        );
    }
}

//! [`Error`]: everything that can go wrong, as one enum a caller can match;
//! [`TransportError`]: what a transport reports.

use std::time::Duration;

use crate::limits::ERROR_BODY_CHARS;

/// Which time limit ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeoutKind {
    /// Opening the connection (TCP and TLS).
    Connect,
    /// The whole exchange.
    Total,
    /// The status and headers of a streamed response.
    Head,
    /// Silence while reading a streamed response (a dead connection).
    Idle,
}

impl std::fmt::Display for TimeoutKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TimeoutKind::Connect => "while connecting",
            TimeoutKind::Total => "before the whole response arrived",
            TimeoutKind::Head => "waiting for the stream's response head",
            TimeoutKind::Idle => "with no data on the stream (a dead connection)",
        })
    }
}

/// What a transport reports when an exchange did not produce a response.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// A time limit ran out.
    #[error("timed out {kind} (limit {limit:?})")]
    Timeout {
        /// Which limit.
        kind: TimeoutKind,
        /// Its length.
        limit: Duration,
    },
    /// The response body crossed the cap; the rest was not read.
    #[error("the response body is larger than the {limit}-byte cap")]
    TooLarge {
        /// The cap, in bytes.
        limit: u64,
    },
    /// Anything else: DNS, connection refused or reset, TLS, a broken
    /// response.
    #[error("{message}")]
    Other {
        /// What happened, with the causes, and (when the client's driver
        /// knows it) the `host:port` it tried.
        message: String,
        /// The underlying error, to downcast. Its text and its causes' are
        /// already in `message`, so it is not [`std::error::Error::source`]:
        /// a printer of the chain would show every line twice.
        cause: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
}

impl TransportError {
    /// Wraps any error, with its chain of causes in the message (cut to 500
    /// characters, secrets scrubbed).
    pub fn other(error: impl std::error::Error + Send + Sync + 'static) -> TransportError {
        let mut message = error.to_string();
        let mut cause = error.source();
        while let Some(c) = cause {
            let text = c.to_string();
            if !message.contains(&text) {
                message.push_str(": ");
                message.push_str(&text);
            }
            cause = c.source();
        }
        TransportError::Other {
            message: bound_text(&message),
            cause: Some(Box::new(error)),
        }
    }

    /// A transport failure described by a message only (cut to 500
    /// characters, secrets scrubbed).
    pub fn message(message: impl Into<String>) -> TransportError {
        TransportError::Other {
            message: bound_text(&message.into()),
            cause: None,
        }
    }
}

/// Everything that can go wrong talking to mana-sync.
///
/// Server answers carry the status and the start of the body (at most 500
/// characters). No variant ever holds the bearer token.
///
/// ```
/// # use mana_sync_core::surface as mana_sync_ureq;
/// use mana_sync_ureq::Error;
///
/// fn advice(e: &Error) -> &'static str {
///     match e {
///         Error::Unauthorized { .. } => "log in again",
///         Error::PaymentRequired { .. } => "turn sync on in the settings",
///         e if e.is_transient() => "try again later",
///         _ => "report a bug",
///     }
/// }
/// # let _ = advice;
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// 401 or 403: the token was missing, expired or refused.
    #[error("the server refused the token ({status}): {body}; get a fresh token and try again")]
    Unauthorized {
        /// 401 or 403.
        status: u16,
        /// The server's reason.
        body: String,
    },
    /// 402: the user's sync subscription is not active.
    #[error("sync is not active for this user (402 {error}): {message}")]
    PaymentRequired {
        /// The server's `error` code, e.g. `sync_inactive`.
        error: String,
        /// The server's message, meant for the user.
        message: String,
        /// The raw body, trimmed.
        body: String,
    },
    /// 400: the server found the request malformed.
    #[error("the server refused the request as malformed (400): {message}")]
    BadRequest {
        /// The server's text, e.g. `invalid op "upsert" in change 3`.
        message: String,
    },
    /// 405: the URL does not take that method; usually a wrong base URL.
    #[error("method not allowed (405) at this URL: {body}; check the base URL")]
    MethodNotAllowed {
        /// The server's text.
        body: String,
    },
    /// Any other status that is neither success nor a server error
    /// (404, 408, 409, 429, a redirect, ...). A 404 says that the base URL
    /// (or its path prefix) is probably wrong: every route of the protocol
    /// exists on a real server.
    #[error("the server answered {status}: {body}{}", status_hint(*.status))]
    Rejected {
        /// The status.
        status: u16,
        /// The start of the body.
        body: String,
    },
    /// 5xx: the server or a proxy in front of it failed. Transient.
    #[error("server error {status}: {body}")]
    Server {
        /// The status.
        status: u16,
        /// The start of the body (a proxy's HTML page, say).
        body: String,
    },
    /// The exchange failed below HTTP: DNS, refused, reset, TLS. Transient.
    /// The message names the `host:port` tried and holds the causes (so
    /// the transport error is not also the [`std::error::Error::source`]).
    #[error("could not reach the server: {0}")]
    Transport(TransportError),
    /// A time limit ran out. Transient.
    #[error("timed out {kind} (limit {limit:?})")]
    Timeout {
        /// Which limit.
        kind: TimeoutKind,
        /// Its length.
        limit: Duration,
    },
    /// The response body was larger than the transport's cap.
    #[error(
        "the response is larger than the {limit}-byte cap; raise \
         TransportOptions::max_response_bytes if this is expected"
    )]
    ResponseTooLarge {
        /// The cap, in bytes.
        limit: u64,
    },
    /// A success response that is not what the protocol says it is.
    #[error("could not read the {what}: {message} (at `{path}`); body starts: {body}")]
    Decode {
        /// What was being read, e.g. `pull response`.
        what: &'static str,
        /// Where in the JSON it failed, e.g. `serverChanges[3].op`
        /// (`.` for the top level).
        path: String,
        /// What was wrong.
        message: String,
        /// The start of the body.
        body: String,
    },
    /// The server answered in a way that breaks the protocol's rules (e.g.
    /// `hasMore` without the cursor moving).
    #[error("the server broke the protocol: {reason}")]
    Protocol {
        /// What rule was broken.
        reason: String,
    },
    /// A stream reconnected this many times in a row without delivering
    /// anything new or reaching the head of any collection (see
    /// [`crate::ops::Stream::max_stalled`]).
    #[error(
        "the stream reconnected {reconnects} times in a row without delivering anything new or \
         reaching the head of a collection (last failure: {last}); check the server, the \
         network and the token"
    )]
    Stalled {
        /// Reconnects in a row without progress.
        reconnects: u32,
        /// The last failure (bounded text, never a token).
        last: String,
    },
    /// A push of several requests failed after some were stored. Each change
    /// is stored in its own transaction, so the failed request may have
    /// stored a prefix of its changes: what is known is a range. Pushing the
    /// whole batch again is safe: duplicates are harmless to the fold.
    ///
    /// With retries (the facades' default [`crate::RetryPolicy`]), a request
    /// that fails transiently (a network error, a timeout, 408, 429, 5xx) is
    /// sent again first, and the push goes on: this error appears only when
    /// a request fails permanently (401, 402, 400, ...) or its attempts run
    /// out. To see it in a test, push with [`crate::RetryPolicy::none`], or
    /// fail more requests than there are attempts (the testkit's
    /// `fail_next_requests_to(Endpoint::Push, ..)` aims faults at pushes
    /// only).
    #[error(
        "push stopped after at least {stored_at_least} and at most {stored_at_most} of {total} \
         changes were stored, from the start of the batch ({cause}); pushing the batch again \
         is safe"
    )]
    PartialPush {
        /// Changes surely stored: those of the requests the server answered.
        stored_at_least: usize,
        /// Changes perhaps stored: those and the failed request's (all of
        /// them after a lost answer, none after a 4xx, all but the failing
        /// one after `failed to record change`).
        stored_at_most: usize,
        /// How many the batch held.
        total: usize,
        /// What stopped it (in the message too, so it is not also the
        /// [`std::error::Error::source`]).
        cause: Box<Error>,
    },
    /// The request could not be built from what was given (nothing was sent).
    #[error("invalid request (nothing was sent): {reason}")]
    InvalidRequest {
        /// What is wrong with it.
        reason: String,
    },
    /// A push would have sent, in plaintext, a field the apps keep
    /// encrypted (the config's [`crate::guard::EncryptedFields`]): nothing
    /// was sent. Names the field, never its value.
    #[error(
        "refused before sending: change {index} ({collection}/{change_id}) of app {app_id} holds \
         field `{field}` in plaintext, but the Mana apps keep it encrypted; encrypt it with the \
         user's master key (enc:1:), or turn the plaintext guard off if plaintext is meant"
    )]
    PlaintextField {
        /// The app pushed to.
        app_id: String,
        /// The change's collection (wire name).
        collection: String,
        /// The change's index in what was pushed.
        index: usize,
        /// The change's record id.
        change_id: String,
        /// The field that is in plaintext.
        field: String,
    },
    /// A setting is invalid.
    #[error("invalid configuration: {reason}")]
    InvalidConfig {
        /// What is wrong with it.
        reason: String,
    },
    /// The user is in zero-knowledge mode: the server holds only a key wrapped
    /// with the user's recovery code, so nothing server-side can encrypt or
    /// decrypt for them.
    #[error(
        "the user's vault is zero-knowledge: only their recovery code unlocks the key, so this \
         client cannot read or write their encrypted fields"
    )]
    ZeroKnowledgeUser,
    /// The user never opened the vault (404 `VAULT_NOT_INITIALISED`). The
    /// browser initialises it on first use; a client should not mint a key
    /// behind the user's back.
    #[error("the user's encryption vault is not initialised yet (the user opens it in the app)")]
    VaultNotInitialised,
    /// The vault answered with an unexpected status.
    #[error("fetching the master key failed ({status}): {body}")]
    VaultFetch {
        /// The status.
        status: u16,
        /// The first 200 characters of the body.
        body: String,
    },
    /// A value could not be encrypted or decrypted.
    #[error(transparent)]
    Crypto(#[from] crate::crypto::CryptoError),
    /// A field of a record could not be decrypted.
    #[error(transparent)]
    Field(#[from] crate::crypto::FieldCryptoError),
    /// A record of a typed table could not be read as its type
    /// ([`crate::Listing::all`]); `cause` names the field, never a
    /// decrypted value.
    #[error("record {id:?} cannot be read: {cause}")]
    BadRecord {
        /// The record's id.
        id: String,
        /// Why (in the message too, so it is not also the
        /// [`std::error::Error::source`]).
        cause: Box<Error>,
    },
    /// An operation was driven out of order (a bug in the driver).
    #[error("operation misused: {reason}")]
    Misuse {
        /// What was done out of order.
        reason: &'static str,
    },
}

impl Error {
    /// The HTTP status behind this error, if the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Unauthorized { status, .. }
            | Error::Rejected { status, .. }
            | Error::Server { status, .. }
            | Error::VaultFetch { status, .. } => Some(*status),
            Error::VaultNotInitialised => Some(404),
            Error::PaymentRequired { .. } => Some(402),
            Error::BadRequest { .. } => Some(400),
            Error::MethodNotAllowed { .. } => Some(405),
            Error::PartialPush { cause, .. } => cause.status(),
            _ => None,
        }
    }

    /// Whether trying again later may succeed: network errors, timeouts,
    /// 408, 429 and 5xx (docs/PROTOCOL.md's rule).
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Transport(_) | Error::Timeout { .. } | Error::Server { .. } => true,
            Error::Rejected { status, .. } | Error::VaultFetch { status, .. } => {
                matches!(status, 408 | 429 | 500..=599)
            }
            Error::PartialPush { cause, .. } => cause.is_transient(),
            _ => false,
        }
    }
}

/// What a status says about the setup, after the server's text.
fn status_hint(status: u16) -> &'static str {
    match status {
        404 => {
            "; the base URL (or its path prefix) is probably wrong: every mana-sync route \
             exists on a real server"
        }
        _ => "",
    }
}

impl TransportError {
    /// Names the `host:port` of `uri` in the message (the drivers call
    /// this with each request's URI, so that a refused connection says
    /// where it tried).
    pub fn at(self, uri: &http::Uri) -> TransportError {
        match self {
            TransportError::Other { message, cause } => {
                let Some(host) = uri.host() else {
                    return TransportError::Other { message, cause };
                };
                let port = uri.port_u16().unwrap_or(match uri.scheme_str() {
                    Some("https") => 443,
                    _ => 80,
                });
                TransportError::Other {
                    message: bound_text(&format!("{host}:{port}: {message}")),
                    cause,
                }
            }
            other => other,
        }
    }
}

impl From<TransportError> for Error {
    fn from(e: TransportError) -> Error {
        match e {
            TransportError::Timeout { kind, limit } => Error::Timeout { kind, limit },
            TransportError::TooLarge { limit } => Error::ResponseTooLarge { limit },
            other => Error::Transport(other),
        }
    }
}

/// The start of a body, as text: secrets scrubbed (see [`crate::scrub`]),
/// surrounding white space trimmed, then the first 500 characters.
pub(crate) fn trim_body(body: &[u8]) -> String {
    trim_body_to(body, ERROR_BODY_CHARS)
}

/// The start of a body, at most `chars` characters, secrets scrubbed.
pub(crate) fn trim_body_to(body: &[u8], chars: usize) -> String {
    // Scrub a window a little longer than what is kept, so that a secret
    // that starts before the cut is recognised whole (and a longer one is
    // still recognised by its start).
    let window = body.len().min(chars.saturating_mul(4).saturating_add(8192));
    let text = String::from_utf8_lossy(body.get(..window).unwrap_or(body));
    let text = crate::scrub::scrub(text.trim());
    text.chars().take(chars).collect()
}

/// `text` cut to at most `chars` characters (the last one an ellipsis when
/// it was cut): every text taken from a response goes through this (or
/// [`trim_body`]) before it lands in an error.
pub(crate) fn bound(text: &str, chars: usize) -> String {
    let mut it = text.char_indices();
    match it.nth(chars) {
        None => text.to_owned(),
        Some(_) => {
            let keep = chars.saturating_sub(1);
            let mut out: String = text.chars().take(keep).collect();
            out.push('…');
            out
        }
    }
}

/// [`bound`] to the 500 characters of [`crate::limits::ERROR_BODY_CHARS`],
/// secrets scrubbed.
pub(crate) fn bound_text(text: &str) -> String {
    let window = bound(
        text,
        ERROR_BODY_CHARS.saturating_mul(4).saturating_add(8192),
    );
    bound(&crate::scrub::scrub(&window), ERROR_BODY_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_trimmed_to_500_chars() {
        assert_eq!(trim_body(b"internal error\n"), "internal error");
        let long = "é".repeat(600);
        let t = trim_body(long.as_bytes());
        assert_eq!(t.chars().count(), 500);
        assert_eq!(trim_body(&[0xff, b'a']), "\u{fffd}a");
    }

    #[test]
    fn transience() {
        assert!(Error::Server {
            status: 502,
            body: String::new()
        }
        .is_transient());
        assert!(Error::Rejected {
            status: 429,
            body: String::new()
        }
        .is_transient());
        assert!(!Error::Rejected {
            status: 404,
            body: String::new()
        }
        .is_transient());
        assert!(!Error::BadRequest {
            message: String::new()
        }
        .is_transient());
    }
}

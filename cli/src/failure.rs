//! [`Failure`]: why a command stopped, as an exit code and one line for
//! stderr saying what went wrong and what to try.

use mana_sync_core::crypto::{CryptoError, FieldCryptoError};
use mana_sync_core::Error;

/// Exit code: bad arguments, an unreadable file, a missing option.
pub const USAGE: u8 = 2;
/// Exit code: the token was refused, or sync is not paid for.
pub const UNAUTHORIZED: u8 = 3;
/// Exit code: the server's 400, or input that cannot be sent.
pub const BAD_REQUEST: u8 = 4;
/// Exit code: the server failed, or could not be reached.
pub const SERVER: u8 = 5;
/// Exit code: wrong key, tampered value, no key available.
pub const CRYPTO: u8 = 6;

/// Why a command stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The exit code.
    pub code: u8,
    /// What went wrong and what to try, on one line.
    pub message: String,
}

impl Failure {
    /// A failure with this code and message.
    pub fn new(code: u8, message: impl Into<String>) -> Failure {
        Failure {
            code,
            message: message.into(),
        }
    }

    /// A usage failure (exit 2).
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure::new(USAGE, message)
    }

    /// Input that cannot be sent (exit 4).
    pub fn bad_input(message: impl Into<String>) -> Failure {
        Failure::new(BAD_REQUEST, message)
    }

    /// The message on one line, at most 1000 characters.
    pub fn line(&self) -> String {
        let flat: String = self
            .message
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .take(1000)
            .collect();
        flat.trim().to_owned()
    }

    /// What a library error means here; `url` is the sync URL in use.
    pub fn from_error(error: &Error, url: &str) -> Failure {
        Failure::from_error_at(error, url, "--url (or MANA_SYNC_URL)")
    }

    /// What an error of the vault's (the auth service at `auth_url`) means.
    pub fn from_vault_error(error: &Error, auth_url: &str) -> Failure {
        Failure::from_error_at(error, auth_url, "--auth-url (or MANA_AUTH_URL)")
    }

    /// What a library error means here; `url` is the service's URL in use,
    /// given by `option`.
    fn from_error_at(error: &Error, url: &str, option: &str) -> Failure {
        let text = error.to_string();
        match error {
            Error::Unauthorized { .. } => {
                Failure::new(UNAUTHORIZED, format!("{text} (--token or MANA_TOKEN)"))
            }
            Error::PaymentRequired { .. } => Failure::new(
                UNAUTHORIZED,
                format!("{text}; turn Cloud Sync on in the app's settings"),
            ),
            Error::PlaintextField { .. } => Failure::new(
                BAD_REQUEST,
                format!("{text} (--allow-plaintext sends it as it is)"),
            ),
            Error::BadRequest { .. } | Error::InvalidRequest { .. } => {
                Failure::new(BAD_REQUEST, format!("{text}; fix the input and try again"))
            }
            Error::InvalidConfig { .. } => Failure::new(USAGE, text),
            Error::Transport(_) => Failure::new(
                SERVER,
                format!(
                    "could not reach the server at {url} ({}); check {option} and that the \
                     server is running",
                    text.trim_start_matches("could not reach the server: ")
                ),
            ),
            Error::Timeout { .. } => Failure::new(
                SERVER,
                format!("{text} talking to {url}; try again, or give a larger --timeout"),
            ),
            Error::Server { .. } => Failure::new(SERVER, format!("{text}; try again in a moment")),
            Error::Rejected { .. } | Error::MethodNotAllowed { .. } => Failure::new(
                SERVER,
                format!("{text}; check that {url} is the right server ({option})"),
            ),
            Error::ZeroKnowledgeUser | Error::VaultNotInitialised => {
                Failure::new(CRYPTO, format!("no master key available: {text}"))
            }
            Error::Crypto(e) => Failure::from(e),
            Error::Field(e) => Failure::from(e),
            Error::PartialPush { cause, .. } => {
                Failure::new(Failure::from_error_at(cause, url, option).code, text)
            }
            _ => Failure::new(SERVER, text),
        }
    }
}

impl From<&CryptoError> for Failure {
    fn from(e: &CryptoError) -> Failure {
        let hint = match e {
            CryptoError::Auth => "; check the key (--key-b64, MANA_KEY_B64, or the vault's)",
            CryptoError::InvalidKey { .. } => {
                "; give the 32-byte key as standard base64 (--key-b64 or MANA_KEY_B64)"
            }
            _ => "",
        };
        Failure::new(CRYPTO, format!("{e}{hint}"))
    }
}

impl From<&FieldCryptoError> for Failure {
    fn from(e: &FieldCryptoError) -> Failure {
        let mut failure = Failure::from(&e.error);
        failure.message = format!("field {:?}: {}", e.field, failure.message);
        failure
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_follow_the_kind_of_error() {
        let url = "http://x.test";
        let cases = [
            (
                Error::Unauthorized {
                    status: 401,
                    body: "no".into(),
                },
                UNAUTHORIZED,
            ),
            (
                Error::PaymentRequired {
                    error: "sync_inactive".into(),
                    message: "m".into(),
                    body: String::new(),
                },
                UNAUTHORIZED,
            ),
            (
                Error::BadRequest {
                    message: "m".into(),
                },
                BAD_REQUEST,
            ),
            (
                Error::Server {
                    status: 502,
                    body: String::new(),
                },
                SERVER,
            ),
            (
                Error::Rejected {
                    status: 404,
                    body: String::new(),
                },
                SERVER,
            ),
            (Error::ZeroKnowledgeUser, CRYPTO),
            (Error::VaultNotInitialised, CRYPTO),
            (Error::Crypto(CryptoError::Auth), CRYPTO),
            (Error::InvalidConfig { reason: "r".into() }, USAGE),
            (
                Error::PartialPush {
                    stored_at_least: 1,
                    stored_at_most: 1,
                    total: 2,
                    cause: Box::new(Error::Unauthorized {
                        status: 401,
                        body: String::new(),
                    }),
                },
                UNAUTHORIZED,
            ),
        ];
        for (error, code) in cases {
            assert_eq!(Failure::from_error(&error, url).code, code, "{error}");
        }
    }

    #[test]
    fn the_line_is_one_line() {
        let f = Failure::new(SERVER, "a\nb\r\n");
        assert_eq!(f.line(), "a b");
        assert_eq!(Failure::new(SERVER, "x".repeat(5000)).line().len(), 1000);
    }
}

//! [`CryptoError`]: why a value could not be decrypted or a key read.

/// What went wrong with a key or an `enc:1:` value. No variant holds key
/// material or plaintext.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// Not a well-formed `enc:1:` blob: no `.`, bad base64, an IV that is not
    /// 12 bytes, a ciphertext shorter than the 16-byte tag.
    #[error("malformed encrypted value: {reason}")]
    Malformed {
        /// What is wrong with it.
        reason: String,
    },
    /// Authentication failed: the wrong master key, or the value was altered.
    #[error(
        "authentication failed: the value was encrypted with another master key, or it was altered"
    )]
    Auth,
    /// The decrypted bytes are not UTF-8 JSON (a conforming writer never
    /// produces this).
    #[error("the decrypted value is not UTF-8 JSON: {reason}")]
    Json {
        /// What the parser said.
        reason: String,
    },
    /// A value nested deeper than [`crate::limits::MAX_DEPTH`] levels: it is
    /// not encrypted (it could not be read back), and a decrypted one is
    /// not read.
    #[error("the value is nested deeper than {} levels of arrays and objects (the most this client reads)", crate::limits::MAX_DEPTH)]
    TooDeep,
    /// A master key of the wrong size or encoding.
    #[error("invalid master key: {reason}")]
    InvalidKey {
        /// What is wrong with it (never the key itself).
        reason: String,
    },
    /// The operating system's random number generator failed.
    #[error("no randomness for an IV: {reason}")]
    Random {
        /// What failed.
        reason: String,
    },
}

/// A named field of a record could not be decrypted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("field {field:?}: {error}")]
pub struct FieldCryptoError {
    /// The field.
    pub field: String,
    /// Why (in the message too, so it is not also the
    /// [`std::error::Error::source`]: a printer of the chain would say it
    /// twice).
    pub error: CryptoError,
}

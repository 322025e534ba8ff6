//! [`MasterKey`]: a user's 32-byte AES key.

use std::fmt;

use aes_gcm::aead::KeyInit;
use aes_gcm::Aes256Gcm;
use base64::Engine;
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::CryptoError;

/// A user's 32-byte master key. Zeroed on drop; `Debug` prints
/// `MasterKey([redacted])`; no `Display`.
///
/// The AES-256-GCM cipher (key schedule and GHASH key) is built once, when
/// the key is made, and used for every value; it is wiped on drop too.
///
/// ```
/// use mana_sync_core::crypto::MasterKey;
///
/// let key = MasterKey::from_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")?;
/// assert_eq!(format!("{key:?}"), "MasterKey([redacted])");
/// assert!(MasterKey::from_bytes(&[0u8; 16]).is_err());
/// # Ok::<(), mana_sync_core::crypto::CryptoError>(())
/// ```
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct MasterKey {
    bytes: [u8; 32],
    /// Built from `bytes`; zeroized on drop by aes-gcm's `zeroize` feature.
    #[zeroize(skip)]
    cipher: Box<Aes256Gcm>,
}

impl MasterKey {
    /// A key from exactly 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<MasterKey, CryptoError> {
        let array: [u8; 32] = bytes.try_into().map_err(|_| CryptoError::InvalidKey {
            reason: format!("expected 32 bytes, got {}", bytes.len()),
        })?;
        let cipher = Box::new(Aes256Gcm::new((&array).into()));
        Ok(MasterKey {
            bytes: array,
            cipher,
        })
    }

    /// A key from standard base64 (padded or not) of 32 bytes.
    pub fn from_base64(text: &str) -> Result<MasterKey, CryptoError> {
        let mut bytes =
            super::enc::BASE64
                .decode(text.trim())
                .map_err(|_| CryptoError::InvalidKey {
                    reason: "not standard base64".into(),
                })?;
        let key = MasterKey::from_bytes(&bytes);
        bytes.zeroize();
        key
    }

    /// The raw bytes.
    pub fn expose(&self) -> &[u8; 32] {
        &self.bytes
    }

    /// The cipher of this key, built once.
    pub(crate) fn cipher(&self) -> &Aes256Gcm {
        &self.cipher
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey([redacted])")
    }
}

impl PartialEq for MasterKey {
    /// Constant-time comparison.
    fn eq(&self, other: &Self) -> bool {
        self.bytes
            .iter()
            .zip(other.bytes.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }
}
impl Eq for MasterKey {}

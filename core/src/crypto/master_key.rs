//! [`MasterKey`]: a user's 32-byte AES key.

use std::fmt;
use std::sync::Arc;

use base64::Engine;
use ring::aead::{LessSafeKey, UnboundKey, AES_256_GCM};
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::CryptoError;

/// A user's 32-byte master key. Zeroed on drop; `Debug` prints
/// `MasterKey([redacted])`; no `Display`.
///
/// The AES-256-GCM cipher (key schedule and GHASH table, `ring`'s) is built
/// once, when the key is made, and used for every value; clones share it.
/// The raw bytes are wiped on drop; `ring` does not wipe its key schedule,
/// which is freed with the last clone.
///
/// ```
/// # use mana_sync_core::surface as mana_sync_ureq;
/// use mana_sync_ureq::crypto::MasterKey;
///
/// let key = MasterKey::from_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")?;
/// assert_eq!(format!("{key:?}"), "MasterKey([redacted])");
/// assert!(MasterKey::from_bytes(&[0u8; 16]).is_err());
/// # Ok::<(), mana_sync_ureq::crypto::CryptoError>(())
/// ```
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct MasterKey {
    bytes: [u8; 32],
    /// Built from `bytes` (`ring` does not wipe it when freed).
    #[zeroize(skip)]
    cipher: Arc<LessSafeKey>,
}

impl MasterKey {
    /// A key from exactly 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<MasterKey, CryptoError> {
        let array: [u8; 32] = bytes.try_into().map_err(|_| CryptoError::InvalidKey {
            reason: format!("expected 32 bytes, got {}", bytes.len()),
        })?;
        // AES-256 takes any 32 bytes; `ring` refuses only a wrong length.
        let unbound =
            UnboundKey::new(&AES_256_GCM, &array).map_err(|_| CryptoError::InvalidKey {
                reason: "the AES-256-GCM key schedule could not be built".into(),
            })?;
        let cipher = Arc::new(LessSafeKey::new(unbound));
        Ok(MasterKey {
            bytes: array,
            cipher,
        })
    }

    /// A key from standard base64 (padded or not) of 32 bytes.
    pub fn from_base64(text: &str) -> Result<MasterKey, CryptoError> {
        let mut bytes =
            super::b64::BASE64
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
    pub(crate) fn cipher(&self) -> &LessSafeKey {
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

//! `enc:1:` values: [`encrypt_value`], [`decrypt_value`] and the record
//! helpers.

use aes_gcm::aead::rand_core::{CryptoRng, RngCore};
use aes_gcm::aead::{AeadInPlace, OsRng};
use aes_gcm::{Nonce, Tag};
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use serde_json::{Map, Value};
use zeroize::Zeroizing;

use super::{to_js_json, CryptoError, FieldCryptoError, MasterKey};

/// What every encrypted value starts with.
pub const PREFIX: &str = "enc:1:";

const IV_BYTES: usize = 12;
const TAG_BYTES: usize = 16;

/// Standard alphabet; writes `=` padding, reads with or without it (as the
/// browser's `atob` does).
pub(crate) const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// A 12-byte AES-GCM nonce. Use a fresh one for every value.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Iv([u8; IV_BYTES]);

impl Iv {
    /// An IV from exactly 12 bytes.
    pub fn from_bytes(bytes: [u8; IV_BYTES]) -> Iv {
        Iv(bytes)
    }

    /// An IV from standard base64 of 12 bytes.
    pub fn from_base64(text: &str) -> Result<Iv, CryptoError> {
        // The usual case, 16 characters, without allocating.
        let mut array = [0u8; IV_BYTES];
        if text.len() == 16 && BASE64.decode_slice(text, &mut array) == Ok(IV_BYTES) {
            return Ok(Iv(array));
        }
        let bytes = BASE64.decode(text).map_err(|_| CryptoError::Malformed {
            reason: "the IV is not standard base64".into(),
        })?;
        let array: [u8; IV_BYTES] =
            bytes
                .as_slice()
                .try_into()
                .map_err(|_| CryptoError::Malformed {
                    reason: format!("the IV is {} bytes, not 12", bytes.len()),
                })?;
        Ok(Iv(array))
    }

    /// A fresh IV from `rng`.
    pub fn from_rng<R: RngCore + CryptoRng>(rng: &mut R) -> Result<Iv, CryptoError> {
        let mut bytes = [0u8; IV_BYTES];
        rng.try_fill_bytes(&mut bytes)
            .map_err(|e| CryptoError::Random {
                reason: e.to_string(),
            })?;
        Ok(Iv(bytes))
    }

    /// A fresh IV from the operating system's random number generator.
    pub fn random() -> Result<Iv, CryptoError> {
        Iv::from_rng(&mut OsRng)
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8; IV_BYTES] {
        &self.0
    }
}

impl std::fmt::Debug for Iv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Iv({})", BASE64.encode(self.0))
    }
}

/// Whether `value` is a string in the `enc:1:` format (by its prefix).
///
/// ```
/// use mana_sync_core::crypto::is_encrypted;
/// use serde_json::json;
///
/// assert!(is_encrypted(&json!("enc:1:AQEBAQEBAQEBAQEB.abc")));
/// assert!(!is_encrypted(&json!("Buy milk")));
/// assert!(!is_encrypted(&json!(null)));
/// ```
pub fn is_encrypted(value: &Value) -> bool {
    matches!(value, Value::String(s) if s.starts_with(PREFIX))
}

/// Encrypts one value: `null` stays `null`; anything else becomes the string
/// `enc:1:<base64 iv>.<base64 ciphertext‖tag>` of its `JSON.stringify` text.
///
/// ```
/// use mana_sync_core::crypto::{decrypt_value, encrypt_value, Iv, MasterKey};
/// use serde_json::json;
///
/// let key = MasterKey::from_bytes(&[7; 32])?;
/// let wire = encrypt_value(&key, &Iv::from_bytes([1; 12]), &json!({"title": "Buy milk"}));
/// assert!(wire.as_str().is_some_and(|s| s.starts_with("enc:1:AQEBAQEBAQEBAQEB.")));
/// assert_eq!(decrypt_value(&key, &wire)?, json!({"title": "Buy milk"}));
/// # Ok::<(), mana_sync_core::crypto::CryptoError>(())
/// ```
pub fn encrypt_value(key: &MasterKey, iv: &Iv, value: &Value) -> Value {
    if value.is_null() {
        return Value::Null;
    }
    // Sealed in place: the plaintext buffer becomes the ciphertext, then
    // the tag is appended. AES-GCM of an in-memory buffer below 64 GiB
    // cannot fail; were it to, the value would be written as an empty
    // ciphertext, which fails authentication on reading.
    let mut sealed = Zeroizing::new(to_js_json(value).into_bytes());
    let len = sealed.len();
    match key.cipher().encrypt_in_place_detached(
        Nonce::from_slice(&iv.0),
        b"",
        sealed.as_mut_slice(),
    ) {
        Ok(tag) => {
            sealed.reserve_exact(TAG_BYTES);
            sealed.extend_from_slice(&tag);
        }
        Err(_) => sealed.truncate(0),
    }
    // 6 + 16 + 1 + base64 of len + 16 (4 chars per 3 bytes, rounded up).
    let chars = len
        .saturating_add(TAG_BYTES + 2)
        .saturating_div(3)
        .saturating_mul(4)
        .saturating_add(PREFIX.len() + 17);
    let mut wire = String::with_capacity(chars);
    wire.push_str(PREFIX);
    BASE64.encode_string(iv.0, &mut wire);
    wire.push('.');
    BASE64.encode_string(sealed.as_slice(), &mut wire);
    Value::String(wire)
}

/// Decrypts one value. Anything that is not a string starting with
/// `enc:1:` comes back unchanged.
///
/// ```
/// use mana_sync_core::crypto::{decrypt_value, encrypt_value, CryptoError, Iv, MasterKey};
/// use serde_json::json;
///
/// let key = MasterKey::from_bytes(&[7; 32])?;
/// let wire = encrypt_value(&key, &Iv::random()?, &json!(["a", 1]));
/// assert_eq!(decrypt_value(&key, &wire)?, json!(["a", 1]));
/// assert_eq!(decrypt_value(&key, &json!("plain text"))?, json!("plain text"));
/// let wrong = MasterKey::from_bytes(&[8; 32])?;
/// assert!(matches!(decrypt_value(&wrong, &wire), Err(CryptoError::Auth)));
/// # Ok::<(), CryptoError>(())
/// ```
pub fn decrypt_value(key: &MasterKey, value: &Value) -> Result<Value, CryptoError> {
    let Some(blob) = value.as_str().and_then(|s| s.strip_prefix(PREFIX)) else {
        return Ok(value.clone());
    };
    let (iv, sealed) = blob.split_once('.').ok_or_else(|| CryptoError::Malformed {
        reason: "no `.` between the IV and the ciphertext".into(),
    })?;
    let iv = Iv::from_base64(iv)?;
    let sealed = BASE64.decode(sealed).map_err(|_| CryptoError::Malformed {
        reason: "the ciphertext is not standard base64".into(),
    })?;
    if sealed.len() < TAG_BYTES {
        return Err(CryptoError::Malformed {
            reason: format!(
                "the ciphertext is {} bytes, shorter than the 16-byte tag",
                sealed.len()
            ),
        });
    }
    let mut plaintext = Zeroizing::new(sealed);
    let body = plaintext.len().saturating_sub(TAG_BYTES);
    let tag: [u8; TAG_BYTES] = plaintext
        .get(body..)
        .and_then(|t| t.try_into().ok())
        .ok_or(CryptoError::Auth)?;
    plaintext.truncate(body);
    key.cipher()
        .decrypt_in_place_detached(
            Nonce::from_slice(&iv.0),
            b"",
            plaintext.as_mut_slice(),
            &Tag::from(tag),
        )
        .map_err(|_| CryptoError::Auth)?;
    let text = std::str::from_utf8(&plaintext).map_err(|e| CryptoError::Json {
        reason: format!("not UTF-8: {e}"),
    })?;
    serde_json::from_str(text).map_err(|e| CryptoError::Json {
        reason: format!(
            "{} at line {} column {}",
            classify(&e),
            e.line(),
            e.column()
        ),
    })
}

/// The parser's category, without quoting the plaintext.
fn classify(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Eof => "unexpected end",
        serde_json::error::Category::Syntax => "syntax error",
        serde_json::error::Category::Data => "unexpected data",
        serde_json::error::Category::Io => "read error",
    }
}

/// Encrypts the named fields of a record in place, each with a fresh IV from
/// `rng`. Absent and `null` fields are left alone, and so are fields already
/// in the `enc:1:` format.
///
/// ```
/// use mana_sync_core::crypto::{encrypt_fields, is_encrypted, MasterKey, OsRng};
/// use serde_json::json;
///
/// let key = MasterKey::from_bytes(&[7; 32])?;
/// let mut task = json!({"title": "Steuererklärung", "notes": null, "isCompleted": false})
///     .as_object().cloned().unwrap_or_default();
/// encrypt_fields(&key, &mut task, &["title", "notes", "description"], &mut OsRng)?;
/// assert!(is_encrypted(&task["title"]));
/// assert!(task["notes"].is_null() && !task.contains_key("description"));
/// assert_eq!(task["isCompleted"], false); // not a declared field
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn encrypt_fields<R: RngCore + CryptoRng>(
    key: &MasterKey,
    record: &mut Map<String, Value>,
    fields: &[&str],
    rng: &mut R,
) -> Result<(), CryptoError> {
    for name in fields {
        if let Some(value) = record.get_mut(*name) {
            if value.is_null() || is_encrypted(value) {
                continue;
            }
            let iv = Iv::from_rng(rng)?;
            *value = encrypt_value(key, &iv, value);
        }
    }
    Ok(())
}

/// Decrypts the named fields of a record in place. Fields that are absent or
/// not encrypted are left alone. The error names the field; nothing is
/// changed past it.
///
/// ```
/// use mana_sync_core::crypto::{decrypt_fields, encrypt_fields, MasterKey, OsRng};
/// use serde_json::json;
///
/// let key = MasterKey::from_bytes(&[7; 32])?;
/// let mut task = json!({"title": "Buy milk", "tags": ["home"]}).as_object().cloned().unwrap_or_default();
/// encrypt_fields(&key, &mut task, &["title", "tags"], &mut OsRng)?;
/// decrypt_fields(&key, &mut task, &["title", "tags"])?;
/// assert_eq!(serde_json::Value::Object(task), json!({"title": "Buy milk", "tags": ["home"]}));
///
/// let mut other = json!({"title": "Buy milk"}).as_object().cloned().unwrap_or_default();
/// encrypt_fields(&key, &mut other, &["title"], &mut OsRng)?;
/// let wrong = MasterKey::from_bytes(&[8; 32])?;
/// let error = decrypt_fields(&wrong, &mut other, &["title"]).unwrap_err();
/// assert_eq!(error.field, "title");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn decrypt_fields(
    key: &MasterKey,
    record: &mut Map<String, Value>,
    fields: &[&str],
) -> Result<(), FieldCryptoError> {
    for name in fields {
        if let Some(value) = record.get_mut(*name) {
            *value = decrypt_value(key, value).map_err(|error| FieldCryptoError {
                field: (*name).to_owned(),
                error,
            })?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key(b: u8) -> MasterKey {
        MasterKey::from_bytes(&[b; 32]).unwrap()
    }

    #[test]
    fn every_flipped_byte_fails_authentication() {
        let wire = encrypt_value(&key(1), &Iv::from_bytes([9; 12]), &json!("secret"));
        let blob = wire.as_str().unwrap().strip_prefix(PREFIX).unwrap();
        let (iv, ct) = blob.split_once('.').unwrap();
        let sealed = BASE64.decode(ct).unwrap();
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 0x01;
            let tampered = json!(format!("{PREFIX}{iv}.{}", BASE64.encode(&bad)));
            assert_eq!(
                decrypt_value(&key(1), &tampered),
                Err(CryptoError::Auth),
                "byte {i}"
            );
        }
        assert_eq!(decrypt_value(&key(2), &wire), Err(CryptoError::Auth));
    }

    #[test]
    fn malformed_blobs() {
        for bad in [
            "enc:1:",
            "enc:1:abc",
            "enc:1:AAAA.AAAA",
            "enc:1:AAAAAAAAAAAAAAAA.AAAA",
            "enc:1:AAAAAAAAAAAAAAAA.@@@@",
        ] {
            assert!(
                matches!(
                    decrypt_value(&key(1), &json!(bad)),
                    Err(CryptoError::Malformed { .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn fields_round_trip_and_pass_through() {
        let mut record = json!({"title": "t", "notes": null, "done": false})
            .as_object()
            .cloned()
            .unwrap();
        encrypt_fields(
            &key(3),
            &mut record,
            &["title", "notes", "missing"],
            &mut OsRng,
        )
        .unwrap();
        assert!(is_encrypted(&record["title"]));
        assert!(record["notes"].is_null());
        assert_eq!(record["done"], json!(false));
        let once = record.clone();
        encrypt_fields(&key(3), &mut record, &["title"], &mut OsRng).unwrap();
        assert_eq!(
            record, once,
            "already encrypted fields are not encrypted twice"
        );
        decrypt_fields(&key(3), &mut record, &["title", "notes"]).unwrap();
        assert_eq!(record["title"], json!("t"));
        let mut other = once.clone();
        let err = decrypt_fields(&key(4), &mut other, &["title"]).unwrap_err();
        assert_eq!(err.field, "title");
        assert_eq!(err.error, CryptoError::Auth);
    }
}

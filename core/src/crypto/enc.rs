//! `enc:1:` values: [`encrypt_value`], [`decrypt_value`] and the record
//! helpers.

use std::cell::Cell;

use rand_core::{CryptoRng, RngCore};
use ring::aead::{Aad, Nonce};
use serde_json::{Map, Value};
use zeroize::{Zeroize, Zeroizing};

use super::b64::{self, BASE64};
use super::js_json::{has_json_special, write_js_json};
use super::{CryptoError, FieldCryptoError, MasterKey, PooledOsRng};

/// What every encrypted value starts with.
pub const PREFIX: &str = "enc:1:";

const IV_BYTES: usize = 12;
const TAG_BYTES: usize = 16;

/// The largest sealing buffer a thread keeps between values.
const KEEP_BUFFER_BYTES: usize = 64 * 1024;

thread_local! {
    /// Each thread's buffer for sealing: a value's JSON text is written
    /// into it and encrypted in place, so between values it holds
    /// ciphertext only.
    static SEAL_BUFFER: Cell<String> = const { Cell::new(String::new()) };
}

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
        if let Some(array) = b64::decode_array(text) {
            return Ok(Iv(array));
        }
        let mut bytes = Vec::new();
        b64::decode_append(text, &mut bytes).map_err(|_| CryptoError::Malformed {
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

    /// A fresh IV: 12 bytes from [`PooledOsRng`] (the operating system's
    /// randomness, one system call per 341 IVs; see there about `fork()`).
    ///
    /// ```
    /// # use mana_sync_core::surface as mana_sync_ureq;
    /// use mana_sync_ureq::crypto::Iv;
    ///
    /// assert_ne!(Iv::random()?, Iv::random()?);
    /// # Ok::<(), mana_sync_ureq::crypto::CryptoError>(())
    /// ```
    pub fn random() -> Result<Iv, CryptoError> {
        Iv::from_rng(&mut PooledOsRng)
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8; IV_BYTES] {
        &self.0
    }

    fn nonce(&self) -> Nonce {
        Nonce::assume_unique_for_key(self.0)
    }
}

impl std::fmt::Debug for Iv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use base64::Engine;
        write!(f, "Iv({})", BASE64.encode(self.0))
    }
}

/// Whether `value` is a string in the `enc:1:` format (by its prefix).
///
/// ```
/// # use mana_sync_core::surface as mana_sync_ureq;
/// use mana_sync_ureq::crypto::is_encrypted;
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
/// # use mana_sync_core::surface as mana_sync_ureq;
/// use mana_sync_ureq::crypto::{decrypt_value, encrypt_value, Iv, MasterKey};
/// use serde_json::json;
///
/// let key = MasterKey::from_bytes(&[7; 32])?;
/// let wire = encrypt_value(&key, &Iv::from_bytes([1; 12]), &json!({"title": "Buy milk"}));
/// assert!(wire.as_str().is_some_and(|s| s.starts_with("enc:1:AQEBAQEBAQEBAQEB.")));
/// assert_eq!(decrypt_value(&key, &wire)?, json!({"title": "Buy milk"}));
/// # Ok::<(), mana_sync_ureq::crypto::CryptoError>(())
/// ```
pub fn encrypt_value(key: &MasterKey, iv: &Iv, value: &Value) -> Value {
    if value.is_null() {
        return Value::Null;
    }
    let mut text = SEAL_BUFFER.try_with(Cell::take).unwrap_or_default();
    text.clear();
    // Room for the text and the tag at once (a string's exact size unless
    // it has characters to escape, which reserve their own).
    text.reserve(match value {
        Value::String(s) => s.len().saturating_add(2 + TAG_BYTES),
        _ => 64,
    });
    write_js_json(&mut text, value);
    // Sealed in place: the text becomes the ciphertext, then the tag is
    // appended. AES-GCM of an in-memory buffer below 64 GiB cannot fail;
    // were it to, the value would be written as an empty ciphertext, which
    // is refused on reading.
    let mut sealed = text.into_bytes();
    match key
        .cipher()
        .seal_in_place_separate_tag(iv.nonce(), Aad::empty(), &mut sealed)
    {
        Ok(tag) => sealed.extend_from_slice(tag.as_ref()),
        Err(_) => sealed.zeroize(),
    }
    let chars = b64::encoded_len(sealed.len()).saturating_add(PREFIX.len() + 16 + 1);
    let mut wire = String::with_capacity(chars);
    wire.push_str(PREFIX);
    b64::encode_append(&iv.0, &mut wire);
    wire.push('.');
    b64::encode_append(&sealed, &mut wire);
    // Back to the thread for the next value (it holds ciphertext only).
    sealed.clear();
    if sealed.capacity() <= KEEP_BUFFER_BYTES {
        if let Ok(empty) = String::from_utf8(sealed) {
            let _ = SEAL_BUFFER.try_with(|buffer| buffer.set(empty));
        }
    }
    Value::String(wire)
}

/// Decrypts one value. Anything that is not a string starting with
/// `enc:1:` comes back unchanged.
///
/// ```
/// # use mana_sync_core::surface as mana_sync_ureq;
/// use mana_sync_ureq::crypto::{decrypt_value, encrypt_value, CryptoError, Iv, MasterKey};
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
    // The IV is 16 characters in every blob a conforming writer makes.
    let split = match (blob.as_bytes().get(16), blob.get(..16), blob.get(17..)) {
        (Some(b'.'), Some(iv), Some(sealed)) if !iv.contains('.') => Some((iv, sealed)),
        _ => blob.split_once('.'),
    };
    let (iv, sealed) = split.ok_or_else(|| CryptoError::Malformed {
        reason: "no `.` between the IV and the ciphertext".into(),
    })?;
    let iv = Iv::from_base64(iv)?;
    // Decrypted in place; the buffer is wiped on every way out but one: a
    // plain string's bytes become the returned value.
    let mut buffer = Zeroizing::new(Vec::new());
    b64::decode_append(sealed, &mut buffer).map_err(|_| CryptoError::Malformed {
        reason: "the ciphertext is not standard base64".into(),
    })?;
    if buffer.len() < TAG_BYTES {
        return Err(CryptoError::Malformed {
            reason: format!(
                "the ciphertext is {} bytes, shorter than the 16-byte tag",
                buffer.len()
            ),
        });
    }
    let body = buffer.len().saturating_sub(TAG_BYTES);
    // The last 16 bytes are the tag; the plaintext is left in the first.
    key.cipher()
        .open_in_place(iv.nonce(), Aad::empty(), buffer.as_mut_slice())
        .map_err(|_| CryptoError::Auth)?;
    // The tag stays behind in the spare capacity (it is not secret).
    buffer.truncate(body);
    read_plaintext(buffer)
}

/// The value of a decrypted JSON text.
fn read_plaintext(mut buffer: Zeroizing<Vec<u8>>) -> Result<Value, CryptoError> {
    // The usual value is a string with nothing escaped: `"…"`. Its
    // characters move to the front of the buffer, which becomes the value.
    let len = buffer.len();
    let inner_end = len.saturating_sub(1);
    let plain_string = len >= 2
        && buffer.first() == Some(&b'"')
        && buffer.last() == Some(&b'"')
        && buffer
            .get(1..inner_end)
            .is_some_and(|inner| !has_json_special(inner));
    if plain_string {
        buffer.copy_within(1..inner_end, 0);
        let end = len.saturating_sub(2);
        // What is left past the string: a copy of its last byte, the quote.
        if let Some(rest) = buffer.get_mut(end..) {
            rest.zeroize();
        }
        buffer.truncate(end);
        return match String::from_utf8(std::mem::take(&mut *buffer)) {
            Ok(text) => Ok(Value::String(text)),
            Err(e) => {
                // Named as in the whole text (quotes included).
                let inner = Zeroizing::new(e.into_bytes());
                let mut whole = Zeroizing::new(Vec::with_capacity(len));
                whole.push(b'"');
                whole.extend_from_slice(&inner);
                whole.push(b'"');
                parse_json(&whole)
            }
        };
    }
    parse_json(&buffer)
}

/// Parses a JSON text, quoting none of it in errors.
fn parse_json(bytes: &[u8]) -> Result<Value, CryptoError> {
    let text = std::str::from_utf8(bytes).map_err(|e| CryptoError::Json {
        reason: format!("not UTF-8: {e}"),
    })?;
    if crate::depth::text_deeper_than(bytes, crate::depth::MAX_DEPTH) {
        return Err(CryptoError::TooDeep);
    }
    crate::depth::from_str_measured(text).map_err(|e| CryptoError::Json {
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
/// `rng` ([`PooledOsRng`], or [`OsRng`](super::OsRng) for a system call per
/// IV). Absent and `null` fields are left alone, and so are fields already
/// in the `enc:1:` format.
///
/// ```
/// # use mana_sync_core::surface as mana_sync_ureq;
/// use mana_sync_ureq::crypto::{encrypt_fields, is_encrypted, MasterKey, OsRng};
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
            if crate::depth::value_too_deep(value) {
                return Err(CryptoError::TooDeep);
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
/// # use mana_sync_core::surface as mana_sync_ureq;
/// use mana_sync_ureq::crypto::{decrypt_fields, encrypt_fields, MasterKey, OsRng};
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
    use base64::Engine;
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
            &mut PooledOsRng,
        )
        .unwrap();
        assert!(is_encrypted(&record["title"]));
        assert!(record["notes"].is_null());
        assert_eq!(record["done"], json!(false));
        let once = record.clone();
        encrypt_fields(&key(3), &mut record, &["title"], &mut PooledOsRng).unwrap();
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

    /// An `enc:1:` value of any plaintext bytes, as a writer other than
    /// ours could make one.
    fn seal_raw(key: &MasterKey, plaintext: &[u8]) -> Value {
        let iv = Iv::from_bytes([5; 12]);
        let mut sealed = plaintext.to_vec();
        let tag = key
            .cipher()
            .seal_in_place_separate_tag(iv.nonce(), Aad::empty(), &mut sealed)
            .unwrap();
        sealed.extend_from_slice(tag.as_ref());
        json!(format!(
            "{PREFIX}{}.{}",
            BASE64.encode(iv.0),
            BASE64.encode(&sealed)
        ))
    }

    #[test]
    fn plaintexts_read_as_serde_json_reads_them() {
        let k = key(6);
        let cases: &[&[u8]] = &[
            b"\"\"",
            b"\"plain text, long enough for several words: 0123456789\"",
            b"\"caf\xc3\xa9 \xe2\x80\xa8 \x7f /\"",
            b"\"esc\\\"aped\\n\"",
            b"\"a\"b\"",
            b"\"a\x01\"",
            b"\"a\tb\"",
            b"\"abc\" ",
            b" \"abc\"",
            b"\"",
            b"\"abc",
            b"\"\\\"",
            b"\"\\u00e9\"",
            b"{\"a\":\"b\"}",
            b"12",
            b"",
        ];
        for &plaintext in cases {
            let want = std::str::from_utf8(plaintext)
                .map_err(|e| format!("not UTF-8: {e}"))
                .and_then(|t| serde_json::from_str::<Value>(t).map_err(|e| e.to_string()));
            let got = decrypt_value(&k, &seal_raw(&k, plaintext));
            match (&want, &got) {
                (Ok(w), Ok(g)) => assert_eq!(w, g, "{plaintext:?}"),
                (Err(_), Err(CryptoError::Json { .. })) => {}
                _ => panic!("{plaintext:?}: want {want:?}, got {got:?}"),
            }
        }
    }

    #[test]
    fn invalid_utf8_is_named_as_in_the_whole_text() {
        let k = key(6);
        for (plaintext, index) in [
            (&b"\"abc\xff\""[..], 4),
            (&b"\"\xc3\""[..], 1),
            (&b"\"ok \xe2\x80\""[..], 4),
            (&b"[\"\xff\"]"[..], 2),
        ] {
            let Err(CryptoError::Json { reason }) = decrypt_value(&k, &seal_raw(&k, plaintext))
            else {
                panic!("{plaintext:?} decrypted")
            };
            assert!(reason.starts_with("not UTF-8: "), "{reason}");
            assert!(reason.ends_with(&format!("from index {index}")), "{reason}");
        }
    }

    #[test]
    fn strings_round_trip_with_and_without_escapes() {
        let k = key(7);
        for text in [
            "",
            "x",
            "Steuererklärung 2026 – Belege",
            "quote \" and backslash \\ and\nnewline\u{1}",
            "\u{2028}\u{7f}/😀",
            &"y".repeat(100_000),
        ] {
            let value = json!(text);
            let wire = encrypt_value(&k, &Iv::random().unwrap(), &value);
            assert_eq!(decrypt_value(&k, &wire).unwrap(), value);
        }
        // Non-strings still take the general path.
        for value in [json!(1.5), json!([1, "a"]), json!({"1": true, "b": null})] {
            let wire = encrypt_value(&k, &Iv::random().unwrap(), &value);
            assert_eq!(decrypt_value(&k, &wire).unwrap(), value);
        }
    }

    #[test]
    fn the_thread_buffer_does_not_leak_between_values() {
        // A long value, then a short one: the second ciphertext is as long
        // as its own text, whatever the buffer held before.
        let k = key(8);
        let iv = Iv::from_bytes([3; 12]);
        let long = encrypt_value(&k, &iv, &json!("z".repeat(5000)));
        let short = encrypt_value(&k, &iv, &json!("ab"));
        let fresh = std::thread::spawn(move || {
            encrypt_value(&key(8), &Iv::from_bytes([3; 12]), &json!("ab"))
        })
        .join()
        .unwrap();
        assert_eq!(short, fresh);
        assert!(long.as_str().unwrap().len() > 6000);
        // 4 + 16 bytes: 28 characters after the dot.
        let sealed = short.as_str().unwrap().split_once('.').unwrap().1;
        assert_eq!(sealed.len(), 28);
    }

    #[test]
    fn fresh_ivs_do_not_repeat() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..100_000 {
            assert!(seen.insert(*Iv::random().unwrap().as_bytes()));
        }
        let k = key(9);
        let a = encrypt_value(&k, &Iv::random().unwrap(), &json!("same"));
        let b = encrypt_value(&k, &Iv::random().unwrap(), &json!("same"));
        assert_ne!(a, b);
    }

    #[test]
    fn ivs_from_base64() {
        assert_eq!(
            Iv::from_base64("AQEBAQEBAQEBAQEB"),
            Ok(Iv::from_bytes([1; 12]))
        );
        for bad in [
            "AQEBAQEBAQEBAQEB==",
            "AQEBAQEBAQEBAQE",
            "AQEBAQEBAQEBAQEBAQ==",
            "AQEBAQEBAQEBAQE_",
            "",
        ] {
            assert!(
                matches!(Iv::from_base64(bad), Err(CryptoError::Malformed { .. })),
                "{bad}"
            );
        }
    }
}
